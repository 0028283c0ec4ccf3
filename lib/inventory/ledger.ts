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
   * Tells when a session's hold expires.
   *
   * @param session The session id.
   * @returns The time in ms since the epoch, or undefined when it holds nothing.
   */
  holdOf(session: string): number | undefined;
  /**
   * Creates or refreshes a hold.
   *
   * @param session The session id.
   * @param expiresAt When it ends.
   */
  hold(session: string, expiresAt: number): void;
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
  /** Every session holding a unit. */
  sessions(): Iterable<string>;
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
