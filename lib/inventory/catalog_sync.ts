/** The rules that bring the store's catalog in line with the catalog file at each start. */
import type { Inventory } from "./inventory.ts";
import { limitPerShopperOf, type ProductInfo } from "./product.ts";

/** A product as the catalog file lists it. */
export interface CatalogEntry {
  /** What it is. */
  readonly info: ProductInfo;
  /** Its total in the file. */
  readonly total: number;
}

/**
 * Applies the catalog file to the store, and says what changed, a line per product.
 *
 * - A product in the file and not in the store is added with the file's total.
 * - A product in both takes the file's name, description, price and image; a retired one is
 *   listed again.
 * - The file's total is applied only when it differs from the total the file gave at the last
 *   start that applied it: so restocks made through the admin API (and sales) outlive a restart
 *   with an unchanged file, and editing the file's total is a restock. Holds always stay.
 * - A product in the store and not in the file stays as it is, on sale, so that no hold ends
 *   by a restart; retire it through the admin API.
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
  for (const { info, total } of entries) {
    const before = inventory.get(info.id);
    const totalChanged = before === undefined || forceTotals || before.listedTotal !== total;
    const { record } = await inventory.list({
      info,
      total: totalChanged ? total : undefined,
      fromFile: totalChanged,
    });
    if (before === undefined) {
      lines.push(`Catalog: added "${info.id}" (total ${total})`);
      continue;
    }
    const fields = changedFields(before.info, info);
    if (before.retired) lines.push(`Catalog: listed "${info.id}" again (it was retired)`);
    if (fields.length > 0) lines.push(`Catalog: updated "${info.id}" (${fields.join(", ")})`);
    if (before.total !== record.total) {
      lines.push(
        `Catalog: restocked "${info.id}": total ${before.total} -> ${record.total}` +
          ` (${forceTotals ? "--inventory given" : "the file's total changed"}; holds kept)`,
      );
    }
  }
  for (const record of inventory.products()) {
    if (!listed.has(record.info.id)) {
      lines.push(
        `Catalog: kept "${record.info.id}", which the file no longer lists` +
          ` (${record.held} held); retire it with DELETE /admin/products/${record.info.id}`,
      );
    }
  }
  return lines;
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
  return fields;
}
