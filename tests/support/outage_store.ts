/** A store in memory that a test can cut off, to see what the shop does while its store is down. */
import { systemClock } from "../../lib/time/clock.ts";
import type { ProductState, Sale } from "../../lib/inventory/ledger.ts";
import type { CheckoutStart, PaymentEnd, PaymentSettlement } from "../../lib/inventory/rules.ts";
import {
  type ClientLimit,
  type HeldUnit,
  type InventoryStore,
  type Listing,
  type PendingCheckout,
  type StoreHealth,
  type StoreOutcome,
  type StoreSnapshot,
  StoreUnavailableError,
} from "../../lib/inventory/store_port.ts";
import { openMemoryStore } from "../../lib/store/memory_store.ts";

/** What the store says while it is cut off. */
const OUTAGE = "The test cut the store off";

/**
 * A real store in memory behind a switch. Cut off, every write throws
 * {@linkcode StoreUnavailableError} before it reaches the store (so nothing changes) and its health
 * says unreachable, as a Redis store's does while Redis does not answer; reads still answer.
 */
export class OutageStore implements InventoryStore {
  readonly #store: InventoryStore;
  #health: StoreHealth;

  /**
   * Wraps a store.
   *
   * @param store The store that keeps the data.
   */
  constructor(store: InventoryStore) {
    this.#store = store;
    this.#health = store.health();
  }

  /** The engine behind the switch. */
  get kind(): string {
    return this.#store.kind;
  }

  /** Makes every write fail, until {@linkcode OutageStore.restore}. */
  cutOff(): void {
    this.#health = { reachable: false, lastError: OUTAGE, since: Date.now() };
  }

  /** Lets writes through again; the last error stays in the health. */
  restore(): void {
    this.#health = { ...this.#health, reachable: true, since: Date.now() };
  }

  /** @returns Unreachable while cut off. */
  health(): StoreHealth {
    return this.#health;
  }

  /** @returns The snapshot. */
  load(): Promise<StoreSnapshot> {
    return this.#store.load();
  }

  /** @returns The session's units. */
  holdsOf(session: string): Promise<HeldUnit[]> {
    return this.#store.holdsOf(session);
  }

  /** @returns The session's sale of the product. */
  saleOf(product: string, session: string): Promise<Sale | undefined> {
    return this.#store.saleOf(product, session);
  }

  /** @returns The outcome; throws while cut off. */
  take(product: string, session: string, client: ClientLimit): Promise<StoreOutcome> {
    return this.#write(() => this.#store.take(product, session, client));
  }

  /** @returns The outcome; throws while cut off. */
  release(product: string, session: string): Promise<StoreOutcome> {
    return this.#write(() => this.#store.release(product, session));
  }

  /** @returns The outcome; throws while cut off. */
  restock(product: string, total: number): Promise<StoreOutcome> {
    return this.#write(() => this.#store.restock(product, total));
  }

  /** @returns The product after it; throws while cut off. */
  list(listing: Listing): Promise<{ record: ProductState; created: boolean }> {
    return this.#write(() => this.#store.list(listing));
  }

  /** @returns The outcome; throws while cut off. */
  retire(product: string): Promise<StoreOutcome> {
    return this.#write(() => this.#store.retire(product));
  }

  /** @returns How to go on; throws while cut off. */
  beginCheckout(product: string, session: string, newOrderId: string): Promise<CheckoutStart> {
    return this.#write(() => this.#store.beginCheckout(product, session, newOrderId));
  }

  /** @returns The outcome; throws while cut off. */
  completeSale(product: string, session: string, orderId: string): Promise<StoreOutcome> {
    return this.#write(() => this.#store.completeSale(product, session, orderId));
  }

  /** Throws while cut off. */
  endCheckout(product: string, session: string, orderId: string): Promise<void> {
    return this.#write(() => this.#store.endCheckout(product, session, orderId));
  }

  /** Throws while cut off. */
  awaitPayment(product: string, session: string, orderId: string, payBy: number): Promise<boolean> {
    return this.#write(() => this.#store.awaitPayment(product, session, orderId, payBy));
  }

  /** Throws while cut off. */
  settlePayment(
    product: string,
    session: string,
    orderId: string,
    how: PaymentSettlement,
  ): Promise<PaymentEnd> {
    return this.#write(() => this.#store.settlePayment(product, session, orderId, how));
  }

  /** @returns The checkouts in flight. */
  pendingCheckouts(): Promise<PendingCheckout[]> {
    return this.#store.pendingCheckouts();
  }

  /** @returns A function that unregisters the listener. */
  onChange(listener: (record: ProductState) => void): () => void {
    return this.#store.onChange(listener);
  }

  /** Closes the store behind the switch. */
  close(): Promise<void> {
    return this.#store.close();
  }

  #write<T>(operation: () => Promise<T>): Promise<T> {
    if (!this.#health.reachable) return Promise.reject(new StoreUnavailableError(OUTAGE));
    return operation();
  }
}

/**
 * Opens an empty store in memory behind a switch, reachable until cut off.
 *
 * @param holdTtlMs How long a hold lasts, in ms.
 * @returns The store; the caller closes it.
 */
export function openOutageStore(holdTtlMs: number): OutageStore {
  return new OutageStore(openMemoryStore({ holdTtlMs, clock: systemClock }));
}
