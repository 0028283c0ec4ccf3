/**
 * What this process knows of the shop in Redis: the newest state seen of each product, from its
 * own answers and from the change channel, told to listeners once per newer version.
 */
import type { ProductState } from "../inventory/ledger.ts";
import type { RedisProductState } from "./redis_state.ts";

/**
 * The newest version of each product. Every message carries a product's whole state, so a
 * message that skips versions (others were lost) is itself the newer state; an older or equal
 * one is dropped. What a lost last message hides, the periodic check and the reload after a
 * reconnect find.
 */
export class ProductVersions {
  readonly #records = new Map<string, ProductState>();
  readonly #listeners = new Set<(record: ProductState) => void>();
  readonly #due: (product: string, nextDue: number | null) => void;

  /**
   * Creates the feed.
   *
   * @param due Told every product's next due hold with each state learned, newer or not.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * const info = {
   *   id: "tee",
   *   name: "Tee",
   *   description: "",
   *   image: null,
   *   price: { amount: "15.00", currency: "EUR" },
   * };
   * const record = (version: number) => ({
   *   info, total: 5, held: 0, sold: 0, version, retired: false, listedTotal: null,
   * });
   * const versions = new ProductVersions(() => {});
   * const told: number[] = [];
   * versions.onChange((r) => told.push(r.version));
   * versions.learn({ record: record(2), nextDue: null });
   * versions.learn({ record: record(1), nextDue: null });
   * versions.learn({ record: record(5), nextDue: null });
   * assert.deepEqual(told, [2, 5]);
   * ```
   */
  constructor(due: (product: string, nextDue: number | null) => void) {
    this.#due = due;
  }

  /**
   * Takes in a product's state: told to listeners when it is newer than the one known.
   *
   * @param state The state, from an answer or a message.
   * @returns The newest record known of that product after it.
   */
  learn(state: RedisProductState): ProductState {
    const { record } = state;
    const id = record.info.id;
    this.#due(id, state.nextDue);
    const known = this.#records.get(id);
    if (known !== undefined && known.version >= record.version) return known;
    this.#records.set(id, record);
    for (const listener of this.#listeners) {
      try {
        listener(record);
      } catch (error) {
        console.error("store listener failed:", error);
      }
    }
    return record;
  }

  /**
   * The version known of a product.
   *
   * @param product The product's id.
   * @returns Its version, or undefined for a product never seen.
   */
  versionOf(product: string): number | undefined {
    return this.#records.get(product)?.version;
  }

  /** The products seen, in the order first seen. */
  ids(): string[] {
    return [...this.#records.keys()];
  }

  /** The newest record of every product seen. */
  records(): ProductState[] {
    return [...this.#records.values()];
  }

  /**
   * Registers a listener of newer records.
   *
   * @param listener Called once per newer record.
   * @returns A function that unregisters it.
   */
  onChange(listener: (record: ProductState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
