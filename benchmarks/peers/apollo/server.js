// Apollo Server 5 standalone: products(first, after) as a connection, read from the
// gateway's database with the official driver (one MongoClient for the process).
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { MongoClient, ObjectId } from "mongodb";

const uri = process.env.MONGODB_URI;
if (!uri) {
  throw new Error("MONGODB_URI is not set");
}
const client = await new MongoClient(uri).connect();
const products = client.db(process.env.MONGODB_DB || "gateway").collection("products");

const typeDefs = `#graphql
  type Product {
    id: ID!
    name: String!
    category: String!
    price: Float!
    description: String
  }

  type PageInfo {
    hasNextPage: Boolean!
    endCursor: String
  }

  type ProductConnection {
    nodes: [Product!]!
    pageInfo: PageInfo!
  }

  type Query {
    products(first: Int = 10, after: String): ProductConnection!
  }
`;

const encodeCursor = (id) => Buffer.from(String(id)).toString("base64url");
const decodeCursor = (cursor) => new ObjectId(Buffer.from(cursor, "base64url").toString());

const resolvers = {
  Query: {
    async products(_parent, { first, after }) {
      const size = Math.min(Math.max(first, 1), 100);
      const query = after ? { _id: { $gt: decodeCursor(after) } } : {};
      // One more than the page: whether there is a next page, without counting.
      const docs = await products.find(query).sort({ _id: 1 }).limit(size + 1).toArray();
      const nodes = docs.slice(0, size);
      return {
        nodes,
        pageInfo: {
          hasNextPage: docs.length > size,
          endCursor: nodes.length ? encodeCursor(nodes[nodes.length - 1]._id) : null,
        },
      };
    },
  },
  Product: {
    id: (doc) => String(doc._id),
  },
};

const server = new ApolloServer({ typeDefs, resolvers });
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port: Number(process.env.PORT || 4000) },
});
console.log(`apollo peer ready at ${url}`);
