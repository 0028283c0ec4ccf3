/** One product's stock kept in this process: the ledger of the memory and Deno KV stores. */
import { ExpiryHeap } from "../time/expiry_heap.ts";
import { endOf, type Hold, type ProductLedger, type ProductRecord } from "../inventory/ledger.ts";
import type { ProductInfo } from "../inventory/product.ts";

/** The public fields of a product, without its holds. */
export type ProductMeta = Omit<ProductRecord, "held">;

/** What a draft changed, to be written as one change and then applied to its book. */
export interface BookChange {
  /** The product's fields after the change. */
  readonly meta: ProductMeta;
  /** Holds created or changed. */
  readonly put: ReadonlyArray<readonly [session: string, hold: Hold]>;
  /** Sessions whose hold ended. */
  readonly drop: readonly string[];
  /** Sales made: session and order id. */
  readonly sales: ReadonlyArray<readonly [session: string, orderId: string]>;
}

/**
 * A product's stock, holds and sales, changed in place.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const book = new Book(info, 5);
 * book.hold("s1", { expiresAt: 100, heldAt: 0, orderId: null, checkingOut: false });
 * assert.equal(book.held, 1);
 * assert.deepEqual(book.due(100, 10), ["s1"]);
 * ```
 */
export class Book implements ProductLedger {
  /** What the product is. */
  info: ProductInfo;
  /** Units in stock, held or not. */
  total: number;
  /** Units sold so far. */
  sold = 0;
  /** Rises by one on every change a page can see. */
  version = 0;
  /** Whether the product is retired. */
  retired = false;
  /** The catalog file's total when it was last applied; null when it never did. */
  listedTotal: number | null = null;
  readonly #holds = new Map<string, Hold>();
  readonly #ends = new ExpiryHeap();
  readonly #sales = new Map<string, string>();

  /**
   * Opens a book with no holds and no sales.
   *
   * @param info What the product is.
   * @param total Units in stock.
   */
  constructor(info: ProductInfo, total: number) {
    this.info = info;
    this.total = total;
  }

  /** Units held now. */
  get held(): number {
    return this.#holds.size;
  }

  /** When the first hold ends; Infinity for none. */
  firstExpiry(): number {
    return this.#ends.firstExpiry();
  }

  /**
   * The hold of a session.
   *
   * @param session The session id.
   * @returns Its hold, or undefined when it holds nothing.
   */
  holdOf(session: string): Hold | undefined {
    return this.#holds.get(session);
  }

  /**
   * Creates or changes a hold.
   *
   * @param session The session id.
   * @param hold The hold.
   */
  hold(session: string, hold: Hold): void {
    this.#holds.set(session, hold);
    this.#ends.set(session, endOf(hold));
  }

  /**
   * Ends a hold, if there is one.
   *
   * @param session The session id.
   */
  release(session: string): void {
    this.#holds.delete(session);
    this.#ends.delete(session);
  }

  /**
   * The order a session bought this product with.
   *
   * @param session The session id.
   * @returns The order's id, or undefined when it bought none.
   */
  saleOf(session: string): string | undefined {
    return this.#sales.get(session);
  }

  /**
   * Records a sale.
   *
   * @param session The session id.
   * @param orderId The order's id.
   */
  recordSale(session: string, orderId: string): void {
    this.#sales.set(session, orderId);
  }

  /**
   * Lists the holds due by a time.
   *
   * @param now The time, in ms since the epoch.
   * @param limit The most to list.
   * @returns Their sessions, the earliest first.
   */
  due(now: number, limit: number): string[] {
    return this.#ends.due(now, limit);
  }

  /** Every session holding a unit, with its hold. */
  holds(): IterableIterator<[string, Hold]> {
    return this.#holds.entries();
  }

  /** Every sale: session and order id. */
  sales(): IterableIterator<[string, string]> {
    return this.#sales.entries();
  }

  /**
   * Takes the fields of a stored product.
   *
   * @param meta The stored fields.
   */
  setMeta(meta: ProductMeta): void {
    this.info = meta.info;
    this.total = meta.total;
    this.sold = meta.sold;
    this.version = meta.version;
    this.retired = meta.retired;
    this.listedTotal = meta.listedTotal;
  }

  /**
   * Applies a committed change.
   *
   * @param change What a draft of this book changed.
   */
  apply(change: BookChange): void {
    for (const session of change.drop) this.release(session);
    for (const [session, hold] of change.put) this.hold(session, hold);
    for (const [session, orderId] of change.sales) this.recordSale(session, orderId);
    this.setMeta(change.meta);
  }
}
