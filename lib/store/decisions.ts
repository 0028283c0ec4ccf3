/** The store port's writes as decisions on stocks: the same whether memory or an engine keeps them. */
import { type ProductState, stateOf, type Stock } from "../inventory/ledger.ts";
import {
  awaitPayment,
  beginCheckout,
  type CheckoutStart,
  describe,
  endCheckout,
  type PaymentEnd,
  type PaymentSettlement,
  type ProductDecision,
  restock,
  settlePayment,
} from "../inventory/rules.ts";
import type { Listing, StoreOutcome } from "../inventory/store_port.ts";
import type { Decide, Stocks } from "./shelf.ts";

/**
 * An operation on one product, answered with the product's state after it.
 *
 * @param product The product's id.
 * @param decide The rule to apply to its stock.
 * @returns The operation; it refuses an unknown product.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const decide = productDecision("a", () => ({ ok: true, inCart: false }));
 * const stocks = { get: () => undefined, create: () => { throw new Error("not used"); }, heldBy: () => ({ count: 0, firstEnd: Infinity }) };
 * assert.deepEqual(decide(stocks, 0), { ok: false, reason: "unknown product" });
 * ```
 */
export function productDecision(
  product: string,
  decide: (stock: Stock, now: number, stocks: Stocks) => ProductDecision,
): Decide<StoreOutcome> {
  return (stocks, now) => {
    const stock = stocks.get(product);
    if (stock === undefined) return { ok: false, reason: "unknown product" };
    const decision = decide(stock, now, stocks);
    const record = stateOf(stock);
    if (decision.ok) return { ok: true, record, inCart: decision.inCart };
    const { reason, retryAfterMs } = decision;
    return retryAfterMs === undefined
      ? { ok: false, reason, record }
      : { ok: false, reason, record, retryAfterMs };
  };
}

/**
 * Creates a product or updates its data (and total), listing a retired one again.
 *
 * @param listing The product's data and total.
 * @returns The operation, answering with the product after it and whether it is new.
 */
export function listingDecision(
  listing: Listing,
): Decide<{ record: ProductState; created: boolean }> {
  return (stocks) => {
    const id = listing.info.id;
    const found = stocks.get(id);
    const stock = found ?? stocks.create(listing);
    describe(stock, listing.info);
    if (listing.total !== undefined) restock(stock, listing.total);
    if (listing.fromFile) stock.listedTotal = listing.total ?? null;
    if (listing.listed !== undefined) stock.listed = listing.listed;
    // A new product's life starts at version 0, as a page first sees it.
    if (found === undefined) stock.version = 0;
    return { record: stateOf(stock), created: found === undefined };
  };
}

/**
 * Starts checking a hold out; an unknown product is refused as such.
 *
 * @param product The product's id.
 * @param session The shopper's session.
 * @param newOrderId The order id for a hold that has none yet.
 * @returns The operation, answering whether to call the order service, and with which order.
 */
export function checkoutStartDecision(
  product: string,
  session: string,
  newOrderId: string,
): Decide<CheckoutStart> {
  return (stocks) => {
    const stock = stocks.get(product);
    if (stock === undefined) return { kind: "refused", reason: "unknown product" };
    return beginCheckout(stock, session, newOrderId);
  };
}

/**
 * Leaves a checkout awaiting payment; nothing happens to an unknown product.
 *
 * @param product The product's id.
 * @param session The shopper's session.
 * @param orderId The order being checked out.
 * @param payBy When the payment's time runs out.
 * @returns The operation, answering whether the hold now awaits payment.
 */
export function awaitPaymentDecision(
  product: string,
  session: string,
  orderId: string,
  payBy: number,
): Decide<boolean> {
  return (stocks) => {
    const stock = stocks.get(product);
    return stock !== undefined && awaitPayment(stock, session, orderId, payBy);
  };
}

/**
 * Settles a payment awaited; an unknown product's order is gone.
 *
 * @param product The product's id.
 * @param session The shopper's session.
 * @param orderId The order.
 * @param how Paid, cancelled or expired.
 * @returns The operation, answering what it did.
 */
export function settlePaymentDecision(
  product: string,
  session: string,
  orderId: string,
  how: PaymentSettlement,
): Decide<PaymentEnd> {
  return (stocks, now) => {
    const stock = stocks.get(product);
    return stock === undefined ? "gone" : settlePayment(stock, session, orderId, how, now);
  };
}

/**
 * Ends a checkout that sold nothing; nothing happens to an unknown product.
 *
 * @param product The product's id.
 * @param session The shopper's session.
 * @param orderId The order tried.
 * @returns The operation.
 */
export function checkoutEndDecision(
  product: string,
  session: string,
  orderId: string,
): Decide<void> {
  return (stocks) => {
    const stock = stocks.get(product);
    if (stock !== undefined) endCheckout(stock, session, orderId);
  };
}
