/** The stocks a local store keeps in memory: their stamps, their expiry index and who hears of a change. */
import { ExpiryHeap } from "../time/expiry_heap.ts";
import {
  endOf,
  type ProductState,
  stateOf,
  type Stock,
  type StoredState,
} from "../inventory/ledger.ts";
import { type ClientHeld, expireHolds, MAX_EXPIRIES_PER_CHANGE } from "../inventory/rules.ts";
import { ClientHolds } from "./client_holds.ts";
import type { HeldUnit, Listing, PendingCheckout } from "../inventory/store_port.ts";
import { LocalStock } from "./local_stock.ts";
import type { StoredProduct } from "./engine.ts";

/** The stocks one operation decides on. */
export interface Stocks {
  /** The product's stock, its due holds expired; undefined for an unknown product. */
  get(id: string): Stock | undefined;
  /** A stock for a product that is not stored yet. */
  create(listing: Listing): Stock;
  /** The live holds of a client address over every product, as this operation sees them. */
  heldBy(client: string): ClientHeld;
}

/** One operation of a store: decides on the stocks it asks for, at one moment, and answers. */
export type Decide<T> = (stocks: Stocks, now: number) => T;

/** What listeners last saw of a product: enough to tell whether its public state moved. */
export type Seen = Pick<StoredState, "version" | "info">;

/**
 * Every product's stock in this process, with the stamp each was read or written at.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalStock } from "./local_stock.ts";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const shelf = new Shelf();
 * const heard: number[] = [];
 * shelf.onChange((record) => heard.push(record.total));
 * shelf.place("a", LocalStock.of(info, 3), undefined);
 * assert.deepEqual(heard, [3]);
 * assert.equal(shelf.stampOf("a"), null);
 * ```
 */
export class Shelf {
  readonly #stocks = new Map<string, LocalStock>();
  readonly #stamps = new Map<string, string | null>();
  /** Product → when its first hold ends. */
  readonly #expiries = new ExpiryHeap();
  readonly #listeners = new Set<(record: ProductState) => void>();
  /** Every hold by the client that took it, over every stock on the shelf. */
  readonly #clients = new ClientHolds();

  /**
   * A product's stock.
   *
   * @param id The product's id.
   * @returns Its stock; undefined for an unknown product.
   */
  get(id: string): LocalStock | undefined {
    return this.#stocks.get(id);
  }

  /**
   * Whether the shelf has a product's stock.
   *
   * @param id The product's id.
   * @returns True when it does.
   */
  has(id: string): boolean {
    return this.#stocks.has(id);
  }

  /** Every product's stock. */
  stocks(): IterableIterator<LocalStock> {
    return this.#stocks.values();
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
    for (const [product, stock] of this.#stocks) {
      const hold = stock.holdOf(session);
      if (hold !== undefined && endOf(hold) > now) {
        // A hold awaiting payment lasts until the payment's time runs out.
        units.push({ product, expiresAt: hold.payBy ?? hold.expiresAt });
      }
    }
    return units;
  }

  /** Lists the checkouts in flight, each with its order. */
  pendingCheckouts(): PendingCheckout[] {
    const pending: PendingCheckout[] = [];
    for (const [product, stock] of this.#stocks) {
      for (const [session, hold] of stock.holds()) {
        if (hold.checkingOut && hold.orderId !== null) {
          pending.push({ product, session, orderId: hold.orderId, heldAt: hold.heldAt });
        }
      }
    }
    return pending;
  }

  /**
   * The stamp a product's stock was read or written at.
   *
   * @param id The product's id.
   * @returns The stamp; null for a product not stored.
   */
  stampOf(id: string): string | null {
    return this.#stamps.get(id) ?? null;
  }

  /**
   * Puts a stock on the shelf (or keeps it there) and tells listeners if it moved.
   *
   * @param id The product's id.
   * @param stock Its stock, changed already.
   * @param before Its fields before the change; undefined for a stock new to listeners.
   * @param stamp The stamp it was written at, when an engine wrote it.
   */
  place(id: string, stock: LocalStock, before: StoredState | undefined, stamp?: string): void {
    this.#shelve(id, stock);
    if (stamp !== undefined) this.#stamps.set(id, stamp);
    this.changed(id, stock, before);
  }

