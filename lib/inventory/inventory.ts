/** The shop's inventory as this process knows it: a read model fed by the store's change feed. */
import type { ProductState, Sale } from "./ledger.ts";
import { catalogOrder } from "./catalog_order.ts";
import {
  type ClientLimit,
  type HeldUnit,
  type InventoryStore,
  type Listing,
  type PendingCheckout,
  type StoreHealth,
  type StoreOutcome,
  UNCOUNTED_CLIENT,
} from "./store_port.ts";
import type { CheckoutStart, PaymentEnd, PaymentSettlement } from "./rules.ts";

/**
 * Every product's latest record, kept in memory from the store's changes, so that pages and pushes
 * never wait for the store; operations go to the store, which decides them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../time/clock.ts";
 * import { openMemoryStore } from "../store/memory_store.ts";
 * const store = openMemoryStore({ holdTtlMs: 60_000, clock: systemClock });
 * const inventory = await Inventory.open(store, 60_000);
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * await inventory.list({ info, total: 3 });
 * await inventory.add("a", crypto.randomUUID());
 * assert.equal(inventory.get("a")?.held, 1);
 * assert.equal(inventory.soleProduct()?.info.id, "a");
 * await store.close();
 * ```
 */
export class Inventory {
  readonly #store: InventoryStore;
  readonly #records = new Map<string, ProductState>();
  /** Every product in {@linkcode catalogOrder}, retired ones too; null until asked for again. */
  #ordered: ProductState[] | null = null;
  readonly #listeners = new Set<(record: ProductState) => void>();
  readonly #epoch: string;
  readonly #holdTtlMs: number;

