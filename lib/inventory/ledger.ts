/** One product's stock as a store decides on it, and the record a store answers with. */
import type { ProductInfo } from "./product.ts";

/** A product's stored state at one version: what every store returns after an operation. */
export interface ProductRecord {
  /** What the product is. */
  readonly info: ProductInfo;
  /** Units in stock, held or not (sales have left it). */
  readonly total: number;
  /** Units held by shoppers now. */
  readonly held: number;
  /** Units sold so far. */
  readonly sold: number;
  /** Rises by one on every change a page can see. */
  readonly version: number;
  /** A retired product is no longer sold; its page answers 410. */
  readonly retired: boolean;
  /** The total the catalog file gave when it was last applied; null when it never did. */
  readonly listedTotal: number | null;
}

/**
 * Units still free to add.
 *
 * @param record A product's record.
 * @returns `total - held`, never below zero (a restock may fall below what is held).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const record = { info, total: 3, held: 5, sold: 0, version: 1, retired: false, listedTotal: null };
 * assert.equal(inventoryCountOf(record), 0);
 * ```
 */
export function inventoryCountOf(record: ProductRecord): number {
  return Math.max(0, record.total - record.held);
}

/** One unit a session holds. */
export interface Hold {
  /** When it ends, in ms since the epoch, unless a checkout is in flight. */
  readonly expiresAt: number;
  /** When the session first took it. */
  readonly heldAt: number;
  /** The order this hold is (being) checked out as: the same for every try; null before any. */
  readonly orderId: string | null;
  /** A checkout is in flight (or was, when the server stopped): the hold neither expires nor goes. */
  readonly checkingOut: boolean;
}

/**
 * When a hold stops counting against the stock: never while a checkout is in flight.
 *
 * @param hold The hold.
 * @returns Its expiry, or Infinity while it is being checked out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(endOf({ expiresAt: 5, heldAt: 0, orderId: null, checkingOut: false }), 5);
 * assert.equal(endOf({ expiresAt: 5, heldAt: 0, orderId: "o", checkingOut: true }), Infinity);
 * ```
 */
export function endOf(hold: Hold): number {
  return hold.checkingOut ? Infinity : hold.expiresAt;
}

/** A mutable view of one product that the rules decide on; a store commits what they changed. */
export interface ProductLedger {
  /** What the product is. */
  info: ProductInfo;
  /** Units in stock, held or not. */
  total: number;
  /** Units sold so far. */
  sold: number;
  /** The version. */
  version: number;
  /** Whether the product is retired. */
  retired: boolean;
  /** The catalog file's total when it was last applied. */
  listedTotal: number | null;
  /** Units held now. */
  readonly held: number;
  /**
   * The hold of a session.
   *
   * @param session The session id.
   * @returns Its hold, or undefined when it holds nothing.
   */
  holdOf(session: string): Hold | undefined;
  /**
   * Creates or changes a hold.
   *
   * @param session The session id.
   * @param hold The hold.
   */
  hold(session: string, hold: Hold): void;
  /**
   * The order a session bought this product with.
   *
   * @param session The session id.
   * @returns The order's id, or undefined when it bought none.
   */
  saleOf(session: string): string | undefined;
  /**
   * Records a sale.
   *
   * @param session The session id.
   * @param orderId The order's id.
   */
  recordSale(session: string, orderId: string): void;
  /**
   * Ends a hold, if there is one.
   *
   * @param session The session id.
   */
  release(session: string): void;
  /**
   * Lists the holds due by a time.
   *
   * @param now The time.
   * @param limit The most to list.
   * @returns Their sessions.
   */
  due(now: number, limit: number): string[];
  /** Every session holding a unit, with its hold. */
  holds(): Iterable<[string, Hold]>;
}

/**
 * The record of a ledger as it is now.
 *
 * @param ledger The ledger.
 * @returns A frozen copy of its public state.
 */
export function recordOf(ledger: ProductLedger): ProductRecord {
  return {
    info: ledger.info,
    total: ledger.total,
    held: ledger.held,
    sold: ledger.sold,
    version: ledger.version,
    retired: ledger.retired,
    listedTotal: ledger.listedTotal,
  };
}
