/** The rules of the shop: hold, release, restock, describe, retire and expire, on one ledger. */
import type { ProductLedger } from "./ledger.ts";
import { MAX_TOTAL, type ProductInfo } from "./product.ts";

/** Why an operation on a product was refused; nothing changed. */
export type Refusal = "sold out" | "retired";

/** What a shopper's add or remove did. */
export type HoldDecision =
  | { readonly ok: true; readonly inCart: boolean }
  | { readonly ok: false; readonly reason: Refusal };

/** The most holds one change may end; larger sweeps are split over several changes. */
export const MAX_EXPIRIES_PER_CHANGE = 500;

/**
 * Puts one unit in a session's cart unless none is left; refreshes a hold the session has.
 *
 * Each session holds at most one unit of a product, so adds are idempotent. A refresh changes
 * nothing a page shows, so only a new hold raises the version.
 *
 * @param ledger The product, with its due holds already expired.
 * @param session The shopper's session id.
 * @param now The time.
 * @param holdTtlMs How long the hold lasts.
 * @returns `inCart: true`, or the refusal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Book } from "../store/book.ts";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const book = new Book(info, 1);
 * assert.deepEqual(takeUnit(book, "s1", 0, 1000), { ok: true, inCart: true });
 * assert.deepEqual(takeUnit(book, "s2", 0, 1000), { ok: false, reason: "sold out" });
 * ```
 */
export function takeUnit(
  ledger: ProductLedger,
  session: string,
  now: number,
  holdTtlMs: number,
): HoldDecision {
  if (ledger.retired) return { ok: false, reason: "retired" };
  const held = ledger.holdOf(session);
  if (held === undefined && ledger.held >= ledger.total) return { ok: false, reason: "sold out" };
  const expiresAt = now + holdTtlMs;
  if (held !== expiresAt) {
    ledger.hold(session, expiresAt);
    if (held === undefined) ledger.version++;
  }
  return { ok: true, inCart: true };
}

/**
 * Takes a session's unit out of its cart; does nothing when it holds none.
 *
 * @param ledger The product.
 * @param session The shopper's session id.
 * @returns `inCart: false`, or the refusal for a retired product.
 */
export function releaseUnit(ledger: ProductLedger, session: string): HoldDecision {
  if (ledger.retired) return { ok: false, reason: "retired" };
  if (ledger.holdOf(session) !== undefined) {
    ledger.release(session);
    ledger.version++;
  }
  return { ok: true, inCart: false };
}

/**
 * Sets the total. Holds stay: below what is held, nothing more is sold until it is back above.
 *
 * @param ledger The product.
 * @param total The new total, a whole number from 0 to {@linkcode MAX_TOTAL}.
 * @throws {RangeError} For another total.
 */
export function restock(ledger: ProductLedger, total: number): void {
  checkTotal(total);
  if (total === ledger.total) return;
  ledger.total = total;
  ledger.version++;
}

/**
 * Gives a product new descriptive data, and lists it again if it was retired.
 *
 * @param ledger The product.
 * @param info Its new data (same id).
 * @throws {RangeError} When the id differs.
 */
export function describe(ledger: ProductLedger, info: ProductInfo): void {
  if (info.id !== ledger.info.id) {
    throw new RangeError(`Product id "${info.id}" is not "${ledger.info.id}"`);
  }
  if (!ledger.retired && sameInfo(info, ledger.info)) return;
  ledger.info = info;
  ledger.retired = false;
  ledger.version++;
}

/**
 * Retires a product: it is no longer sold, and every hold of it ends.
 *
 * @param ledger The product.
 */
export function retire(ledger: ProductLedger): void {
  if (ledger.retired) return;
  for (const session of [...ledger.sessions()]) ledger.release(session);
  ledger.retired = true;
  ledger.version++;
}

/**
 * Ends the holds due by a time, at most {@linkcode MAX_EXPIRIES_PER_CHANGE} of them.
 *
 * @param ledger The product.
 * @param now The time.
 * @returns How many ended; when that is the limit, more may be due.
 */
export function expireHolds(ledger: ProductLedger, now: number): number {
  const due = ledger.due(now, MAX_EXPIRIES_PER_CHANGE);
  for (const session of due) ledger.release(session);
  if (due.length > 0) ledger.version++;
  return due.length;
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
    a.price.amount === b.price.amount && a.price.currency === b.price.currency;
}
