/** The books a local store keeps in memory: their stamps, their expiry index and who hears of a change. */
import { ExpiryHeap } from "../time/expiry_heap.ts";
import { endOf, type ProductLedger, type ProductRecord, recordOf } from "../inventory/ledger.ts";
import { expireHolds, MAX_EXPIRIES_PER_CHANGE } from "../inventory/rules.ts";
import type { HeldUnit, Listing, PendingCheckout } from "../inventory/store_port.ts";
import { Book, type ProductMeta } from "./book.ts";
import type { StoredProduct } from "./engine.ts";

/** The ledgers one operation decides on. */
export interface Ledgers {
  /** The product's ledger, its due holds expired; undefined for an unknown product. */
  get(id: string): ProductLedger | undefined;
  /** A ledger for a product that is not stored yet. */
  create(listing: Listing): ProductLedger;
}

/** One operation of a store: decides on the ledgers it asks for, at one moment, and answers. */
export type Decide<T> = (ledgers: Ledgers, now: number) => T;

/** What listeners last saw of a product: enough to tell whether its public state moved. */
export type Seen = Pick<ProductMeta, "version" | "info">;

/**
 * Every product's book in this process, with the stamp each was read or written at.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Book } from "./book.ts";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const shelf = new Shelf();
 * const heard: number[] = [];
 * shelf.onChange((record) => heard.push(record.total));
 * shelf.place("a", new Book(info, 3), undefined);
 * assert.deepEqual(heard, [3]);
 * assert.equal(shelf.stampOf("a"), null);
 * ```
 */
export class Shelf {
  readonly #books = new Map<string, Book>();
  readonly #stamps = new Map<string, string | null>();
  /** Product → when its first hold ends. */
  readonly #expiries = new ExpiryHeap();
  readonly #listeners = new Set<(record: ProductRecord) => void>();

  /**
   * A product's book.
   *
   * @param id The product's id.
   * @returns Its book; undefined for an unknown product.
   */
  get(id: string): Book | undefined {
    return this.#books.get(id);
  }

  /**
   * Whether the shelf has a product's book.
   *
   * @param id The product's id.
   * @returns True when it does.
   */
  has(id: string): boolean {
    return this.#books.has(id);
  }

  /** Every product's book. */
  books(): IterableIterator<Book> {
    return this.#books.values();
  }

  /**
   * Lists the units a session holds now.
   *
   * @param session The session id.
   * @param now The time, in ms since the epoch.
   * @returns Its units, by product.
   */
  holdsOf(session: string, now: number): HeldUnit[] {
    const units: HeldUnit[] = [];
    for (const [product, book] of this.#books) {
      const hold = book.holdOf(session);
      if (hold !== undefined && endOf(hold) > now) {
        units.push({ product, expiresAt: hold.expiresAt });
      }
    }
    return units;
  }

  /** Lists the checkouts in flight, each with its order. */
  pendingCheckouts(): PendingCheckout[] {
    const pending: PendingCheckout[] = [];
    for (const [product, book] of this.#books) {
      for (const [session, hold] of book.holds()) {
        if (hold.checkingOut && hold.orderId !== null) {
          pending.push({ product, session, orderId: hold.orderId, heldAt: hold.heldAt });
        }
      }
    }
    return pending;
  }

  /**
   * The stamp a product's book was read or written at.
   *
   * @param id The product's id.
   * @returns The stamp; null for a product not stored.
   */
  stampOf(id: string): string | null {
    return this.#stamps.get(id) ?? null;
  }

  /**
   * Puts a book on the shelf (or keeps it there) and tells listeners if it moved.
   *
   * @param id The product's id.
   * @param book Its book, changed already.
   * @param before Its fields before the change; undefined for a book new to listeners.
   * @param stamp The stamp it was written at, when an engine wrote it.
   */
  place(id: string, book: Book, before: ProductMeta | undefined, stamp?: string): void {
    this.#books.set(id, book);
    if (stamp !== undefined) this.#stamps.set(id, stamp);
    this.changed(id, book, before);
  }

  /**
   * Takes a product as an engine stores it, replacing any book of it, and tells no one.
   *
   * @param stored The stored product.
   */
  adopt(stored: StoredProduct): void {
    const book = new Book(stored.meta.info, stored.meta.total);
    book.setMeta(stored.meta);
    for (const [session, hold] of stored.holds) book.hold(session, hold);
    for (const [session, orderId] of stored.sales) book.recordSale(session, orderId);
    this.#books.set(stored.meta.info.id, book);
    this.#stamps.set(stored.meta.info.id, stored.stamp);
    this.#expiries.set(stored.meta.info.id, book.firstExpiry());
  }

