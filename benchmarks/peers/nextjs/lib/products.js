// GET /api/products as the legacy route writes it: a category filter, page and
// limit, find().skip().limit(), and a total counted by `count(collection, query)`.
import { database } from "./mongodb";

export function productOut(doc) {
  return {
    id: String(doc._id),
    name: doc.name,
    category: doc.category,
    price: doc.price,
    description: doc.description ?? null,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt ?? null,
  };
}

export function productsRoute(count) {
  return async function handler(req, res) {
    if (req.method !== "GET") {
      res.setHeader("Allow", "GET");
      return res.status(405).json({ error: "Method not allowed" });
    }
    const { category } = req.query;
    const page = parseInt(req.query.page ?? "1", 10);
    const limit = parseInt(req.query.limit ?? "10", 10);
    if (!(page >= 1) || !(limit >= 1 && limit <= 100)) {
      return res.status(400).json({ error: "Invalid pagination parameters" });
    }
    try {
      const db = await database();
      const products = db.collection("products");
      const query = category ? { category: String(category) } : {};
      const [docs, total] = await Promise.all([
        products.find(query).skip((page - 1) * limit).limit(limit).toArray(),
        count(products, query),
      ]);
      return res.status(200).json({
        products: docs.map(productOut),
        pagination: { page, limit, total, pages: Math.ceil(total / limit) },
      });
    } catch (error) {
      console.error(error);
      return res.status(500).json({ error: "Internal server error" });
    }
  };
}
