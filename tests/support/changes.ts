/** Awaiting an inventory's next change of a product: where a server-side change is the event. */
import type { Inventory } from "../../lib/inventory/inventory.ts";
import type { ProductState } from "../../lib/inventory/ledger.ts";

/**
 * Resolves with the next record of a product that the inventory learns (bound the wait with
 * `within()` of `./within.ts`).
 *
 * @param inventory The inventory, e.g. a test server's.
 * @param product The product's id.
 * @returns Its next record.
 */
export function nextChange(inventory: Inventory, product: string): Promise<ProductState> {
  const { promise, resolve } = Promise.withResolvers<ProductState>();
  const leave = inventory.onChange((record) => {
    if (record.info.id !== product) return;
    leave();
    resolve(record);
  });
  return promise;
}
