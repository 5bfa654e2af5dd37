// GET /api/users/[id]: the user with their posts and profile. Posts and profiles
// name their user by the id string, as the gateway stores them.
import { ObjectId } from "mongodb";
import { database } from "../../../lib/mongodb";

function userOut(doc) {
  return {
    id: String(doc._id),
    name: doc.name,
    email: doc.email,
    role: doc.role,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt ?? null,
  };
}

function postOut(doc) {
  return {
    id: String(doc._id),
    title: doc.title,
    content: doc.content,
    authorId: doc.authorId,
    createdAt: doc.createdAt,
  };
}

export default async function handler(req, res) {
  const { id } = req.query;
  if (req.method !== "GET") {
    res.setHeader("Allow", "GET");
    return res.status(405).json({ error: "Method not allowed" });
  }
  if (!ObjectId.isValid(id)) {
    return res.status(400).json({ error: "Invalid user id" });
  }
  try {
    const db = await database();
    const user = await db.collection("users").findOne({ _id: new ObjectId(id) });
    if (!user) {
      return res.status(404).json({ error: "User not found" });
    }
    const posts = await db.collection("posts").find({ authorId: id }).toArray();
    const profile = await db.collection("profiles").findOne({ userId: id });
    return res.status(200).json({
      ...userOut(user),
      posts: posts.map(postOut),
      profile: profile ? { bio: profile.bio ?? null, avatarUrl: profile.avatarUrl ?? null } : null,
    });
  } catch (error) {
    console.error(error);
    return res.status(500).json({ error: "Internal server error" });
  }
}