  /**
   * Takes a product as an engine stores it, replacing any stock of it, and tells no one.
   *
   * @param stored The stored product.
   */
  adopt(stored: StoredProduct): void {
    const stock = new LocalStock(stored.state);
    for (const [session, hold] of stored.holds) stock.hold(session, hold);
    for (const [session, sale] of stored.sales) stock.keepSale(session, sale);
    this.#shelve(stored.state.info.id, stock);
    this.#stamps.set(stored.state.info.id, stored.stamp);
    this.#expiries.set(stored.state.info.id, stock.firstExpiry());
  }

  /**
   * Decides an operation on the stocks themselves, and tells listeners what moved.
   *
   * @param decide The operation.
   * @param now The time it is decided at, in ms since the epoch.
   * @returns Its answer.
   */
  decide<T>(decide: Decide<T>, now: number): T {
    const visit = new Visit(
      this.#stocks,
      now,
      (id, stock) => this.#shelve(id, stock),
      this.#clients,
    );
    const answer = decide(visit, now);
    for (const [id, { stock, seen }] of visit.touched) this.changed(id, stock, seen);
    return answer;
  }

  /**
   * Keeps the expiry index and tells listeners when a product's public state moved.
   *
   * @param id The product's id.
   * @param stock Its stock, changed already.
   * @param before Its fields before the change; undefined for a stock new to listeners.
   */
  changed(id: string, stock: LocalStock, before: Seen | undefined): void {
    this.#expiries.set(id, stock.firstExpiry());
    if (before !== undefined && before.version === stock.version && before.info === stock.info) {
      return;
    }
    const record = stateOf(stock);
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
  onChange(listener: (record: ProductState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The live holds of a client address over every stock on the shelf.
   *
   * @param client The client's key.
   * @param now The time, in ms since the epoch.
   * @returns How many, and when the first ends.
   */
  heldBy(client: string, now: number): ClientHeld {
    return this.#clients.heldBy(client, now);
  }

  /** Puts a stock on the shelf in place of any other of that product, its holds in the client index. */
  #shelve(id: string, stock: LocalStock): void {
    const old = this.#stocks.get(id);
    if (old !== undefined && old !== stock) old.indexClients(id, undefined);
    stock.indexClients(id, this.#clients);
    this.#stocks.set(id, stock);
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

/** The stocks of one {@linkcode Shelf.decide}: each one it touched, its due holds expired. */
class Visit implements Stocks {
  /** Each stock touched, in order, with what listeners last saw of it (none for one created). */
  readonly touched = new Map<string, { stock: LocalStock; seen: Seen | undefined }>();
  readonly #stocks: Map<string, LocalStock>;
  readonly #now: number;
  readonly #shelve: (id: string, stock: LocalStock) => void;
  readonly #clients: ClientHolds;

  constructor(
    stocks: Map<string, LocalStock>,
    now: number,
    shelve: (id: string, stock: LocalStock) => void,
    clients: ClientHolds,
  ) {
    this.#stocks = stocks;
    this.#now = now;
    this.#shelve = shelve;
    this.#clients = clients;
  }

  heldBy(client: string): ClientHeld {
    return this.#clients.heldBy(client, this.#now);
  }

  get(id: string): LocalStock | undefined {
    const stock = this.#stocks.get(id);
    if (stock === undefined || this.touched.has(id)) return stock;
    this.touched.set(id, { stock, seen: { version: stock.version, info: stock.info } });
    expireDue(stock, this.#now);
    return stock;
  }

  create(listing: Listing): LocalStock {
    const stock = LocalStock.of(listing.info, 0);
    this.#shelve(listing.info.id, stock);
    this.touched.set(listing.info.id, { stock, seen: undefined });
    return stock;
  }
}

/** Ends every hold of a stock that is due: one sweep ends at most a change's worth. */
function expireDue(stock: LocalStock, now: number): void {
  let ended;
  do {
    ended = expireHolds(stock, now);
  } while (ended === MAX_EXPIRIES_PER_CHANGE);
}
