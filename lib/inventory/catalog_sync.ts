/** The rules that bring the store's catalog in line with the catalog file at each start. */
import type { Inventory } from "./inventory.ts";
import type { ProductState } from "./ledger.ts";
import { limitPerShopperOf, type ProductInfo } from "./product.ts";

/** A product as the catalog file lists it. */
export interface CatalogEntry {
  /** What it is. */
  readonly info: ProductInfo;
  /** Its total in the file. */
  readonly total: number;
}

/** The fields of a product's data that the file and the admin API may both set. */
const INFO_FIELDS = [
  "name",
  "description",
  "price",
  "image",
  "limitPerShopper",
  "opensAt",
  "position",
] as const;

/** One of {@linkcode INFO_FIELDS}. */
type InfoField = (typeof INFO_FIELDS)[number];

/**
 * Applies the catalog file to the store, and says what changed, a line per product.
 *
 * - A product in the file and not in the store is added with the file's total.
 * - A product in both takes, of its data (name, description, price, image, limit per shopper,
 *   opening, position), only the fields the file changed since the last start that listed it, so a
 *   value set through the admin API stands until the file's value changes; when it then replaces
 *   such a value, a line says so. A product the file lists for the first time (or listed before
 *   the store kept the file's data) takes all of them. A retired one is listed again.
 * - The file's total is applied only when it differs from the total the file gave at the last
 *   start that applied it: so restocks made through the admin API (and sales) outlive a restart
 *   with an unchanged file, and editing the file's total is a restock. Holds always stay.
 * - A product in the store and not in the file stays as it is, on sale, so that no hold ends
 *   by a restart; retire it through the admin API. One added through the admin API and never in
 *   the file is not mentioned.
 * - The file's data and each product's place in it are kept in the store for the next start,
 *   and for the order of the catalog page.
 *
 * @param inventory The inventory, open on its store.
 * @param entries The file's products.
 * @param forceTotals Apply every total of the file, changed or not (`--inventory` given).
 * @returns One line per change, for the log.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../time/clock.ts";
 * import { Inventory } from "./inventory.ts";
 * import { openMemoryStore } from "../store/memory_store.ts";
 * const store = openMemoryStore({ holdTtlMs: 60_000, clock: systemClock });
 * const inventory = await Inventory.open(store, 60_000);
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * assert.deepEqual(await syncCatalog(inventory, [{ info, total: 5 }], false), [
 *   'Catalog: added "a" (total 5)',
 * ]);
 * assert.deepEqual(await syncCatalog(inventory, [{ info, total: 5 }], false), []);
 * await store.close();
 * ```
 */
export async function syncCatalog(
  inventory: Inventory,
  entries: readonly CatalogEntry[],
  forceTotals: boolean,
): Promise<string[]> {
  const lines: string[] = [];
  const listed = new Set(entries.map((entry) => entry.info.id));
  for (const [place, { info: fileInfo, total }] of entries.entries()) {
    const before = inventory.get(fileInfo.id);
    const totalChanged = before === undefined || forceTotals || before.listedTotal !== total;
    const { info, overridden } = before === undefined
      ? { info: fileInfo, overridden: [] }
      : applyFileChanges(before, fileInfo);
    const { record } = await inventory.list({
      info,
      total: totalChanged ? total : undefined,
      fromFile: totalChanged,
      listed: { info: fileInfo, place },
    });
    if (before === undefined) {
      lines.push(`Catalog: added "${fileInfo.id}" (total ${total})`);
      continue;
    }
    for (const field of overridden) {
      lines.push(
        `Catalog: "${fileInfo.id}" ${field}: the file changed it, so its ${
          show(fileInfo[field])
        } replaces ${show(before.info[field])} set through the admin API`,
      );
    }
    const fields = changedFields(before.info, info);
    if (before.retired) lines.push(`Catalog: listed "${fileInfo.id}" again (it was retired)`);
    if (fields.length > 0) lines.push(`Catalog: updated "${fileInfo.id}" (${fields.join(", ")})`);
    if (before.total !== record.total) {
      lines.push(
        `Catalog: restocked "${fileInfo.id}": total ${before.total} -> ${record.total}` +
          ` (${forceTotals ? "--inventory given" : "the file's total changed"}; holds kept)`,
      );
    }
  }
  for (const record of inventory.products()) {
    const fromFile = (record.listed ?? null) !== null || record.listedTotal !== null;
    if (!listed.has(record.info.id) && fromFile) {
      lines.push(
        `Catalog: kept "${record.info.id}", which the file no longer lists` +
          ` (${record.held} held); retire it with DELETE /admin/products/${record.info.id}`,
      );
    }
  }
  return lines;
}

/**
 * A product's data after a start: the file's value of each field the file changed since it last
 * listed the product, the stored value of every other.
 */
function applyFileChanges(
  before: ProductState,
  fileInfo: ProductInfo,
): { info: ProductInfo; overridden: InfoField[] } {
  const seen = before.listed?.info;
  const info: Record<string, unknown> = { ...before.info };
  const overridden: InfoField[] = [];
  for (const field of INFO_FIELDS) {
    if (seen !== undefined && same(seen[field], fileInfo[field])) continue;
    // The stored value differs from what the file gave last time: the admin API set it.
    if (
      seen !== undefined && !same(before.info[field], seen[field]) &&
      !same(before.info[field], fileInfo[field])
    ) {
      overridden.push(field);
    }
    if (fileInfo[field] === undefined) delete info[field];
    else info[field] = fileInfo[field];
  }
  return { info: info as unknown as ProductInfo, overridden };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function show(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

function changedFields(a: ProductInfo, b: ProductInfo): string[] {
  const fields: string[] = [];
  if (a.name !== b.name) fields.push("name");
  if (a.description !== b.description) fields.push("description");
  if (a.price.amount !== b.price.amount || a.price.currency !== b.price.currency) {
    fields.push("price");
  }
  if (a.image !== b.image) fields.push("image");
  if (limitPerShopperOf(a) !== limitPerShopperOf(b)) fields.push("limitPerShopper");
  if (a.opensAt !== b.opensAt) fields.push("opensAt");
  if (a.position !== b.position) fields.push("position");
  return fields;
}
