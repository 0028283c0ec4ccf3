/** The rules of the shop: hold, release, restock, describe, retire and expire, on one stock. */
import type { Hold, Stock } from "./ledger.ts";
import { limitPerShopperOf, MAX_TOTAL, type ProductInfo } from "./product.ts";
import type { CheckoutRefusal, Refusal } from "./refusal.ts";

/** What a rule decided on one product: done (and whether the session holds a unit) or refused. */
export type ProductDecision =
  | { readonly ok: true; readonly inCart: boolean }
  | { readonly ok: false; readonly reason: Refusal; readonly retryAfterMs?: number };

/** The live holds of one client address over every product: how many, and when the first ends. */
export interface ClientHeld {
  /** Holds that have not ended. */
  readonly count: number;
  /** When the first of them ends, in ms since the epoch; Infinity for none, or while all are checked out. */
  readonly firstEnd: number;
}

/** A client address taking a hold: its key, its limit (0: none) and its holds now, read on demand. */
export interface TakingClient {
  /** The client's key, kept with the hold. */
  readonly key: string;
  /** The most holds at once; 0 counts none. */
  readonly maxHolds: number;
  /** Reads its live holds over every product (only when the limit is checked). */
  held(): ClientHeld;
}

/** The most holds one change may end; larger sweeps are split over several changes. */
export const MAX_EXPIRIES_PER_CHANGE = 500;

/**
 * Puts one unit in a session's cart unless none is left, or the session bought as many as its
 * limit per shopper allows; a session that holds one keeps it as it is.
 *
 * Each session holds at most one unit of a product, so adds are idempotent. Adding again does not
 * extend a hold: it lasts `holdTtlMs` from when it was taken, or a script that re-adds could keep
 * units from shoppers for ever.
 *
 * @param stock The product, with its due holds already expired.
 * @param session The shopper's session id.
 * @param now The time.
 * @param holdTtlMs How long the hold lasts.
 * @param client The client address taking it, and its limit of holds at once; none counts none.
 * @returns `inCart: true`, or the refusal (too many holds with how long until its first ends).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalStock } from "../store/local_stock.ts";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const stock = LocalStock.of(info, 1);
 * assert.deepEqual(takeUnit(stock, "s1", 0, 1000), { ok: true, inCart: true });
 * assert.deepEqual(takeUnit(stock, "s1", 500, 1000), { ok: true, inCart: true });
 * assert.equal(stock.holdOf("s1")?.expiresAt, 1000);
 * assert.deepEqual(takeUnit(stock, "s2", 0, 1000), { ok: false, reason: "sold out" });
 * ```
 */
export function takeUnit(
  stock: Stock,
  session: string,
  now: number,
  holdTtlMs: number,
  client?: TakingClient,
): ProductDecision {
  if (stock.retired) return { ok: false, reason: "retired" };
  if (stock.holdOf(session) !== undefined) return { ok: true, inCart: true };
  // The hold it would take counts: the units bought plus the one held never pass the limit.
  const bought = stock.saleOf(session)?.count ?? 0;
  if (bought + 1 > limitPerShopperOf(stock.info)) return { ok: false, reason: "limit per shopper" };
  if (stock.held >= stock.total) return { ok: false, reason: "sold out" };
  if (client !== undefined && client.maxHolds > 0) {
    const held = client.held();
    if (held.count >= client.maxHolds) {
      // A hold being checked out has no end: its place frees at the latest when a hold would.
      const end = Number.isFinite(held.firstEnd) ? held.firstEnd : now + holdTtlMs;
      return { ok: false, reason: "too many holds", retryAfterMs: Math.max(0, end - now) };
    }
  }
  const hold = { expiresAt: now + holdTtlMs, heldAt: now, orderId: null, checkingOut: false };
  stock.hold(session, client === undefined ? hold : { ...hold, client: client.key });
  stock.version++;
  return { ok: true, inCart: true };
}

