/** One product's stock kept in this process: the ledger of the memory and Deno KV stores. */
import { ExpiryHeap } from "../inventory/expiry_heap.ts";
import type { ProductLedger, ProductRecord } from "../inventory/ledger.ts";
import type { ProductInfo } from "../inventory/product.ts";

/** The public fields of a product, without its holds. */
export type ProductMeta = Omit<ProductRecord, "held">;

/** What a draft changed, to be written as one change and then applied to its book. */
export interface BookChange {
  /** The product's fields after the change. */
  readonly meta: ProductMeta;
  /** Holds created or refreshed: session and expiry. */
  readonly put: ReadonlyArray<readonly [session: string, expiresAt: number]>;
  /** Sessions whose hold ended. */
  readonly drop: readonly string[];
}

/**
 * A product's stock and holds, changed in place.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const book = new Book(info, 5);
 * book.hold("s1", 100);
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
  readonly #holds = new ExpiryHeap();

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
    return this.#holds.firstExpiry();
  }

  /** @inheritdoc */
  holdOf(session: string): number | undefined {
    return this.#holds.get(session);
  }

  /** @inheritdoc */
  hold(session: string, expiresAt: number): void {
    this.#holds.set(session, expiresAt);
  }

  /** @inheritdoc */
  release(session: string): void {
    this.#holds.delete(session);
  }

  /** @inheritdoc */
  due(now: number, limit: number): string[] {
    return this.#holds.due(now, limit);
  }

  /** @inheritdoc */
  *sessions(): IterableIterator<string> {
    for (const [session] of this.#holds.entries()) yield session;
  }

  /** Every hold: session and expiry. */
  holds(): IterableIterator<[string, number]> {
    return this.#holds.entries();
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
    for (const session of change.drop) this.#holds.delete(session);
    for (const [session, expiresAt] of change.put) this.#holds.set(session, expiresAt);
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
 * draft.hold("s1", 100);
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
  /** Session → new expiry, or undefined for a hold that ends. */
  readonly #changes = new Map<string, number | undefined>();
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

  /** The product's id. */
  get id(): string {
    return this.info.id;
  }

  /** Units held in this draft. */
  get held(): number {
    return this.#held;
  }

  /** Whether anything must be written. */
  get changed(): boolean {
    const book = this.#book;
    return this.#changes.size > 0 || this.info !== book.info || this.total !== book.total ||
      this.sold !== book.sold || this.version !== book.version ||
      this.retired !== book.retired || this.listedTotal !== book.listedTotal;
  }

  /** @inheritdoc */
  holdOf(session: string): number | undefined {
    return this.#changes.has(session) ? this.#changes.get(session) : this.#book.holdOf(session);
  }

  /** @inheritdoc */
  hold(session: string, expiresAt: number): void {
    if (this.holdOf(session) === undefined) this.#held++;
    this.#changes.set(session, expiresAt);
  }

  /** @inheritdoc */
  release(session: string): void {
    if (this.holdOf(session) !== undefined) this.#held--;
    this.#changes.set(session, undefined);
  }

  /** @inheritdoc */
  due(now: number, limit: number): string[] {
    const due: string[] = [];
    for (const [session, expiresAt] of this.#changes) {
      if (expiresAt !== undefined && expiresAt <= now && due.length < limit) due.push(session);
    }
    // Holds of the book this draft ended or moved are not due as the book has them.
    for (const session of this.#book.due(now, limit + this.#changes.size)) {
      if (due.length >= limit) break;
      if (!this.#changes.has(session)) due.push(session);
    }
    return due;
  }

  /** @inheritdoc */
  *sessions(): IterableIterator<string> {
    for (const session of this.#book.sessions()) {
      if (!this.#changes.has(session)) yield session;
    }
    for (const [session, expiresAt] of this.#changes) {
      if (expiresAt !== undefined) yield session;
    }
  }

  /** Everything this draft changed. */
  change(): BookChange {
    const put: [string, number][] = [];
    const drop: string[] = [];
    for (const [session, expiresAt] of this.#changes) {
      if (expiresAt === undefined) drop.push(session);
      else put.push([session, expiresAt]);
    }
    const { info, total, sold, version, retired, listedTotal } = this;
    return { meta: { info, total, sold, version, retired, listedTotal }, put, drop };
  }
}
