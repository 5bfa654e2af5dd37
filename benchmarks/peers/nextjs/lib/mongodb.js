// One MongoClient for the whole process, as the legacy documents' lib/mongodb.js
// has it: every API route awaits the same connected client.
import { MongoClient } from "mongodb";

const uri = process.env.MONGODB_URI;
if (!uri) {
  throw new Error("MONGODB_URI is not set");
}

let clientPromise;
if (process.env.NODE_ENV === "development") {
  // Hot reloads re-import this module: keep the client on the global object.
  if (!global._mongoClientPromise) {
    global._mongoClientPromise = new MongoClient(uri).connect();
  }
  clientPromise = global._mongoClientPromise;
} else {
  clientPromise = new MongoClient(uri).connect();
}

export async function database() {
  const client = await clientPromise;
  return client.db(process.env.MONGODB_DB || "gateway");
}
