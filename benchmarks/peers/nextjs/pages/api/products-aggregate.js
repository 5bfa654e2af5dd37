// The one fix any reviewer would make: count with an aggregate $match + $count.
import { productsRoute } from "../../lib/products";

async function countByAggregate(collection, query) {
  const [counted] = await collection.aggregate([{ $match: query }, { $count: "n" }]).toArray();
  return counted ? counted.n : 0;
}

export default productsRoute(countByAggregate);
