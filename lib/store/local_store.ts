/** A store whose stocks live in this process: decided by plain code, written by an engine if any. */
import type { Clock } from "../time/clock.ts";
import { type ProductState, type Sale, stateOf, type Stock } from "../inventory/ledger.ts";
import {
  type CheckoutStart,
  completeSale,
  type PaymentEnd,
  type PaymentSettlement,
  type ProductDecision,
  releaseUnit,
  restock,
  retire,
  takeUnit,
} from "../inventory/rules.ts";
import {
  awaitPaymentDecision,
  checkoutEndDecision,
  checkoutStartDecision,
  listingDecision,
  productDecision,
  settlePaymentDecision,
} from "./decisions.ts";
import type { StoredProduct, StoreEngine } from "./engine.ts";
import { GroupCommit, MAX_PRODUCTS_PER_COMMIT } from "./group_commit.ts";
import { HoldTimer } from "./hold_timer.ts";
import { type Decide, Shelf, type Stocks } from "./shelf.ts";
import type {
  ClientLimit,
  HeldUnit,
  InventoryStore,
  Listing,
  PendingCheckout,
  StoreHealth,
  StoreOutcome,
  StoreSnapshot,
} from "../inventory/store_port.ts";

/** How a local store expires holds. */
export interface LocalStoreOptions {
  /** How long a hold lasts from when it is taken, in ms. */
  holdTtlMs: number;
  /** The time source. */
  clock: Clock;
}

/** Sweeps of due holds a load makes at most (each ends the due holds of one commit's products). */
const MAX_LOAD_SWEEPS = 1_000;

/**
 * An {@linkcode InventoryStore} that keeps every product's stock in this process.
 *
 * Without an engine every operation is decided and applied at once. With one, operations are
 * batched: those that arrive while a commit is in flight are decided in order on drafts and
 * committed together by the next one (group commit), each answered with the state right after
 * it. A commit the engine refuses (another process wrote since) reloads those products and
 * decides the batch again.
 */
export class LocalStore implements InventoryStore {
  /** The engine's name, for logs and health: `memory`, `kv` or `redis`. */
  readonly kind: string;
  readonly #epoch: string;
  readonly #shelf = new Shelf();
  readonly #options: LocalStoreOptions;
  readonly #commits: GroupCommit | undefined;
  readonly #timer: HoldTimer;
  readonly #openedAt: number;

