/** One product's stock kept in this process: what the memory and Deno KV stores decide on. */
import { ExpiryHeap } from "../time/expiry_heap.ts";
import {
  copyStoredFields,
  endOf,
  type Hold,
  newStoredState,
  type Sale,
  type Stock,
  type StoredState,
  type WritableState,
} from "../inventory/ledger.ts";
import type { ProductInfo } from "../inventory/product.ts";
import type { ClientHolds } from "./client_holds.ts";

/** What a draft changed, to be written as one change and then applied to its stock. */
export interface StockChange {
  /** The product's stored fields after the change. */
  readonly state: StoredState;
  /** Holds created or changed. */
  readonly put: ReadonlyArray<readonly [session: string, hold: Hold]>;
  /** Sessions whose hold ended. */
  readonly drop: readonly string[];
  /** Sales made: session and what it has bought now. */
  readonly sales: ReadonlyArray<readonly [session: string, sale: Sale]>;
}

/** The product's stored fields, as its own properties: copied from a state, so the class lists none. */
export interface LocalStock extends WritableState {}

/**
 * A product's stock, holds and sales, changed in place.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const stock = LocalStock.of(info, 5);
 * stock.hold("s1", { expiresAt: 100, heldAt: 0, orderId: null, checkingOut: false });
 * assert.equal(stock.held, 1);
 * assert.deepEqual(stock.due(100, 10), ["s1"]);
 * ```
 */
export class LocalStock implements Stock {
  readonly #holds = new Map<string, Hold>();
  readonly #ends = new ExpiryHeap();
  readonly #sales = new Map<string, Sale>();
  /** The index of holds by client this stock keeps current, once on a shelf. */
  #clients: { readonly product: string; readonly holds: ClientHolds } | undefined;

  /**
   * Opens a stock with no holds and no sales.
   *
   * @param state Its stored fields.
   */
  constructor(state: StoredState) {
    copyStoredFields(this, state);
  }

  /**
   * Opens the stock of a product new to the store.
   *
   * @param info What the product is.
   * @param total Units in stock.
   * @returns The stock, with the first value of every other field.
   */
  static of(info: ProductInfo, total: number): LocalStock {
    return new LocalStock({ ...newStoredState(info), total });
  }

  /** Units held now. */
  get held(): number {
    return this.#holds.size;
  }

  /**
   * Keeps an index of holds by client current with this stock's holds, from now on.
   *
   * @param product The product's id.
   * @param holds The index; undefined stops, taking this stock's holds out of the index it kept.
   */
  indexClients(product: string, holds: ClientHolds | undefined): void {
    if (this.#clients?.holds === holds) return;
    for (const [session, hold] of this.#holds) this.#unindex(session, hold);
    this.#clients = holds === undefined ? undefined : { product, holds };
    for (const [session, hold] of this.#holds) this.#index(session, hold);
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
    const before = this.#holds.get(session);
    if (before !== undefined) this.#unindex(session, before);
    this.#holds.set(session, hold);
    this.#ends.set(session, endOf(hold));
    this.#index(session, hold);
  }

  /**
   * Ends a hold, if there is one.
   *
   * @param session The session id.
   */
  release(session: string): void {
    const before = this.#holds.get(session);
    if (before === undefined) return;
    this.#unindex(session, before);
    this.#holds.delete(session);
    this.#ends.delete(session);
  }

  #index(session: string, hold: Hold): void {
    if (this.#clients === undefined || hold.client === undefined) return;
    this.#clients.holds.set(hold.client, this.#clients.product, session, endOf(hold));
  }

  #unindex(session: string, hold: Hold): void {
    if (this.#clients === undefined || hold.client === undefined) return;
    this.#clients.holds.delete(hold.client, this.#clients.product, session);
  }

  /**
   * What a session bought of this product.
   *
   * @param session The session id.
   * @returns Its latest order and how many units it bought, or undefined when it bought none.
   */
  saleOf(session: string): Sale | undefined {
    return this.#sales.get(session);
  }

  /**
   * Records a sale of one more unit to a session.
   *
   * @param session The session id.
   * @param orderId The order's id.
   */
  recordSale(session: string, orderId: string): void {
    this.keepSale(session, nextSale(this.#sales.get(session), orderId));
  }

  /**
   * Keeps what a session bought, as stored or committed.
   *
   * @param session The session id.
   * @param sale Its latest order and how many units it bought.
   */
  keepSale(session: string, sale: Sale): void {
    this.#sales.set(session, sale);
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

  /**
   * Applies a committed change.
   *
   * @param change What a draft of this stock changed.
   */
  apply(change: StockChange): void {
    for (const session of change.drop) this.release(session);
    for (const [session, hold] of change.put) this.hold(session, hold);
    for (const [session, sale] of change.sales) this.keepSale(session, sale);
    copyStoredFields(this, change.state);
  }
}

/**
 * What a session has bought after one more unit.
 *
 * @param before What it had bought, if anything.
 * @param orderId The order of the new unit.
 * @returns The new order and the count raised by one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(nextSale(undefined, "o1"), { orderId: "o1", count: 1 });
 * assert.deepEqual(nextSale({ orderId: "o1", count: 1 }, "o2"), { orderId: "o2", count: 2 });
 * ```
 */
export function nextSale(before: Sale | undefined, orderId: string): Sale {
  return { orderId, count: (before?.count ?? 0) + 1 };
}
