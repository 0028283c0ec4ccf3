/** The catalog a start without `--catalog` serves: the demo's one product. */
import type { ProductInfo } from "../inventory/product.ts";

/** The demo's product, a print; its picture is one of the page's static files. */
export const DEMO_PRODUCT: ProductInfo = {
  id: "night-sky-print",
  name: "Night Sky Print",
  description:
    "A signed giclée print, 30 × 40 cm. The stock below is live: it changes the moment " +
    "anyone adds one to their cart or puts one back.",
  price: { amount: "40.00", currency: "EUR" },
  image: "/static/night-sky.svg",
};
