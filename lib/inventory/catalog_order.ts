/** The order in which the catalog page lists products, the same on every engine. */
import type { ProductState } from "./ledger.ts";

/**
 * Sorts products as the catalog page lists them.
 *
 * A product's rank is its `position` when it has one, else its place in the catalog file (1 for
 * the first product), else, for a product added through the admin API, after all of those. On a
 * tie, a product whose position was given comes before one that only has its place in the file,
 * and a product of the file before one added through the admin API; otherwise they keep the order
 * they are given in (for the products added through the admin API, the order the store lists
 * them in).
 *
 * @param records The products, in the store's order.
 * @returns A new array, sorted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const price = { amount: "1", currency: "EUR" };
 * const product = (id: string, place: number | null, position?: number) => {
 *   const info = { id, name: id, description: "", price, image: null, position };
 *   const listed = place === null ? null : { info, place };
 *   return { info, total: 1, held: 0, sold: 0, version: 0, retired: false, listedTotal: 1, listed };
 * };
 * const sorted = catalogOrder([
 *   product("added", null),
 *   product("zine", 0),
 *   product("badge", 1),
 *   product("poster", 2, 1),
 * ]);
 * assert.deepEqual(sorted.map((record) => record.info.id), ["poster", "zine", "badge", "added"]);
 * ```
 */
export function catalogOrder(records: readonly ProductState[]): ProductState[] {
  return records
    .map((record, index) => ({ record, index, rank: rankOf(record) }))
    .sort((a, b) =>
      a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1] || a.rank[2] - b.rank[2] || a.index - b.index
    )
    .map(({ record }) => record);
}

/** Where a product goes: its position or place, then whether it was given, then where it came from. */
function rankOf(record: ProductState): [number, number, number] {
  const { position } = record.info;
  const place = record.listed?.place;
  if (position !== undefined) return [position, 0, place === undefined ? 1 : 0];
  if (place !== undefined) return [place + 1, 1, 0];
  return [Infinity, 1, 1];
}
