/** A catalog in memory with its topics: the realtime layer's tests and benches, without HTTP. */
import { systemClock } from "../../lib/time/clock.ts";
import { Inventory } from "../../lib/inventory/inventory.ts";
import type { Topic } from "../../lib/realtime/topic.ts";
import { Topics } from "../../lib/realtime/topics.ts";
import type { InventoryStore } from "../../lib/inventory/store_port.ts";
import { openMemoryStore } from "../../lib/store/memory_store.ts";
import { catalogEntries } from "./products.ts";

/** Holds last this long in these shops, in ms: longer than any test. */
const HOLD_TTL_MS = 15 * 60_000;

/** An inventory on a store in memory, and the topics that carry its changes. */
export interface MemoryShop extends AsyncDisposable {
  /** The store. */
  readonly store: InventoryStore;
  /** The inventory. */
  readonly inventory: Inventory;
  /** Its topics. */
  readonly topics: Topics;
  /**
   * A product's topic.
   *
   * @throws {RangeError} For an unknown product.
   */
  topic(id: string): Topic;
}

/**
 * Lists products on a new store in memory and opens their topics.
 *
 * @param totals Each product's id and total.
 * @returns The shop; disposing it closes the topics and the store.
 */
export async function openMemoryShop(totals: Record<string, number>): Promise<MemoryShop> {
  const store = openMemoryStore({ holdTtlMs: HOLD_TTL_MS, clock: systemClock });
  const inventory = await Inventory.open(store, HOLD_TTL_MS);
  for (const entry of catalogEntries(totals)) await inventory.list(entry);
  const topics = new Topics(inventory);
  return {
    store,
    inventory,
    topics,
    topic(id) {
      const topic = topics.product(id);
      if (topic === undefined) throw new RangeError(`No product "${id}" in the test shop`);
      return topic;
    },
    async [Symbol.asyncDispose]() {
      topics.close();
      await store.close();
    },
  };
}