/**
 * Takes a session's unit out of its cart; does nothing when it holds none.
 *
 * A hold being checked out stays: the shopper is being charged for it.
 *
 * @param stock The product.
 * @param session The shopper's session id.
 * @returns `inCart: false`, or the refusal for a retired product or a checkout in flight.
 */
export function releaseUnit(stock: Stock, session: string): ProductDecision {
  if (stock.retired) return { ok: false, reason: "retired" };
  const held = stock.holdOf(session);
  if (held !== undefined && isPinned(held)) return { ok: false, reason: "checkout in progress" };
  if (held !== undefined) {
    stock.release(session);
    stock.version++;
  }
  return { ok: true, inCart: false };
}

/**
 * Sets the total. Holds stay: below what is held, nothing more is sold until it is back above.
 *
 * @param stock The product.
 * @param total The new total, a whole number from 0 to {@linkcode MAX_TOTAL}.
 * @throws {RangeError} For another total.
 */
export function restock(stock: Stock, total: number): void {
  checkTotal(total);
  if (total === stock.total) return;
  stock.total = total;
  stock.version++;
}

/**
 * Gives a product new descriptive data, and lists it again if it was retired.
 *
 * @param stock The product.
 * @param info Its new data (same id).
 * @throws {RangeError} When the id differs.
 */
export function describe(stock: Stock, info: ProductInfo): void {
  if (info.id !== stock.info.id) {
    throw new RangeError(`Product id "${info.id}" is not "${stock.info.id}"`);
  }
  if (!stock.retired && sameInfo(info, stock.info)) return;
  stock.info = info;
  stock.retired = false;
  stock.version++;
}

/**
 * Retires a product, a step at a time: it is no longer sold, and every hold of it ends, but those
 * being checked out (their shoppers are being charged), which end as their checkouts do. One step
 * ends at most {@linkcode MAX_EXPIRIES_PER_CHANGE} holds, so that a store commits each step at
 * once; the product is retired by the step that ends the last of them.
 *
 * @param stock The product.
 * @returns True once the product is retired; false when more holds are left to end first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalStock } from "../store/local_stock.ts";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const stock = LocalStock.of(info, 1);
 * takeUnit(stock, "s1", 0, 1000);
 * assert.equal(retire(stock), true);
 * assert.equal(stock.held, 0);
 * assert.equal(stock.retired, true);
 * ```
 */
export function retire(stock: Stock): boolean {
  if (stock.retired) return true;
  const ending = [...stock.holds()].filter(([, hold]) => !isPinned(hold));
  for (const [session] of ending.slice(0, MAX_EXPIRIES_PER_CHANGE)) stock.release(session);
  const done = ending.length <= MAX_EXPIRIES_PER_CHANGE;
  if (done) stock.retired = true;
  stock.version++;
  return done;
}

/**
 * Ends the holds due by a time, at most {@linkcode MAX_EXPIRIES_PER_CHANGE} of them.
 *
 * @param stock The product.
 * @param now The time.
 * @returns How many ended; when that is the limit, more may be due.
 */
export function expireHolds(stock: Stock, now: number): number {
  const due = stock.due(now, MAX_EXPIRIES_PER_CHANGE);
  for (const session of due) stock.release(session);
  if (due.length > 0) stock.version++;
  return due.length;
}

/** How a checkout may begin. */
export type CheckoutStart =
  /** Call the order service with this order (its id is the hold's, the same on every try). */
  | { readonly kind: "call"; readonly orderId: string; readonly heldAt: number }
  /** The session bought this product already: answer that sale again. */
  | { readonly kind: "sold"; readonly orderId: string }
  /** The hold awaits payment of this order until `payBy`: send the shopper to pay again. */
  | { readonly kind: "awaiting payment"; readonly orderId: string; readonly payBy: number }
  /** Nothing to check out, or another request checks it out now. */
  | {
    readonly kind: "refused";
    readonly reason: Exclude<CheckoutRefusal, "order mismatch">;
  };