  /**
   * Decides an operation on the books themselves, and tells listeners what moved.
   *
   * @param decide The operation.
   * @param now The time it is decided at, in ms since the epoch.
   * @returns Its answer.
   */
  decide<T>(decide: Decide<T>, now: number): T {
    const visit = new Visit(this.#books, now);
    const answer = decide(visit, now);
    const { ids, touched, seen } = visit;
    for (let i = 0; i < ids.length; i++) this.changed(ids[i], touched[i], seen[i]);
    return answer;
  }

  /**
   * Decides an operation on one product's book, its due holds expired first, and tells
   * listeners if it moved: {@linkcode Shelf.decide} for one product, without a list of the books
   * it touched (every shopper's add and remove in memory is one).
   *
   * @param id The product's id.
   * @param decide The operation, given the book (undefined for an unknown product).
   * @param now The time it is decided at, in ms since the epoch.
   * @returns Its answer.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Book } from "./book.ts";
   * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
   * const shelf = new Shelf();
   * shelf.place("a", new Book(info, 3), undefined);
   * const heard: number[] = [];
   * shelf.onChange((record) => heard.push(record.version));
   * assert.equal(shelf.decideOne("a", (book) => book!.version++, 0), 0);
   * assert.equal(shelf.decideOne("b", (book) => book, 0), undefined);
   * assert.deepEqual(heard, [1]);
   * ```
   */
  decideOne<T>(id: string, decide: (book: Book | undefined, now: number) => T, now: number): T {
    const book = this.#books.get(id);
    if (book === undefined) return decide(undefined, now);
    const seen: Seen = { version: book.version, info: book.info };
    expireDue(book, now);
    const answer = decide(book, now);
    this.changed(id, book, seen);
    return answer;
  }

  /**
   * Keeps the expiry index and tells listeners when a product's public state moved.
   *
   * @param id The product's id.
   * @param book Its book, changed already.
   * @param before Its fields before the change; undefined for a book new to listeners.
   */
  changed(id: string, book: Book, before: Seen | undefined): void {
    this.#expiries.set(id, book.firstExpiry());
    if (before !== undefined && before.version === book.version && before.info === book.info) {
      return;
    }
    const record = recordOf(book);
    for (const listener of this.#listeners) {
      try {
        listener(record);
      } catch (error) {
        // One broken listener must not keep the news from the others.
        console.error("store listener failed:", error);
      }
    }
  }

  /**
   * Listens for products whose public state moved.
   *
   * @param listener Called with each product's new record.
   * @returns A function that stops listening.
   */
  onChange(listener: (record: ProductRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** When the first hold of any product ends; Infinity for none. */
  firstExpiry(): number {
    return this.#expiries.firstExpiry();
  }

  /**
   * The products with a hold due.
   *
   * @param now The time, in ms since the epoch.
   * @param limit How many at most.
   * @returns Their ids, the earliest first.
   */
  due(now: number, limit: number): string[] {
    return this.#expiries.due(now, limit);
  }
}

/**
 * The ledgers of one {@linkcode Shelf.decide}: the books it touched, in order, with what listeners
 * last saw of each. Arrays, not maps: an operation touches one product, a sweep a few dozen.
 */
class Visit implements Ledgers {
  readonly ids: string[] = [];
  readonly touched: Book[] = [];
  /** Undefined for a book created by the operation. */
  readonly seen: (Seen | undefined)[] = [];
  readonly #books: Map<string, Book>;
  readonly #now: number;

  constructor(books: Map<string, Book>, now: number) {
    this.#books = books;
    this.#now = now;
  }

  get(id: string): Book | undefined {
    const book = this.#books.get(id);
    if (book === undefined || this.ids.includes(id)) return book;
    this.#touch(id, book, { version: book.version, info: book.info });
    expireDue(book, this.#now);
    return book;
  }

  create(listing: Listing): Book {
    const book = new Book(listing.info, 0);
    this.#books.set(listing.info.id, book);
    this.#touch(listing.info.id, book, undefined);
    return book;
  }

  #touch(id: string, book: Book, seen: Seen | undefined): void {
    this.ids.push(id);
    this.touched.push(book);
    this.seen.push(seen);
  }
}

/** Ends every hold of a book that is due, in as many sweeps as that takes. */
function expireDue(book: Book, now: number): void {
  while (expireHolds(book, now) === MAX_EXPIRIES_PER_CHANGE);
}
