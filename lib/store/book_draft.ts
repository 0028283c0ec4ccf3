/** A copy-on-write draft of a book: what one batch of operations would change, before it is committed. */
import { endOf, type Hold, type ProductLedger } from "../inventory/ledger.ts";
import type { ProductInfo } from "../inventory/product.ts";
import type { Book, BookChange } from "./book.ts";

/**
 * A copy-on-write view of a book for one batch of operations: the book stays as it was until the
 * batch is committed, so a refused commit needs no undo. Only changed holds are copied.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Book } from "./book.ts";
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
  /** What the product is. */
  info: ProductInfo;
  /** Units in stock, held or not. */
  total: number;
  /** Units sold so far. */
  sold: number;
  /** Rises by one on every change a page can see. */
  version: number;
  /** Whether the product is retired. */
  retired: boolean;
  /** The catalog file's total when it was last applied; null when it never did. */
  listedTotal: number | null;
  readonly #book: Book;
  /** Session → its new hold, or undefined for a hold that ends. */
  readonly #changes = new Map<string, Hold | undefined>();
  readonly #sales = new Map<string, string>();
  #held: number;

  /**
   * Opens a draft that starts as the book is.
   *
   * @param book The book to draft on; read, never written.
   */
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

  /**
   * The hold of a session.
   *
   * @param session The session id.
   * @returns Its hold, or undefined when it holds nothing.
   */
  holdOf(session: string): Hold | undefined {
    return this.#changes.has(session) ? this.#changes.get(session) : this.#book.holdOf(session);
  }

  /**
   * Creates or changes a hold.
   *
   * @param session The session id.
   * @param hold The hold.
   */
  hold(session: string, hold: Hold): void {
    if (this.holdOf(session) === undefined) this.#held++;
    this.#changes.set(session, hold);
  }

  /**
   * Ends a hold, if there is one.
   *
   * @param session The session id.
   */
  release(session: string): void {
    if (this.holdOf(session) !== undefined) this.#held--;
    this.#changes.set(session, undefined);
  }

  /**
   * The order a session bought this product with.
   *
   * @param session The session id.
   * @returns The order's id, or undefined when it bought none.
   */
  saleOf(session: string): string | undefined {
    return this.#sales.get(session) ?? this.#book.saleOf(session);
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

  /** Every session holding a unit in this draft, with its hold. */
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
