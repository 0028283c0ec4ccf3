/** Products for tests: plain product data, and a catalog of them to start a server with. */
import type { CatalogEntry } from "../../lib/inventory/catalog_sync.ts";
import type { ProductInfo } from "../../lib/inventory/product.ts";
import type { ServerOptions } from "../../lib/server/start_server.ts";

/**
 * A product's data, named after its id, priced 5 EUR, without an image.
 *
 * @param id The product's id.
 * @param fields Fields that differ.
 * @returns The product's data.
 */
export function productInfo(id: string, fields: Partial<ProductInfo> = {}): ProductInfo {
  return {
    id,
    name: `Product ${id}`,
    description: "",
    price: { amount: "5.00", currency: "EUR" },
    image: null,
    ...fields,
  };
}

/**
 * A catalog's entries: one {@linkcode productInfo} per id, with its total.
 *
 * @param totals Each product's id and total, in catalog order.
 * @returns The entries, in that order.
 */
export function catalogEntries(totals: Record<string, number>): CatalogEntry[] {
  return Object.entries(totals).map(([id, total]) => ({ info: productInfo(id), total }));
}

/**
 * A catalog to start a server with, as `startServer` takes it from a loaded file.
 *
 * @param totals Each product's id and total, in catalog order.
 * @returns The catalog's entries, and no images.
 */
export function catalogOf(totals: Record<string, number>): NonNullable<ServerOptions["catalog"]> {
  return { entries: catalogEntries(totals), media: new Map() };
}
