/** One product's stock kept in this process: the ledger of the memory and Deno KV stores. */
import { ExpiryHeap } from "../inventory/expiry_heap.ts";
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
  info: ProductInfo;
  total: number;
  sold = 0;
  version = 0;
  retired = false;
  listedTotal: number | null = null;
  readonly #holds = new Map<string, Hold>();
  readonly #ends = new ExpiryHeap();
  readonly #sales = new Map<string, string>();

  /**
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

  /** @inheritdoc */
  holdOf(session: string): Hold | undefined {
    return this.#holds.get(session);
  }

  /** @inheritdoc */
  hold(session: string, hold: Hold): void {
    this.#holds.set(session, hold);
    this.#ends.set(session, endOf(hold));
  }

  /** @inheritdoc */
  release(session: string): void {
    this.#holds.delete(session);
    this.#ends.delete(session);
  }

  /** @inheritdoc */
  saleOf(session: string): string | undefined {
    return this.#sales.get(session);
  }

  /** @inheritdoc */
  recordSale(session: string, orderId: string): void {
    this.#sales.set(session, orderId);
  }

  /** @inheritdoc */
  due(now: number, limit: number): string[] {
    return this.#ends.due(now, limit);
  }

  /** @inheritdoc */
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

/**
 * A copy-on-write view of a book for one batch of operations: the book stays as it was until the
 * batch is committed, so a refused commit needs no undo. Only changed holds are copied.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const book = new Book(info, 5);
 * const draft = new BookDraft(book);
 * draft.hold("s1", { expiresAt: 100, heldAt: 0, orderId: null, checkingOut: false });
 * assert.equal(draft.held, 1);
 * assert.equal(book.held, 0);
 * book.apply(draft.change());
 * assert.equal(book.held, 1);
 * ```
 */
export class BookDraft implements ProductLedger {
  info: ProductInfo;
  total: number;
  sold: number;
  version: number;
  retired: boolean;
  listedTotal: number | null;
  readonly #book: Book;
  /** Session → its new hold, or undefined for a hold that ends. */
  readonly #changes = new Map<string, Hold | undefined>();
  readonly #sales = new Map<string, string>();
  #held: number;

  /** @param book The book to draft on; read, never written. */
  constructor(book: Book) {
    this.#book = book;
    this.info = book.info;
    this.total = book.total;
    this.sold = book.sold;
    this.version = book.version;
    this.retired = book.retired;
    this.listedTotal = book.listedTotal;
    this.#held = book.held;
  }

  /** Units held in this draft. */
  get held(): number {
    return this.#held;
  }

  /** Whether anything must be written. */
  get changed(): boolean {
    const book = this.#book;
    return this.#changes.size > 0 || this.#sales.size > 0 || this.info !== book.info ||
      this.total !== book.total || this.sold !== book.sold || this.version !== book.version ||
      this.retired !== book.retired || this.listedTotal !== book.listedTotal;
  }

  /** How many keys the draft writes besides the product's own. */
  get writes(): number {
    return this.#changes.size + this.#sales.size;
  }

  /** @inheritdoc */
  holdOf(session: string): Hold | undefined {
    return this.#changes.has(session) ? this.#changes.get(session) : this.#book.holdOf(session);
  }

  /** @inheritdoc */
  hold(session: string, hold: Hold): void {
    if (this.holdOf(session) === undefined) this.#held++;
    this.#changes.set(session, hold);
  }

  /** @inheritdoc */
  release(session: string): void {
    if (this.holdOf(session) !== undefined) this.#held--;
    this.#changes.set(session, undefined);
  }

  /** @inheritdoc */
  saleOf(session: string): string | undefined {
    return this.#sales.get(session) ?? this.#book.saleOf(session);
  }

  /** @inheritdoc */
  recordSale(session: string, orderId: string): void {
    this.#sales.set(session, orderId);
  }

  /** @inheritdoc */
  due(now: number, limit: number): string[] {
    const due: string[] = [];
    for (const [session, hold] of this.#changes) {
      if (hold !== undefined && endOf(hold) <= now && due.length < limit) due.push(session);
    }
    // Holds of the book this draft ended or changed are not due as the book has them.
    for (const session of this.#book.due(now, limit + this.#changes.size)) {
      if (due.length >= limit) break;
      if (!this.#changes.has(session)) due.push(session);
    }
    return due;
  }

  /** @inheritdoc */
  *holds(): IterableIterator<[string, Hold]> {
    for (const entry of this.#book.holds()) {
      if (!this.#changes.has(entry[0])) yield entry;
    }
    for (const [session, hold] of this.#changes) {
      if (hold !== undefined) yield [session, hold];
    }
  }

  /** Everything this draft changed. */
  change(): BookChange {
    const put: [string, Hold][] = [];
    const drop: string[] = [];
    for (const [session, hold] of this.#changes) {
      if (hold === undefined) drop.push(session);
      else put.push([session, hold]);
    }
    const { info, total, sold, version, retired, listedTotal } = this;
    return {
      meta: { info, total, sold, version, retired, listedTotal },
      put,
      drop,
      sales: [...this.#sales],
    };
  }
}