/**
 * Starts checking a session's hold out: marks it so that it neither expires nor goes until the
 * checkout ends, and gives it its order id (kept for every later try of the same hold).
 *
 * @param stock The product, its due holds expired.
 * @param session The shopper's session id.
 * @param newOrderId The id to give a hold that has none yet.
 * @returns What to do next.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalStock } from "../store/local_stock.ts";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const stock = LocalStock.of(info, 1);
 * takeUnit(stock, "s1", 0, 1000);
 * assert.deepEqual(beginCheckout(stock, "s1", "o1"), { kind: "call", orderId: "o1", heldAt: 0 });
 * assert.deepEqual(beginCheckout(stock, "s1", "o2"), { kind: "refused", reason: "checkout in progress" });
 * ```
 */
export function beginCheckout(
  stock: Stock,
  session: string,
  newOrderId: string,
): CheckoutStart {
  if (stock.retired) return { kind: "refused", reason: "retired" };
  const held = stock.holdOf(session);
  if (held === undefined) {
    const sold = stock.saleOf(session);
    return sold === undefined
      ? { kind: "refused", reason: "not in cart" }
      : { kind: "sold", orderId: sold.orderId };
  }
  if (held.payBy !== undefined && held.orderId !== null) {
    return { kind: "awaiting payment", orderId: held.orderId, payBy: held.payBy };
  }
  if (isPinned(held)) return { kind: "refused", reason: "checkout in progress" };
  const orderId = held.orderId ?? newOrderId;
  stock.hold(session, { ...held, orderId, checkingOut: true });
  return { kind: "call", orderId, heldAt: held.heldAt };
}

/**
 * Ends a checkout the order service confirmed: the unit is sold, the total drops by one for good
 * (but not below 0, where a restock below the holds may have left it).
 *
 * @param stock The product.
 * @param session The shopper's session id.
 * @param orderId The order confirmed.
 * @returns Done when this sold the unit or it was sold by this order already; refused as an
 *   order mismatch when the session's hold is not that order's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalStock } from "../store/local_stock.ts";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const stock = LocalStock.of(info, 1);
 * takeUnit(stock, "s1", 0, 1000);
 * beginCheckout(stock, "s1", "o1");
 * assert.deepEqual(completeSale(stock, "s1", "o2"), { ok: false, reason: "order mismatch" });
 * assert.deepEqual(completeSale(stock, "s1", "o1"), { ok: true, inCart: false });
 * assert.equal(stock.sold, 1);
 * ```
 */
export function completeSale(
  stock: Stock,
  session: string,
  orderId: string,
): ProductDecision {
  if (stock.saleOf(session)?.orderId === orderId) return SOLD;
  const held = stock.holdOf(session);
  if (held?.orderId !== orderId) return { ok: false, reason: "order mismatch" };
  stock.release(session);
  stock.total = Math.max(0, stock.total - 1);
  stock.sold++;
  stock.recordSale(session, orderId);
  stock.version++;
  return SOLD;
}

const SOLD: ProductDecision = { ok: true, inCart: false };

/**
 * Ends a checkout that did not sell (refused, failed or timed out): the hold stays, free to go
 * or expire again, and keeps its order id for the next try.
 *
 * @param stock The product.
 * @param session The shopper's session id.
 * @param orderId The order tried.
 */
export function endCheckout(stock: Stock, session: string, orderId: string): void {
  const held = stock.holdOf(session);
  if (held?.orderId === orderId && held.checkingOut) {
    stock.hold(session, { ...held, checkingOut: false });
  }
}

/**
 * Leaves a checkout in flight awaiting payment: the order service sent the shopper to its payment
 * page. Until `payBy` (or a settlement) the hold neither expires nor goes, though no call is in
 * flight any more.
 *
 * @param stock The product.
 * @param session The shopper's session id.
 * @param orderId The order being checked out.
 * @param payBy When the payment's time runs out, in ms since the epoch.
 * @returns True when the hold was that order's checkout in flight, and now awaits payment.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalStock } from "../store/local_stock.ts";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const stock = LocalStock.of(info, 1);
 * takeUnit(stock, "s1", 0, 1000);
 * beginCheckout(stock, "s1", "o1");
 * assert.equal(awaitPayment(stock, "s1", "o1", 5000), true);
 * assert.deepEqual(releaseUnit(stock, "s1"), { ok: false, reason: "checkout in progress" });
 * assert.equal(stock.due(2000, 10).length, 0);
 * ```
 */