  private constructor(store: InventoryStore, epoch: string, holdTtlMs: number) {
    this.#store = store;
    this.#epoch = epoch;
    this.#holdTtlMs = holdTtlMs;
    store.onChange((record) => this.#learn(record));
  }

  /**
   * Reads every product from a store and follows its changes.
   *
   * @param store The store; the caller closes it.
   * @param holdTtlMs How long the store keeps a hold, for pages that say so.
   * @returns The inventory.
   */
  static async open(store: InventoryStore, holdTtlMs: number): Promise<Inventory> {
    const snapshot = await store.load();
    const inventory = new Inventory(store, snapshot.epoch, holdTtlMs);
    for (const record of snapshot.products) inventory.#learn(record);
    return inventory;
  }

  /** The store's epoch: it changes when the store starts empty. */
  get epoch(): string {
    return this.#epoch;
  }

  /** The store's engine, for health and logs. */
  get storeKind(): string {
    return this.#store.kind;
  }

  /**
   * Tells whether the store answers now: while it does not, writes are refused and this process
   * serves the last state it knows.
   *
   * @returns The store's health.
   */
  storeHealth(): StoreHealth {
    return this.#store.health();
  }

  /** How long a hold lasts from when it is taken, in ms. */
  get holdTtlMs(): number {
    return this.#holdTtlMs;
  }

  /**
   * The latest record of a product.
   *
   * @param id The product's id.
   * @returns Its record, retired or not; undefined when unknown.
   */
  get(id: string): ProductState | undefined {
    return this.#records.get(id);
  }

  /** Every product on sale, in the catalog's order (see {@linkcode catalogOrder}). */
  products(): ProductState[] {
    return this.allProducts().filter((record) => !record.retired);
  }

  /**
   * The product on sale when it is the only one: what a request that names no product means.
   *
   * @returns Its record; undefined when none or several are on sale.
   */
  soleProduct(): ProductState | undefined {
    // It runs for every request that names no product: it stops at a second product on sale.
    let sole: ProductState | undefined;
    for (const record of this.#records.values()) {
      if (record.retired) continue;
      if (sole !== undefined) return undefined;
      sole = record;
    }
    return sole;
  }

  /** Every product, retired ones too, in the catalog's order. */
  allProducts(): ProductState[] {
    // Pages ask for every change; the order changes only with a product's position or place.
    this.#ordered ??= catalogOrder([...this.#records.values()]);
    return [...this.#ordered];
  }

  /**
   * Registers a listener of every change, called after the record is current here.
   *
   * @param listener Called with the product's new record.
   * @returns A function that unregisters it.
   */
  onChange(listener: (record: ProductState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Puts one unit of a product in a session's cart.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param client The client address taking it, and its limit of holds at once; in-process
   *   callers that have no address are not counted.
   * @returns What the store decided.
   */
  add(
    product: string,
    session: string,
    client: ClientLimit = UNCOUNTED_CLIENT,
  ): Promise<StoreOutcome> {
    return this.#store.take(product, session, client);
  }

  /**
   * Takes a session's unit of a product out of its cart.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @returns What the store decided.
   */
  remove(product: string, session: string): Promise<StoreOutcome> {
    return this.#store.release(product, session);
  }

  /**
   * Sets a product's total; holds stay.
   *
   * @param product The product's id.
   * @param total The new total.
   * @returns What the store decided.
   */
  restock(product: string, total: number): Promise<StoreOutcome> {
    return this.#store.restock(product, total);
  }

  /**
   * Creates or updates a product.
   *
   * @param listing Its data and total.
   * @returns Its record and whether it is new.
   */
  async list(listing: Listing): Promise<{ record: ProductState; created: boolean }> {
    const listed = await this.#store.list(listing);
    // What the file gives changes no version, so no store tells it as a change; the order needs it.
    this.#learn(listed.record);
    return listed;
  }

  /**
   * Retires a product: no longer sold, its holds end, its pages are told.
   *
   * @param product The product's id.
   * @returns What the store decided.
   */
  retire(product: string): Promise<StoreOutcome> {
    return this.#store.retire(product);
  }

  /**
   * Starts checking a hold out (see {@linkcode InventoryStore.beginCheckout}).
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param newOrderId The order id for a hold that has none yet.
   * @returns Whether to call the order service, and with which order.
   */
  beginCheckout(product: string, session: string, newOrderId: string): Promise<CheckoutStart> {
    return this.#store.beginCheckout(product, session, newOrderId);
  }

  /**
   * Sells the unit of a confirmed order.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param orderId The order confirmed.
   * @returns What the store decided.
   */
  completeSale(product: string, session: string, orderId: string): Promise<StoreOutcome> {
    return this.#store.completeSale(product, session, orderId);
  }

  /**
   * Ends a checkout that sold nothing; the hold stays.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param orderId The order tried.
   */
  endCheckout(product: string, session: string, orderId: string): Promise<void> {
    return this.#store.endCheckout(product, session, orderId);
  }

  /**
   * Leaves a checkout awaiting payment (see {@linkcode InventoryStore.awaitPayment}).
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param orderId The order being checked out.
   * @param payBy When the payment's time runs out, in ms since the epoch.
   * @returns True when the hold was that order's checkout in flight.
   */
  awaitPayment(product: string, session: string, orderId: string, payBy: number): Promise<boolean> {
    return this.#store.awaitPayment(product, session, orderId, payBy);
  }

  /**
   * Settles a payment awaited (see {@linkcode InventoryStore.settlePayment}).
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param orderId The order.
   * @param how Paid, cancelled or expired.
   * @returns What the store did.
   */
  settlePayment(
    product: string,
    session: string,
    orderId: string,
    how: PaymentSettlement,
  ): Promise<PaymentEnd> {
    return this.#store.settlePayment(product, session, orderId, how);
  }

  /** The checkouts a stopped server left in flight. */
  pendingCheckouts(): Promise<PendingCheckout[]> {
    return this.#store.pendingCheckouts();
  }

  /**
   * Reads what a session bought of a product.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @returns Its latest order and how many units it bought; undefined when it bought none.
   */
  saleOf(product: string, session: string): Promise<Sale | undefined> {
    return this.#store.saleOf(product, session);
  }

  /**
   * Lists a session's cart.
   *
   * @param session The shopper's session.
   * @returns Its units, by product, in catalog order.
   */
  async cartOf(session: string): Promise<HeldUnit[]> {
    const units = await this.#store.holdsOf(session);
    const order = this.allProducts().map((record) => record.info.id);
    return units.sort((a, b) => order.indexOf(a.product) - order.indexOf(b.product));
  }

  #learn(record: ProductState): void {
    const known = this.#records.get(record.info.id);
    // A feed may repeat or reorder (another process's news); a record never goes back.
    if (known !== undefined && known.version >= record.version) {
      if (newlyListed(known, record)) {
        this.#records.set(record.info.id, record);
        this.#ordered = null;
      }
      return;
    }
    this.#records.set(record.info.id, record);
    this.#ordered = null;
    for (const listener of this.#listeners) {
      try {
        listener(record);
      } catch (error) {
        console.error("inventory listener failed:", error);
      }
    }
  }
}

/**
 * Whether a record of the same version brings what the catalog file now gives: the store keeps
 * that without a new version, as no page shows it, but the order follows it.
 */
function newlyListed(known: ProductState, record: ProductState): boolean {
  return known.version === record.version &&
    JSON.stringify(known.listed ?? null) !== JSON.stringify(record.listed ?? null);
}
