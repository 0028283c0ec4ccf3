/** The order log port: the last checkout outcomes, one entry per change of an order's status. */

/** How many entries the log keeps, on every engine: the newest; older ones are dropped. */
export const ORDER_LOG_SIZE = 100;

/** An order's status, as the dashboard shows it. */
export type OrderStatus =
  /** Sold at once: the order service booked it (2xx), or demo mode. */
  | "sold"
  /** Booked with a payment page (202): the hold awaits payment. */
  | "awaiting payment"
  /** The order service's `paid` callback: sold. */
  | "paid"
  /** The order service's `cancelled` callback: the unit went back. */
  | "cancelled"
  /** Neither callback came in time: the unit went back. */
  | "expired"
  /** The order service refused it (the shopper got 402); the hold stays. */
  | "refused"
  /** The order service failed or did not answer (502 or 504); the hold stays. */
  | "failed";

/** Every status, in the order an order may pass through them. */
export const ORDER_STATUSES: readonly OrderStatus[] = [
  "awaiting payment",
  "sold",
  "paid",
  "cancelled",
  "expired",
  "refused",
  "failed",
];

/** What changed: an order's new status. */
export interface OrderChange {
  /** The product's id. */
  readonly product: string;
  /** The order, as the order service knows it. */
  readonly orderId: string;
  /** Its new status. */
  readonly status: OrderStatus;
  /** Why, where there is a reason (a refusal's, a failure's, an expiry's). */
  readonly reason?: string;
}

/** An entry of the log. */
export interface OrderEntry extends OrderChange {
  /** Its place in the log, from 1, given by the store: newer entries have higher numbers. */
  readonly seq: number;
  /** When it was recorded, in ISO 8601 (UTC). */
  readonly time: string;
}

/**
 * Where the order log is kept, beside the stock (in memory, in the Deno KV file, in Redis), so
 * the dashboard shows the same last orders after a restart and on every process of a fleet.
 */
export interface OrderLog {
  /**
   * Appends an entry, unless the order's newest entry in the log has that status already (a
   * callback asked twice, two processes ending one payment): decided atomically by the store.
   *
   * @param entry The change and its time.
   * @returns The entry with its number, or undefined when it repeated the order's status.
   */
  append(entry: OrderChange & { readonly time: string }): Promise<OrderEntry | undefined>;
  /**
   * Reads the log.
   *
   * @returns At most {@linkcode ORDER_LOG_SIZE} entries, newest first.
   */
  recent(): Promise<OrderEntry[]>;
  /**
   * Reads the newest entry's number, a cheap look for news.
   *
   * @returns It, or 0 for an empty log.
   */
  latest(): Promise<number>;
  /** Lets the engine go. */
  close(): Promise<void>;
}

/**
 * Tells whether an entry would repeat its order's status: the order's newest entry has it.
 *
 * @param entries The log, newest first.
 * @param change The change to append.
 * @returns True when it repeats.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const paid = { seq: 2, time: "2026-12-06T03:00:00.000Z", product: "a", orderId: "o1", status: "paid" as const };
 * assert.equal(repeatsStatus([paid], { product: "a", orderId: "o1", status: "paid" }), true);
 * assert.equal(repeatsStatus([paid], { product: "a", orderId: "o1", status: "cancelled" }), false);
 * assert.equal(repeatsStatus([paid], { product: "a", orderId: "o2", status: "paid" }), false);
 * ```
 */
export function repeatsStatus(entries: readonly OrderEntry[], change: OrderChange): boolean {
  return entries.find((entry) => entry.orderId === change.orderId)?.status === change.status;
}

/**
 * An order log in this process's memory: for a store in memory, which keeps nothing either.
 *
 * @returns The log.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const log = orderLogInMemory();
 * const time = "2026-12-06T03:00:00.000Z";
 * assert.equal((await log.append({ time, product: "a", orderId: "o1", status: "sold" }))?.seq, 1);
 * assert.equal(await log.append({ time, product: "a", orderId: "o1", status: "sold" }), undefined);
 * for (let i = 0; i < 120; i++) await log.append({ time, product: "a", orderId: `p${i}`, status: "refused", reason: "no" });
 * const entries = await log.recent();
 * assert.equal(entries.length, 100);
 * assert.deepEqual([entries[0].seq, entries[99].seq], [121, 22]);
 * assert.equal(await log.latest(), 121);
 * ```
 */
export function orderLogInMemory(): OrderLog {
  let entries: OrderEntry[] = [];
  let latest = 0;
  return {
    append(change) {
      if (repeatsStatus(entries, change)) return Promise.resolve(undefined);
      const entry = orderEntryOf({ ...change, seq: ++latest });
      entries = [entry, ...entries.slice(0, ORDER_LOG_SIZE - 1)];
      return Promise.resolve(entry);
    },
    recent: () => Promise.resolve([...entries]),
    latest: () => Promise.resolve(latest),
    close: () => Promise.resolve(),
  };
}

/**
 * Reads a stored entry, refusing anything else; a `reason` that is absent or null is left out.
 *
 * @param value What the engine gave back.
 * @returns The entry.
 * @throws {TypeError} When it is not an entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const entry = { seq: 1, time: "2026-12-06T03:00:00.000Z", product: "a", orderId: "o1", status: "refused", reason: "Card declined" };
 * assert.deepEqual(orderEntryOf(JSON.parse(JSON.stringify(entry))), entry);
 * assert.throws(() => orderEntryOf({ ...entry, status: "lost" }), TypeError);
 * ```
 */
export function orderEntryOf(value: unknown): OrderEntry {
  const entry = value as Partial<Record<keyof OrderEntry, unknown>> | null;
  const texts = [entry?.time, entry?.product, entry?.orderId];
  if (
    !texts.every((text) => typeof text === "string") ||
    typeof entry?.seq !== "number" || !Number.isSafeInteger(entry.seq) ||
    !ORDER_STATUSES.includes(entry.status as OrderStatus) ||
    (entry.reason !== undefined && entry.reason !== null && typeof entry.reason !== "string")
  ) {
    throw new TypeError(`Stored order entry is not an entry: ${JSON.stringify(value)}`);
  }
  // One shape on every engine: the fields in one order, no reason rather than an empty one.
  return {
    seq: entry.seq,
    time: entry.time as string,
    product: entry.product as string,
    orderId: entry.orderId as string,
    status: entry.status as OrderStatus,
    ...(typeof entry.reason === "string" && { reason: entry.reason }),
  };
}
