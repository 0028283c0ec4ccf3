/** The store on Redis: every process of a fleet decides on the same data through the library. */
import type { Clock } from "../time/clock.ts";
import type { ProductState, Sale } from "../inventory/ledger.ts";
import {
  type CheckoutStart,
  checkTotal,
  type PaymentEnd,
  type PaymentSettlement,
} from "../inventory/rules.ts";
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
import { RedisKeys } from "./redis_keys.ts";
import { RedisLink } from "./redis_link.ts";
import { redisRateLimiter } from "./redis_rate_limiter.ts";
import { fleetChallengeKey, redisSpentChallenges } from "./redis_join_challenges.ts";
import type { SpentChallenges } from "../queue/spent_challenges.ts";
import type { RateLimiter, TokenBucketRule } from "../limits/rate_limiter.ts";
import { checkoutStartOf } from "./redis_state.ts";
import { RedisView } from "./redis_view.ts";
import type { Presence } from "../realtime/presence.ts";
import { redisPresence } from "./redis_watchers.ts";
import type { LineAccess } from "./redis_drops.ts";
import type { PaymentBook } from "../inventory/payment_book.ts";
import { redisPaymentBook } from "./redis_payment_book.ts";
import type { OrderLog } from "../inventory/order_log.ts";
import { redisOrderLog } from "./redis_order_log.ts";

/**
 * How much longer than its call to the order service a checkout's lease lasts: time to record the
 * sale (or end the checkout) in Redis, at most one command timeout, with room to spare.
 */
export const CHECKOUT_LEASE_MARGIN_MS = 3_000;

/** How a Redis store is opened. */
export interface RedisStoreOptions {
  /** A `redis://` or `rediss://` URL. */
  readonly url: string;
  /** How long a new hold lasts, in ms. */
  readonly holdTtlMs: number;
  /**
   * How long a checkout's call to the order service may take, in ms. A checkout not ended
   * {@linkcode CHECKOUT_LEASE_MARGIN_MS} after that (its process died) is taken over by the next.
   */
  readonly checkoutTimeoutMs: number;
  /** The prefix of every key; `inv` unless set. */
  readonly prefix?: string;
  /** Sets the timers (hold expiry, version check); hold times come from Redis's clock. */
  readonly clock: Clock;
  /** Writes a line to the log. */
  readonly log: (line: string) => void;
}

/**
 * Opens the store on Redis: connects twice (commands, and the change channel), loads the function
 * library, and subscribes.
 *
 * @param options Where Redis is, and how holds last.
 * @returns The store.
 * @throws {StoreUnavailableError} When Redis cannot be reached.
 */
export async function openRedisStore(options: RedisStoreOptions): Promise<RedisStore> {
  const store = new RedisStore(options);
  await store.connect();
  return store;
}

/**
 * An {@linkcode InventoryStore} whose data is in Redis. Each operation is one function call,
 * atomic in Redis; its answer and every change from any process (the change channel) feed one
 * record per product here, newer versions only.
 */
export class RedisStore implements InventoryStore {
  /** The engine's name: `redis`. */
  readonly kind = "redis";
  readonly #options: RedisStoreOptions;
  readonly #keys: RedisKeys;
  readonly #view: RedisView;
  readonly #link: RedisLink;
  readonly #recoveries = new Set<() => void>();

