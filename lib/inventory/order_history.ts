/** The shop's order history: records each change of an order's status in the log, and tells who listens. */
import type { Clock } from "../time/clock.ts";
import type { OrderChange, OrderEntry, OrderLog } from "./order_log.ts";

/** What the history needs besides its log. */
export interface OrderHistoryOptions {
  /** Stamps each entry's time. */
  readonly clock: Clock;
  /** Writes a line when the log cannot be written (the store is away). */
  readonly log: (line: string) => void;
}

/**
 * Records checkout outcomes in an {@linkcode OrderLog} and tells this process's listeners (the
 * dashboard's feed) of each new entry. Recording never throws: an order log that cannot be
 * written costs an entry and a log line, never a checkout or a payment.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../time/clock.ts";
 * import { orderLogInMemory } from "./order_log.ts";
 * const history = new OrderHistory(orderLogInMemory(), { clock: systemClock, log: () => {} });
 * const heard: string[] = [];
 * history.onRecord((entry) => heard.push(entry.status));
 * await history.record({ product: "a", orderId: "o1", status: "awaiting payment" });
 * await history.record({ product: "a", orderId: "o1", status: "paid" });
 * await history.record({ product: "a", orderId: "o1", status: "paid" });
 * assert.deepEqual(heard, ["awaiting payment", "paid"]);
 * assert.deepEqual((await history.recent()).map((entry) => entry.status), ["paid", "awaiting payment"]);
 * ```
 */
export class OrderHistory {
  readonly #log: OrderLog;
  readonly #options: OrderHistoryOptions;
  readonly #listeners = new Set<(entry: OrderEntry) => void>();

  /**
   * Makes the history of a log.
   *
   * @param log Where the entries are kept.
   * @param options The clock and the log of failures.
   */
  constructor(log: OrderLog, options: OrderHistoryOptions) {
    this.#log = log;
    this.#options = options;
  }

  /**
   * Records an order's new status, once: a status the order has already is not recorded again.
   *
   * @param change The order and its new status.
   * @returns Once it is written (or could not be); never rejects.
   */
  async record(change: OrderChange): Promise<void> {
    const time = new Date(this.#options.clock.now()).toISOString();
    let entry: OrderEntry | undefined;
    try {
      entry = await this.#log.append({ ...change, time });
    } catch (error) {
      this.#options.log(
        `Order log: order ${change.orderId} ${change.status} not recorded: ${error}`,
      );
      return;
    }
    if (entry === undefined) return;
    for (const listener of this.#listeners) listener(entry);
  }

  /**
   * Registers a listener of the entries this process records.
   *
   * @param listener Called with each new entry.
   * @returns A function that unregisters it.
   */
  onRecord(listener: (entry: OrderEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Reads the last entries, every process's.
   *
   * @returns At most 100, newest first.
   * @throws {Error} When the store cannot be read.
   */
  recent(): Promise<OrderEntry[]> {
    return this.#log.recent();
  }

  /**
   * Reads the newest entry's number, every process's.
   *
   * @returns It, or 0 for none.
   * @throws {Error} When the store cannot be read.
   */
  latest(): Promise<number> {
    return this.#log.latest();
  }
}
