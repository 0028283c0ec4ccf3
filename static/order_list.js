// The dashboard's list of recent orders, without the page: merging the feed's entries, their words.
// @ts-check

/**
 * @typedef {"sold" | "awaiting payment" | "paid" | "cancelled" | "expired" | "refused" | "failed"} OrderStatus
 * An order's status, as `GET /admin/orders` and the feed's `order` events name it.
 */

/**
 * @typedef {object} OrderEntry
 * One entry of the order log.
 * @property {number} seq Its place in the log: newer entries have higher numbers.
 * @property {string} time When it was recorded, ISO 8601.
 * @property {string} product The product's id.
 * @property {string} orderId
 * @property {OrderStatus} status
 * @property {string} [reason] Why, where there is a reason.
 */

/** The most entries the page keeps, as the server does. */
export const MAX_ORDERS = 100;

/** @type {Record<OrderStatus, string>} The statuses as the owner reads them. */
export const STATUS_WORDS = {
  sold: "Sold",
  "awaiting payment": "Awaiting payment",
  paid: "Paid: sold",
  cancelled: "Cancelled",
  expired: "Expired",
  refused: "Refused",
  failed: "Failed",
};

/**
 * Merges new entries into a list: one per number, newest first, at most {@linkcode MAX_ORDERS}.
 *
 * @param {readonly OrderEntry[]} list The entries shown, newest first.
 * @param {readonly OrderEntry[]} entries New ones, in any order; those known already are left out.
 * @returns {OrderEntry[]} The list to show.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const entry = (seq: number) => ({
 *   seq, time: "2026-12-06T03:00:00.000Z", product: "a", orderId: `o${seq}`, status: "sold" as const,
 * });
 * const list = mergeOrders([entry(2), entry(1)], [entry(3), entry(2)]);
 * assert.deepEqual(list.map((e) => e.seq), [3, 2, 1]);
 * ```
 */
export function mergeOrders(list, entries) {
  /** @type {Map<number, OrderEntry>} */
  const bySeq = new Map();
  for (const entry of [...list, ...entries]) bySeq.set(entry.seq, entry);
  return [...bySeq.values()].sort((a, b) => b.seq - a.seq).slice(0, MAX_ORDERS);
}

/**
 * An entry's time as the owner reads it: date and time of day in the browser's time zone.
 *
 * @param {string} iso The entry's time.
 * @param {string | string[]} [locales] The locales to write it in; the browser's by default.
 * @param {string} [timeZone] The time zone; the browser's by default.
 * @returns {string} The local date and time, or the text as given when it is no date.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(orderTimeText("2026-12-06T03:04:05.000Z", "en-GB", "Europe/Paris"), "06/12/2026, 04:04:05");
 * assert.equal(orderTimeText("soon"), "soon");
 * ```
 */
export function orderTimeText(iso, locales = [], timeZone = undefined) {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  return new Date(at).toLocaleString(locales, {
    dateStyle: "short",
    timeStyle: "medium",
    timeZone,
  });
}
