/** The store on Redis: every process of a fleet decides on the same data through the library. */
import type { Clock } from "../time/clock.ts";
import type { ProductRecord } from "../inventory/ledger.ts";
import { type CheckoutStart, checkTotal, type Refusal } from "../inventory/rules.ts";
import {
  type HeldUnit,
  type InventoryStore,
  type Listing,
  type PendingCheckout,
  type StoreHealth,
  type StoreOutcome,
  type StoreSnapshot,
  StoreUnavailableError,
} from "../inventory/store_port.ts";
import { newEpoch } from "./memory_store.ts";
import { RedisConnection } from "./redis_connection.ts";
import { type ProductKeys, RedisKeys } from "./redis_keys.ts";
import { type FunctionReply, hashEntries, parseStoredHold } from "./redis_state.ts";
import { RedisView } from "./redis_view.ts";
import type { Presence } from "../realtime/presence.ts";
import { redisPresence } from "./redis_watchers.ts";

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
  #commands: RedisConnection | undefined;
  #subscription: RedisConnection | undefined;
  #epoch = "";
  #lostData: string | null = null;

  /**
   * Creates the store, not yet connected ({@linkcode openRedisStore} connects).
   *
   * @param options Where Redis is, and how holds last.
   */
  constructor(options: RedisStoreOptions) {
    this.#options = options;
    this.#keys = new RedisKeys(options.prefix ?? "inv");
    this.#view = new RedisView(this.#keys, options.clock, {
      call: (name, product, args) => this.#call(name, product, args),
      send: (args) => this.#connection().send(args),
      log: options.log,
    });
  }

  /**
   * Connects, loads the library and subscribes to the change channel.
   *
   * @throws {StoreUnavailableError} When Redis cannot be reached.
   */
  async connect(): Promise<void> {
    const { log } = this.#options;
    const recovered = () =>
      void this.#checkEpoch().then(() => this.#view.reloadAll()).catch(() => {});
    this.#commands = await RedisConnection.open(this.#options.url, { log, recovered });
    try {
      await this.#commands.loadLibrary();
      this.#subscription = await this.#commands.duplicate({ log: () => {}, recovered });
      await this.#subscription.subscribe(this.#keys.changes, (message) => this.#view.hear(message));
    } catch (error) {
      await this.close();
      throw error;
    }
    this.#view.startChecking();
  }

  /**
   * Tells whether Redis answers (both connections), and the last failure.
   *
   * @returns The health.
   */
  health(): StoreHealth {
    const commands = this.#connection().health;
    if (this.#lostData !== null) {
      return { reachable: false, lastError: this.#lostData, since: commands.since };
    }
    const subscription = this.#subscription?.health;
    return subscription?.reachable === false ? subscription : commands;
  }

  /**
   * Reads every product (ending the holds that are due) and the epoch, set here when Redis holds
   * no shop yet.
   *
   * @returns The snapshot.
   */
  async load(): Promise<StoreSnapshot> {
    const redis = this.#connection();
    await redis.send(["SET", this.#keys.epoch, newEpoch(), "NX"]);
    this.#epoch = String(await redis.send(["GET", this.#keys.epoch]));
    await this.#view.reloadAll();
    return { epoch: this.#epoch, products: this.#view.records() };
  }

  /**
   * Lists what a session holds, in every product.
   *
   * @param session The session id.
   * @returns Its units that have not expired.
   */
  async holdsOf(session: string): Promise<HeldUnit[]> {
    const redis = this.#connection();
    const ids = this.#view.ids();
    const raws = await Promise.all(
      ids.map((id) => redis.send(["HGET", this.#keys.product(id).holds, session])),
    );
    const now = Date.now();
    const units: HeldUnit[] = [];
    raws.forEach((raw, i) => {
      if (typeof raw !== "string") return;
      const hold = parseStoredHold(raw);
      if (hold.checkingOut || hold.expiresAt > now) {
        units.push({ product: ids[i], expiresAt: hold.expiresAt });
      }
    });
    return units;
  }

  /**
   * Holds one unit for a session, or refreshes its hold.
   *
   * @param product The product's id.
   * @param session The session id.
   * @returns The outcome.
   */
  async take(product: string, session: string): Promise<StoreOutcome> {
    const reply = await this.#call("inventory_take", product, [
      session,
      String(this.#options.holdTtlMs),
    ]);
    return this.#outcome(reply, true);
  }

  /**
   * Ends a session's hold, if any.
   *
   * @param product The product's id.
   * @param session The session id.
   * @returns The outcome.
   */
  async release(product: string, session: string): Promise<StoreOutcome> {
    return this.#outcome(await this.#call("inventory_release", product, [session]), false);
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
    return this.#outcome(await this.#call("inventory_restock", product, [String(total)]), false);
  }

  /**
   * Creates a product or updates its data (and total), listing a retired one again.
   *
   * @param listing The product's data and total.
   * @returns The product after it, and whether it is new.
   */
  async list(listing: Listing): Promise<{ record: ProductRecord; created: boolean }> {
    if (listing.total !== undefined) checkTotal(listing.total);
    const id = listing.info.id;
    // The catalog names the product first: a product never exists outside it.
    await this.#connection().call("inventory_enlist", [
      this.#keys.catalog,
      this.#keys.catalogOrder,
    ], [id]);
    const [status, state] = await this.#call("inventory_list", id, [
      JSON.stringify(listing.info),
      listing.total === undefined ? "" : String(listing.total),
      listing.fromFile ? "1" : "0",
    ]);
    return { record: this.#view.learn(state!), created: status === "created" };
  }

  /**
   * Retires a product, ending its holds (those checking out stay), in steps of at most 500.
   *
   * @param product The product's id.
   * @returns The outcome.
   */
  async retire(product: string): Promise<StoreOutcome> {
    for (;;) {
      const reply = await this.#call("inventory_retire", product, []);
      if (reply[0] !== "more") return this.#outcome(reply, false);
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
    const [status, state, orderId, heldAt] = await this.#call(
      "inventory_begin_checkout",
      product,
      [session, newOrderId, String(this.#options.checkoutTimeoutMs + CHECKOUT_LEASE_MARGIN_MS)],
    );
    if (state !== undefined) this.#view.learn(state);
    if (status === "call") return { kind: "call", orderId: orderId!, heldAt: Number(heldAt) };
    if (status === "sold") return { kind: "sold", orderId: orderId! };
    return {
      kind: "refused",
      reason: status as "not in cart" | "checkout in progress" | "retired",
    };
  }

  /**
   * Sells the unit of a hold whose order the order service confirmed.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param orderId The order confirmed.
   * @returns The product after the sale; refused when the hold is not that order's.
   */
  async completeSale(product: string, session: string, orderId: string): Promise<StoreOutcome> {
    const reply = await this.#call("inventory_complete_sale", product, [session, orderId]);
    return this.#outcome(reply, false);
  }

  /**
   * Ends a checkout that sold nothing: the hold may expire or go again.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param orderId The order tried.
   */
  async endCheckout(product: string, session: string, orderId: string): Promise<void> {
    const [, state] = await this.#call("inventory_end_checkout", product, [session, orderId]);
    if (state !== undefined) this.#view.learn(state);
  }

  /**
   * Lists the checkouts in flight in every product (a fleet's, not only this process's).
   *
   * @returns Each one, with its order.
   */
  async pendingCheckouts(): Promise<PendingCheckout[]> {
    const redis = this.#connection();
    const ids = this.#view.ids();
    const all = await Promise.all(
      ids.map((id) => redis.send(["HGETALL", this.#keys.product(id).holds])),
    );
    const pending: PendingCheckout[] = [];
    all.forEach((reply, i) => {
      for (const [session, raw] of hashEntries(reply)) {
        const hold = parseStoredHold(raw);
        if (!hold.checkingOut) continue;
        pending.push({ product: ids[i], session, orderId: hold.orderId, heldAt: hold.heldAt });
      }
    });
    return pending;
  }

  /**
   * Registers a listener of changes, this process's and every other's.
   *
   * @param listener Called with each newer record of a product.
   * @returns A function that unregisters it.
   */
  onChange(listener: (record: ProductRecord) => void): () => void {
    return this.#view.onChange(listener);
  }

  /**
   * The fleet's presence on this store's Redis (a port of the real-time layer, not of the
   * inventory): every process's watchers in one hash.
   */
  get presence(): Presence {
    return redisPresence((args) => this.#connection().send(args), this.#keys.watchers);
  }

  /** Stops the timers and closes both connections after the commands in flight. */
  async close(): Promise<void> {
    this.#view.stop();
    await Promise.all([this.#subscription?.close(), this.#commands?.close()]);
  }

  #connection(): RedisConnection {
    if (this.#commands === undefined) throw new Error("The Redis store is not connected");
    return this.#commands;
  }

  async #call(name: string, product: string, args: string[]): Promise<FunctionReply> {
    if (this.#lostData !== null) throw new StoreUnavailableError(this.#lostData);
    return await this.#connection().call(
      name,
      keyList(this.#keys.product(product)),
      [this.#keys.changes, ...args],
    ) as FunctionReply;
  }

  #outcome([status, state]: FunctionReply, inCart: boolean): StoreOutcome {
    if (state === undefined) return { ok: false, reason: "unknown product" };
    const record = this.#view.learn(state);
    if (status === "ok") return { ok: true, record, inCart };
    return { ok: false, reason: status as Refusal, record };
  }

  /** After a reconnect: a Redis that lost the shop's data has a new epoch, or none. */
  async #checkEpoch(): Promise<void> {
    if (this.#epoch === "" || this.#lostData !== null) return;
    const epoch = await this.#connection().send(["GET", this.#keys.epoch]);
    if (epoch === this.#epoch) return;
    this.#lostData = `Redis lost the shop's data (epoch ${this.#epoch} is now ${epoch}): ` +
      "restart this process";
    this.#options.log(this.#lostData);
  }
}

function keyList(keys: ProductKeys): string[] {
  return [keys.record, keys.holds, keys.expiry, keys.sales];
}