  /**
   * Opens a store on what an engine holds, and sets the timer for the first hold due.
   *
   * @param kind The engine's name.
   * @param epoch The store's epoch.
   * @param products What the engine holds.
   * @param options Hold lifetime and clock.
   * @param engine Where changes are written; none keeps them in memory.
   */
  constructor(
    kind: string,
    epoch: string,
    products: Iterable<StoredProduct>,
    options: LocalStoreOptions,
    engine?: StoreEngine,
  ) {
    this.kind = kind;
    this.#epoch = epoch;
    this.#options = options;
    this.#openedAt = options.clock.now();
    this.#timer = new HoldTimer(this.#shelf, options.clock, (id) =>
      this.#transact((stocks) => {
        stocks.get(id);
      }, false));
    this.#commits = engine &&
      new GroupCommit(engine, this.#shelf, options.clock, () => this.#timer.arm());
    for (const product of products) this.#shelf.adopt(product);
    this.#timer.arm();
  }

  /**
   * Tells the store's health: an engine in this process is always there.
   *
   * @returns Reachable since the store opened.
   */
  health(): StoreHealth {
    return { reachable: true, lastError: null, since: this.#openedAt };
  }

  /**
   * Reads every product, after the operations before it.
   *
   * @returns The snapshot.
   */
  async load(): Promise<StoreSnapshot> {
    // Holds that expired while no server ran end first, so the snapshot counts only live ones.
    const now = this.#options.clock.now();
    for (let pass = 0; pass < MAX_LOAD_SWEEPS; pass++) {
      const due = this.#shelf.due(now, MAX_PRODUCTS_PER_COMMIT);
      if (due.length === 0) break;
      await this.#transact((stocks) => {
        for (const id of due) stocks.get(id);
      }, false);
    }
    return await this.#transact(() => ({
      epoch: this.#epoch,
      products: [...this.#shelf.stocks()].map(stateOf),
    }), false);
  }

  /**
   * Lists what a session holds.
   *
   * @param session The session id.
   * @returns Its units, by product.
   */
  holdsOf(session: string): Promise<HeldUnit[]> {
    return Promise.resolve(this.#shelf.holdsOf(session, this.#options.clock.now()));
  }

  /**
   * Reads what a session bought of a product.
   *
   * @param product The product's id.
   * @param session The session id.
   * @returns Its sale; undefined when it bought none.
   */
  saleOf(product: string, session: string): Promise<Sale | undefined> {
    return Promise.resolve(this.#shelf.get(product)?.saleOf(session));
  }

  /**
   * Holds one unit for a session; a hold it has already stays as it is. The client's holds are
   * counted in the same decision, over every product of this store.
   *
   * @param product The product's id.
   * @param session The session id.
   * @param client The client's key and its limit of holds at once.
   * @returns The outcome.
   */
  take(product: string, session: string, client: ClientLimit): Promise<StoreOutcome> {
    return this.#onProduct(
      product,
      (stock, now, stocks) =>
        takeUnit(stock, session, now, this.#options.holdTtlMs, {
          ...client,
          held: () => stocks.heldBy(client.key),
        }),
    );
  }

  /**
   * Ends a session's hold, if any.
   *
   * @param product The product's id.
   * @param session The session id.
   * @returns The outcome.
   */
  release(product: string, session: string): Promise<StoreOutcome> {
    return this.#onProduct(product, (stock) => releaseUnit(stock, session));
  }

  /**
   * Sets a product's total; holds stay.
   *
   * @param product The product's id.
   * @param total The new total.
   * @returns The outcome.
   */
  restock(product: string, total: number): Promise<StoreOutcome> {
    return this.#onProduct(product, (stock) => {
      restock(stock, total);
      return { ok: true, inCart: false };
    });
  }

  /**
   * Retires a product, in as many commits as its holds need.
   *
   * @param product The product's id.
   * @returns The outcome.
   */
  async retire(product: string): Promise<StoreOutcome> {
    // Deno KV bounds the mutations of a commit: each step of the retirement is a commit of its own.
    for (;;) {
      let retired = false;
      const outcome = await this.#onProduct(product, (stock) => {
        retired = retire(stock);
        return { ok: true, inCart: false };
      });
      if (!outcome.ok || retired) return outcome;
    }
  }

  /**
   * Creates a product or updates its data (and total), listing a retired one again.
   *
   * @param listing The product's data and total.
   * @returns The product after it, and whether it is new.
   */
  list(listing: Listing): Promise<{ record: ProductState; created: boolean }> {
    return this.#transact(listingDecision(listing), false);
  }

  /**
   * Starts checking a hold out; with an engine, written before it answers.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param newOrderId The order id for a hold that has none yet.
   * @returns Whether to call the order service, and with which order.
   */
  beginCheckout(product: string, session: string, newOrderId: string): Promise<CheckoutStart> {
    return this.#transact(checkoutStartDecision(product, session, newOrderId), false);
  }

  /**
   * Sells the unit of a hold whose order the order service confirmed.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param orderId The order confirmed.
   * @returns The product after the sale; refused as an order mismatch when the hold is not
   *   that order's.
   */
  completeSale(product: string, session: string, orderId: string): Promise<StoreOutcome> {
    return this.#onProduct(product, (stock) => completeSale(stock, session, orderId));
  }

  /**
   * Ends a checkout that sold nothing: the hold stays, free to go or expire again.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param orderId The order tried.
   */
  endCheckout(product: string, session: string, orderId: string): Promise<void> {
    return this.#transact(checkoutEndDecision(product, session, orderId), false);
  }

  /**
   * Leaves a checkout awaiting payment; with an engine, written before it answers.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param orderId The order being checked out.
   * @param payBy When the payment's time runs out.
   * @returns True when the hold was that order's checkout in flight.
   */
  awaitPayment(product: string, session: string, orderId: string, payBy: number): Promise<boolean> {
    return this.#transact(awaitPaymentDecision(product, session, orderId, payBy), false);
  }

  /**
   * Settles a payment awaited, by this store's clock.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param orderId The order.
   * @param how Paid, cancelled or expired.
   * @returns What it did.
   */
  settlePayment(
    product: string,
    session: string,
    orderId: string,
    how: PaymentSettlement,
  ): Promise<PaymentEnd> {
    return this.#transact(settlePaymentDecision(product, session, orderId, how), false);
  }

  /**
   * Lists the checkouts in flight, as a start finds them after a stop.
   *
   * @returns Each one, with its order.
   */
  pendingCheckouts(): Promise<PendingCheckout[]> {
    return Promise.resolve(this.#shelf.pendingCheckouts());
  }

  /**
   * Registers a listener of committed changes.
   *
   * @param listener Called with the product's record after each change, in version order.
   * @returns A function that unregisters it.
   */
  onChange(listener: (record: ProductState) => void): () => void {
    return this.#shelf.onChange(listener);
  }

  /** Stops expiring holds, waits for operations in flight, and releases the engine. */
  async close(): Promise<void> {
    this.#timer.stop();
    await this.#commits?.close();
  }

  #onProduct(
    product: string,
    decide: (stock: Stock, now: number, stocks: Stocks) => ProductDecision,
  ): Promise<StoreOutcome> {
    return this.#transact(productDecision(product, decide));
  }

  /** Runs one operation: at once in memory, else in the next batch of the engine. */
  #transact<T>(decide: Decide<T>, verify = true): Promise<T> {
    if (this.#commits !== undefined) return this.#commits.run(decide, verify);
    try {
      const answer = this.#shelf.decide(decide, this.#options.clock.now());
      // The operation may have moved the first hold due.
      this.#timer.arm();
      return Promise.resolve(answer);
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