export function awaitPayment(
  stock: Stock,
  session: string,
  orderId: string,
  payBy: number,
): boolean {
  const held = stock.holdOf(session);
  if (held?.orderId !== orderId || !held.checkingOut) return false;
  stock.hold(session, { ...held, checkingOut: false, payBy });
  return true;
}

/** How a payment awaited ends: the order service says paid or cancelled, or its time ran out. */
export type PaymentSettlement = "paid" | "cancelled" | "expired";

/**
 * What settling a payment did: `done` (sold, or the unit went back), `sold` (this order had sold
 * the unit already), `gone` (no hold of this order awaits payment: it ended otherwise) or
 * `not due` (an expiry asked before the payment's time ran out).
 */
export type PaymentEnd = "done" | "sold" | "gone" | "not due";

/**
 * Settles a payment awaited: paid sells the unit (as {@linkcode completeSale}); cancelled and
 * expired put it back. Only a hold of this order awaiting payment is settled, so a settlement
 * asked twice, or after another, changes nothing.
 *
 * @param stock The product.
 * @param session The shopper's session id.
 * @param orderId The order.
 * @param how Paid, cancelled, or expired (done only once `payBy` has passed).
 * @param now The time.
 * @returns What it did.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalStock } from "../store/local_stock.ts";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const stock = LocalStock.of(info, 2);
 * takeUnit(stock, "s1", 0, 1000);
 * beginCheckout(stock, "s1", "o1");
 * awaitPayment(stock, "s1", "o1", 5000);
 * assert.equal(settlePayment(stock, "s1", "o1", "expired", 4000), "not due");
 * assert.equal(settlePayment(stock, "s1", "o1", "paid", 4000), "done");
 * assert.equal(settlePayment(stock, "s1", "o1", "paid", 4000), "sold");
 * assert.equal(settlePayment(stock, "s1", "o1", "cancelled", 4000), "sold");
 * assert.equal(settlePayment(stock, "s1", "o2", "cancelled", 4000), "gone");
 * assert.deepEqual([stock.total, stock.sold, stock.held], [1, 1, 0]);
 * ```
 */
export function settlePayment(
  stock: Stock,
  session: string,
  orderId: string,
  how: PaymentSettlement,
  now: number,
): PaymentEnd {
  if (stock.saleOf(session)?.orderId === orderId) return "sold";
  const held = stock.holdOf(session);
  if (held?.orderId !== orderId || held.payBy === undefined) return "gone";
  if (how === "expired" && held.payBy > now) return "not due";
  if (how === "paid") {
    completeSale(stock, session, orderId);
  } else {
    stock.release(session);
    stock.version++;
  }
  return "done";
}

/** A hold being checked out or awaiting payment: the shopper is paying, so it stays. */
function isPinned(hold: Hold): boolean {
  return hold.checkingOut || hold.payBy !== undefined;
}

/**
 * Checks a total.
 *
 * @param total A candidate total.
 * @throws {RangeError} Unless it is a whole number from 0 to {@linkcode MAX_TOTAL}.
 */
export function checkTotal(total: number): void {
  if (!Number.isSafeInteger(total) || total < 0 || total > MAX_TOTAL) {
    throw new RangeError(`Total must be a whole number from 0 to ${MAX_TOTAL}, got ${total}`);
  }
}

function sameInfo(a: ProductInfo, b: ProductInfo): boolean {
  return a.name === b.name && a.description === b.description && a.image === b.image &&
    a.price.amount === b.price.amount && a.price.currency === b.price.currency &&
    limitPerShopperOf(a) === limitPerShopperOf(b) && a.opensAt === b.opensAt &&
    a.position === b.position;
}
