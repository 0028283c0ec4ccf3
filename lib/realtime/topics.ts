/** Every topic of the shop: one per product and one for the catalog, fed by the inventory. */
import type { Inventory } from "../inventory/inventory.ts";
import type { ProductState } from "../inventory/ledger.ts";
import { catalogEntryJson, productMessage, type StateMessage } from "./message.ts";
import { Topic, type WaiterTally } from "./topic.ts";

/** The name of the catalog's topic. */
export const CATALOG_TOPIC = "*";

interface ProductTopic {
  topic: Topic;
  /** The product's newest record, and the store's epoch it came in. */
  record: ProductState;
  epoch: string;
  /** Its message, once someone asked for it since the record came. */
  message: StateMessage | undefined;
}

/**
 * Keeps a topic per product, with its current message serialized once per change that someone
 * follows or asks for (a change nobody follows writes no JSON), and the
 * catalog topic, whose version is the sum of every product's version plus one: it rises with every
 * change of any product, and with every new product, in every process alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../time/clock.ts";
 * import { Inventory } from "../inventory/inventory.ts";
 * import { openMemoryStore } from "../store/memory_store.ts";
 * const store = openMemoryStore({ holdTtlMs: 60_000, clock: systemClock });
 * const inventory = await Inventory.open(store, 60_000);
 * const topics = new Topics(inventory);
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * await inventory.list({ info, total: 3 });
 * assert.equal(topics.message("a")?.version, 0);
 * assert.equal(topics.catalog.version, 1);
 * await store.close();
 * ```
 */
export class Topics {
  /** Long polls waiting on any topic. */
  readonly tally: WaiterTally = { waiters: 0 };
  /** Every product's changes, for the catalog page. */
  readonly catalog: Topic;
  readonly #inventory: Inventory;
  readonly #products = new Map<string, ProductTopic>();
  #catalogVersion = 0;
  #snapshot: { version: number; json: string } | undefined;
  readonly #unsubscribe: () => void;

  /**
   * Creates the Topics.
   *
   * @param inventory The inventory whose changes the topics carry.
   */
  constructor(inventory: Inventory) {
    this.#inventory = inventory;
    const position = () => ({ epoch: inventory.epoch, version: this.#catalogVersion });
    this.catalog = new Topic(CATALOG_TOPIC, () => this.#catalogSnapshot(), position, this.tally);
    for (const record of inventory.allProducts()) this.#learn(record);
    this.#unsubscribe = inventory.onChange((record) => this.#learn(record));
  }

  /**
   * The topic of a product.
   *
   * @param id The product's id.
   * @returns Its topic (closed when retired), or undefined for an unknown product.
   */
  product(id: string): Topic | undefined {
    return this.#products.get(id)?.topic;
  }

  /**
   * A product's current message.
   *
   * @param id The product's id.
   * @returns The message, or undefined for an unknown product.
   */
  message(id: string): StateMessage | undefined {
    const entry = this.#products.get(id);
    return entry && messageOf(entry);
  }

  /** Answers every waiter and stops following the inventory. For shutdown. */
  close(): void {
    this.#unsubscribe();
    for (const { topic } of this.#products.values()) topic.close();
    this.catalog.close();
  }

  #learn(record: ProductState): void {
    const id = record.info.id;
    const epoch = this.#inventory.epoch;
    let entry = this.#products.get(id);
    // Each product counts its version plus one, so that a new product at version 0 moves it too.
    this.#catalogVersion += record.version - (entry?.record.version ?? -1);
    if (entry === undefined || (entry.topic.closed && !record.retired)) {
      const topic = new Topic(id, () => messageOf(this.#products.get(id)!).json, () => ({
        epoch,
        version: this.#products.get(id)!.record.version,
      }), this.tally);
      entry = { topic, record, epoch, message: undefined };
      this.#products.set(id, entry);
    }
    entry.record = record;
    entry.epoch = epoch;
    entry.message = undefined;
    if (entry.topic.followed) entry.topic.publish(messageOf(entry));
    if (record.retired) entry.topic.close();
    // Nobody to tell, nothing to write: a new follower starts from the snapshot.
    if (!this.catalog.followed) return;
    this.catalog.publish({
      product: id,
      version: this.#catalogVersion,
      cursor: `${epoch}.${this.#catalogVersion}`,
      json: catalogEntryJson(record, messageOf(entry).json),
      last: false,
    });
  }

  #catalogSnapshot(): string {
    if (this.#snapshot?.version !== this.#catalogVersion) {
      const epoch = this.#inventory.epoch;
      this.#snapshot = {
        version: this.#catalogVersion,
        json: `{"epoch":${JSON.stringify(epoch)},"version":${this.#catalogVersion},"products":[${
          this.#inventory.products().map((record) =>
            catalogEntryJson(record, messageOf(this.#products.get(record.info.id)!).json)
          ).join(",")
        }]}`,
      };
    }
    return this.#snapshot.json;
  }
}

/** A product's message, written at the first ask after each change. */
function messageOf(entry: ProductTopic): StateMessage {
  entry.message ??= productMessage(entry.record, entry.epoch);
  return entry.message;
}