  /**
   * Creates the store, not yet connected ({@linkcode openRedisStore} connects).
   *
   * @param options Where Redis is, and how holds last.
   */
  constructor(options: RedisStoreOptions) {
    this.#options = options;
    this.#keys = new RedisKeys(options.prefix ?? "inv");
    this.#link = new RedisLink(options.url, this.#keys, {
      log: options.log,
      heard: (message) => this.#view.hear(message),
      recovered: () => {
        for (const listener of this.#recoveries) listener();
        return this.#view.reloadAll();
      },
    });
    this.#view = new RedisView(this.#keys, options.clock, this.#link, options.log);
  }

  /**
   * Connects, loads the library and subscribes to the change channel.
   *
   * @throws {StoreUnavailableError} When Redis cannot be reached.
   */
  async connect(): Promise<void> {
    await this.#link.connect();
    this.#view.startChecking();
  }

  /**
   * Tells whether Redis answers (both connections), and the last failure.
   *
   * @returns The health.
   */
  health(): StoreHealth {
    return this.#link.health();
  }

  /**
   * Reads every product (ending the holds that are due) and the epoch, set here when Redis holds
   * no shop yet.
   *
   * @returns The snapshot.
   */
  async load(): Promise<StoreSnapshot> {
    const epoch = await this.#link.loadEpoch();
    await this.#view.reloadAll();
    return { epoch, products: this.#view.records() };
  }

  /**
   * Lists what a session holds, in every product.
   *
   * @param session The session id.
   * @returns Its units that have not expired.
   */
  async holdsOf(session: string): Promise<HeldUnit[]> {
    return await this.#view.unitsOf(session, Date.now());
  }

  /**
   * Reads what a session bought of a product, as the fleet's functions wrote it
   * (`count|orderId`, or the order id alone for a sale written before sales were counted).
   *
   * @param product The product's id.
   * @param session The session id.
   * @returns Its sale; undefined when it bought none.
   */
  async saleOf(product: string, session: string): Promise<Sale | undefined> {
    const raw = await this.#link.send(["HGET", this.#keys.product(product).sales, session]);
    if (typeof raw !== "string") return undefined;
    const counted = /^(\d+)\|(.*)$/.exec(raw);
    return counted === null
      ? { orderId: raw, count: 1 }
      : { orderId: counted[2], count: Number(counted[1]) };
  }

  /**
   * Holds one unit for a session; a hold it has already stays as it is. The client's holds are
   * counted in the same function call, over every product and every process of the fleet.
   *
   * @param product The product's id.
   * @param session The session id.
   * @param client The client's key and its limit of holds at once.
   * @returns The outcome.
   */
  async take(product: string, session: string, client: ClientLimit): Promise<StoreOutcome> {
    const ttl = String(this.#options.holdTtlMs);
    const args = [session, ttl, client.key, String(client.maxHolds)];
    const reply = await this.#link.call("inventory_take", product, args);
    return this.#view.outcome(reply, true);
  }

  /**
   * Ends a session's hold, if any.
   *
   * @param product The product's id.
   * @param session The session id.
   * @returns The outcome.
   */
  async release(product: string, session: string): Promise<StoreOutcome> {
    return this.#view.outcome(
      await this.#link.call("inventory_release", product, [session]),
      false,
    );
  }

  /**
   * Sets a product's total; holds stay.
   *
   * @param product The product's id.
   * @param total The new total.
   * @returns The outcome.
   * @throws {RangeError} When the total is not a whole number in range.
   */
  async restock(product: string, total: number): Promise<StoreOutcome> {
    checkTotal(total);
    const reply = await this.#link.call("inventory_restock", product, [String(total)]);
    return this.#view.outcome(reply, false);
  }

  /**
   * Creates a product or updates its data (and total), listing a retired one again.
   *
   * @param listing The product's data and total.
   * @returns The product after it, and whether it is new.
   */
  async list(listing: Listing): Promise<{ record: ProductState; created: boolean }> {
    if (listing.total !== undefined) checkTotal(listing.total);
    const id = listing.info.id;
    // The catalog names the product first: a product never exists outside it.
    const { catalog, catalogOrder } = this.#keys;
    await this.#link.callOn("inventory_enlist", [catalog, catalogOrder], [id]);
    const [status, state] = await this.#link.call("inventory_list", id, [
      JSON.stringify(listing.info),
      listing.total === undefined ? "" : String(listing.total),
      listing.fromFile ? "1" : "0",
      listing.listed === undefined ? "" : JSON.stringify(listing.listed),
    ]);
    return { record: this.#view.learn(state!), created: status === "created" };
  }

  /**
   * Retires a product, ending its holds (those checking out stay), a bounded number per call.
   *
   * @param product The product's id.
   * @returns The outcome.
   */
  async retire(product: string): Promise<StoreOutcome> {
    for (;;) {
      const reply = await this.#link.call("inventory_retire", product, []);
      if (reply[0] !== "more") return this.#view.outcome(reply, false);
      this.#view.learn(reply[1]!);
    }
  }

  /**
   * Starts checking a hold out, durable in Redis before it answers. A hold whose checkout's lease
   * ran out is checked out again with its order.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param newOrderId The order id for a hold that has none yet.
   * @returns Whether to call the order service, and with which order.
   */
  async beginCheckout(
    product: string,
    session: string,
    newOrderId: string,
  ): Promise<CheckoutStart> {
    const reply = await this.#link.call(
      "inventory_begin_checkout",
      product,
      [session, newOrderId, String(this.#options.checkoutTimeoutMs + CHECKOUT_LEASE_MARGIN_MS)],
    );
    if (reply[1] !== undefined) this.#view.learn(reply[1]);
    return checkoutStartOf(reply);
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
  async completeSale(product: string, session: string, orderId: string): Promise<StoreOutcome> {
    const reply = await this.#link.call("inventory_complete_sale", product, [session, orderId]);
    return this.#view.outcome(reply, false);
  }

  /**
   * Ends a checkout that sold nothing: the hold may expire or go again.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param orderId The order tried.
   */
  async endCheckout(product: string, session: string, orderId: string): Promise<void> {
    const [, state] = await this.#link.call("inventory_end_checkout", product, [session, orderId]);
    if (state !== undefined) this.#view.learn(state);
  }

  /**
   * Leaves a checkout awaiting payment, in one function call.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param orderId The order being checked out.
   * @param payBy When the payment's time runs out.
   * @returns True when the hold was that order's checkout in flight.
   */
  async awaitPayment(
    product: string,
    session: string,
    orderId: string,
    payBy: number,
  ): Promise<boolean> {
    const [status, state] = await this.#link.call(
      "inventory_await_payment",
      product,
      [session, orderId, String(payBy)],
    );
    if (state !== undefined) this.#view.learn(state);
    return status === "ok";
  }

  /**
   * Settles a payment awaited by Redis's clock: of the fleet's processes asking, one does it.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param orderId The order.
   * @param how Paid, cancelled or expired.
   * @returns What it did.
   */
  async settlePayment(
    product: string,
    session: string,
    orderId: string,
    how: PaymentSettlement,
  ): Promise<PaymentEnd> {
    const [status, state] = await this.#link.call(
      "inventory_settle_payment",
      product,
      [session, orderId, how],
    );
    if (state !== undefined) this.#view.learn(state);
    if (status === "done" || status === "sold" || status === "gone" || status === "not due") {
      return status;
    }
    throw new Error(`The Redis library answered an unknown status: ${JSON.stringify(status)}`);
  }

  /**
   * Lists the checkouts in flight in every product (a fleet's, not only this process's).
   *
   * @returns Each one, with its order.
   */
  async pendingCheckouts(): Promise<PendingCheckout[]> {
    return await this.#view.pendingCheckouts();
  }

  /**
   * Registers a listener of changes, this process's and every other's.
   *
   * @param listener Called with each newer record of a product.
   * @returns A function that unregisters it.
   */
  onChange(listener: (record: ProductState) => void): () => void {
    return this.#view.onChange(listener);
  }

  /**
   * The fleet's presence on this store's Redis (a port of the real-time layer, not of the
   * inventory): every process's watchers in one hash.
   */
  get presence(): Presence {
    return redisPresence((args) => this.#link.send(args), this.#keys.watchers);
  }

  /**
   * The payments awaited, in this store's Redis: the fleet's one book.
   *
   * @returns The book.
   */
  payments(): PaymentBook {
    return redisPaymentBook(
      (args) => this.#link.send(args),
      (name, keys, args) => this.#link.callOn(name, keys, args),
      { base: this.#keys.paymentBook, legacy: this.#keys.payments },
      { clock: this.#options.clock },
    );
  }

  /**
   * The drops' lines on this store's Redis: their functions, the queue channel, and the news of a
   * reconnect (what this process missed must be read again).
   *
   * @returns The access the fleet's drops (`RedisDrops`) work through.
   */
  lines(): LineAccess {
    return {
      call: (name, product, args) => this.#link.callLine(name, product, args),
      send: (args) => this.#link.send(args),
      keys: (product) => this.#keys.line(product),
      listen: (listener) => this.#link.listen(this.#keys.queueChanges, listener),
      onRecovered: (listener) => {
        this.#recoveries.add(listener);
        return () => this.#recoveries.delete(listener);
      },
    };
  }

  /**
   * The fleet's add rate on this store's Redis: one bucket per client for every process.
   *
   * @param rule The rate and the burst.
   * @returns The limiter.
   */
  addRateLimiter(rule: TokenBucketRule): RateLimiter {
    return redisRateLimiter(
      (name, keys, args) => this.#link.callOn(name, keys, args),
      (client) => this.#keys.addRate(client),
      rule,
    );
  }

  /**
   * What every process needs to check the others' join challenges: the fleet's one signing key
   * (chosen by the first process to ask) and the solutions spent anywhere.
   *
   * @param candidate A fresh random key, kept if the fleet has none yet.
   * @returns The key and the shared memory of spent challenges.
   * @throws {StoreUnavailableError} When Redis cannot be reached.
   */
  async joinChallenges(candidate: string): Promise<{ hmacKey: string; spent: SpentChallenges }> {
    const call = (name: string, keys: readonly string[], args: readonly string[]) =>
      this.#link.callOn(name, keys, args);
    return {
      hmacKey: await fleetChallengeKey(call, this.#keys.challengeKey, candidate),
      spent: redisSpentChallenges(call, (challenge) => this.#keys.spentChallenge(challenge)),
    };
  }

  /**
   * The order log, in this store's Redis: the fleet's one log of the last orders.
   *
   * @returns The log.
   */
  orderLog(): OrderLog {
    return redisOrderLog(
      (args) => this.#link.send(args),
      (name, keys, args) => this.#link.callOn(name, keys, args),
      this.#keys.orderLog,
    );
  }

  /** Stops the timers and closes both connections after the commands in flight. */
  async close(): Promise<void> {
    this.#view.stop();
    await this.#link.close();
  }
}
