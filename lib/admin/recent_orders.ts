/** The admin feed's copy of the last orders: kept current from this process's records and the log. */
import { ORDER_LOG_SIZE, type OrderEntry } from "../inventory/order_log.ts";
import type { OrderHistory } from "../inventory/order_history.ts";

/**
 * The last orders as the dashboard's feeds know them, at most 100, newest first. Entries this
 * process records are taken at once; other processes' (a fleet on Redis, a second process on the
 * same Deno KV file) are found by {@linkcode RecentOrders.refresh}, a look at the log's newest
 * number that reads the log only when it has news.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../time/clock.ts";
 * import { OrderHistory } from "../inventory/order_history.ts";
 * import { orderLogInMemory } from "../inventory/order_log.ts";
 * const history = new OrderHistory(orderLogInMemory(), { clock: systemClock, log: () => {} });
 * await history.record({ product: "a", orderId: "o1", status: "sold" });
 * const recent = new RecentOrders(history);
 * assert.deepEqual((await recent.refresh()).map((entry) => entry.orderId), ["o1"]);
 * assert.deepEqual(await recent.refresh(), []);
 * const [entry] = recent.entries;
 * assert.equal(recent.take({ ...entry, seq: 2, orderId: "o2" }), true);
 * assert.equal(recent.take({ ...entry, seq: 2, orderId: "o2" }), false);
 * assert.deepEqual(recent.entries.map((entry) => entry.seq), [2, 1]);
 * ```
 */
export class RecentOrders {
  readonly #history: Pick<OrderHistory, "recent" | "latest">;
  #entries: OrderEntry[] = [];
  /**
   * The log's newest number when it was last read. Not the newest entry known: one this process
   * took may be newer than others' it has not read yet.
   */
  #readUpTo = 0;
  #refreshing: Promise<OrderEntry[]> | undefined;

  /**
   * Makes the copy, empty until the first {@linkcode RecentOrders.refresh} or
   * {@linkcode RecentOrders.take}.
   *
   * @param history The order history it follows.
   */
  constructor(history: Pick<OrderHistory, "recent" | "latest">) {
    this.#history = history;
  }

  /** The entries known, newest first. */
  get entries(): readonly OrderEntry[] {
    return this.#entries;
  }

  /**
   * Takes an entry this process recorded.
   *
   * @param entry The entry.
   * @returns True when it was news (not known yet, and among the newest 100).
   */
  take(entry: OrderEntry): boolean {
    return this.#merge([entry]).length > 0;
  }

  /**
   * Looks for entries recorded elsewhere; looks already under way are shared, not repeated.
   *
   * @returns The entries that were news, oldest first.
   * @throws {Error} When the store cannot be read.
   */
  refresh(): Promise<OrderEntry[]> {
    this.#refreshing ??= this.#look().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #look(): Promise<OrderEntry[]> {
    const latest = await this.#history.latest();
    if (latest === this.#readUpTo) return [];
    const entries = await this.#history.recent();
    const restarted = latest < this.#readUpTo;
    this.#readUpTo = Math.max(latest, entries[0]?.seq ?? 0);
    if (restarted) {
      // The log started again (a Redis emptied, a KV file replaced): what it holds now is the
      // truth; pages learn of it with their next snapshot.
      this.#entries = entries;
      return [];
    }
    return this.#merge(entries);
  }

  /** Merges entries by number; answers those that were news, oldest first. */
  #merge(entries: readonly OrderEntry[]): OrderEntry[] {
    const known = new Set(this.#entries.map((entry) => entry.seq));
    const news = entries.filter((entry) => !known.has(entry.seq));
    if (news.length === 0) return [];
    const merged = [...this.#entries, ...news].sort((a, b) => b.seq - a.seq)
      .slice(0, ORDER_LOG_SIZE);
    const kept = new Set(merged.map((entry) => entry.seq));
    this.#entries = merged;
    return news.filter((entry) => kept.has(entry.seq)).sort((a, b) => a.seq - b.seq);
  }
}
