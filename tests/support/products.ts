/** Products for tests: plain product data, and a catalog of them to start a server with. */
import type { CatalogEntry } from "../../lib/inventory/catalog_sync.ts";
import type { ProductInfo } from "../../lib/inventory/product.ts";
import { join } from "node:path";
import { loadCatalogFile } from "../../lib/server/catalog_file.ts";
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

/** The README's example catalog: a print, a tote and a pin, with their images. */
export const EXAMPLE_CATALOG: string = join(
  import.meta.dirname!,
  "..",
  "..",
  "docs",
  "catalog.example.json",
);

/**
 * The example catalog as `startServer` takes it, its images read.
 *
 * @returns Its entries and images.
 */
export async function exampleCatalog(): Promise<NonNullable<ServerOptions["catalog"]>> {
  const { products, media } = await loadCatalogFile(EXAMPLE_CATALOG, { maxProducts: 10 });
  return { entries: products.map(({ total, ...info }) => ({ info, total })), media };
}
