// As the legacy code is written: the total from countDocuments.
import { productsRoute } from "../../lib/products";

export default productsRoute((collection, query) => collection.countDocuments(query));
