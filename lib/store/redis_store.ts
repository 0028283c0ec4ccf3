/** The store on Redis: every process of a fleet decides on the same data through the library. */
import type { Clock } from "../inventory/clock.ts";
import { ExpiryHeap } from "../inventory/expiry_heap.ts";
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
import { HoldTimer } from "./hold_timer.ts";
import { newEpoch } from "./memory_store.ts";
import { ProductVersions } from "./product_versions.ts";
import { RedisConnection } from "./redis_connection.ts";
import { type ProductKeys, RedisKeys } from "./redis_keys.ts";
import { parseProductState, type RedisProductState } from "./redis_state.ts";

/** How often every product's version is compared with Redis's, to catch a silent subscription. */
export const VERSION_CHECK_INTERVAL_MS = 3_000;

/**
 * How much longer than its call to the order service a checkout's lease lasts: time to record the
 * sale (or end the checkout) in Redis, at most one command timeout, with room to spare.
 */
export const CHECKOUT_LEASE_MARGIN_MS = 3_000;

/** A sweep that found nothing due (Redis's clock is behind ours) waits this long to try again. */
const EARLY_SWEEP_DELAY_MS = 250;

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

/** A function's reply: its status, the product's state, and what else the function answers. */
type Reply = [status: string, state?: string, ...extra: string[]];

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
  readonly #dueTimes = new ExpiryHeap();
  readonly #versions: ProductVersions;
  readonly #timer: HoldTimer;
  #commands: RedisConnection | undefined;
  #subscription: RedisConnection | undefined;
  #epoch = "";
  #lostData: string | null = null;
  #checkTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /**
   * Creates the store, not yet connected ({@linkcode openRedisStore} connects).
   *
   * @param options Where Redis is, and how holds last.
   */
  constructor(options: RedisStoreOptions) {
    this.#options = options;
    this.#keys = new RedisKeys(options.prefix ?? "inv");
    this.#versions = new ProductVersions((id, nextDue) => {
      if (nextDue === null) this.#dueTimes.delete(id);
      else this.#dueTimes.set(id, nextDue);
      this.#timer.arm();
    });
    this.#timer = new HoldTimer(this.#dueTimes, options.clock, (id) => this.#sweep(id));
  }

  /**
   * Connects, loads the library and subscribes to the change channel.
   *
   * @throws {StoreUnavailableError} When Redis cannot be reached.
   */
  async connect(): Promise<void> {
    const { log } = this.#options;
    const recovered = () => void this.#reloadAll().catch(() => {});
    this.#commands = await RedisConnection.open(this.#options.url, { log, recovered });
    try {
      await this.#commands.loadLibrary();
      this.#subscription = await this.#commands.duplicate({ log: () => {}, recovered });
      await this.#subscription.subscribe(this.#keys.changes, (message) => {
        this.#versions.learn(parseProductState(message));
      });
    } catch (error) {
      await this.close();
      throw error;
    }
    this.#scheduleCheck();
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
    await this.#reloadAll();
    return { epoch: this.#epoch, products: this.#versions.records() };
  }

  /**
   * Lists what a session holds, in every product.
   *
   * @param session The session id.
   * @returns Its units that have not expired.
   */
  async holdsOf(session: string): Promise<HeldUnit[]> {
    const redis = this.#connection();
    const ids = this.#versions.ids();
    const raws = await Promise.all(
      ids.map((id) => redis.send(["HGET", this.#keys.product(id).holds, session])),
    );
    const now = Date.now();
    const units: HeldUnit[] = [];
    raws.forEach((raw, i) => {
      if (typeof raw !== "string") return;
      const hold = parseHold(raw);
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
    return { record: this.#learn(state!), created: status === "created" };
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
      this.#learn(reply[1]!);
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
    if (state !== undefined) this.#learn(state);
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
    if (state !== undefined) this.#learn(state);
  }

  /**
   * Lists the checkouts in flight in every product (a fleet's, not only this process's).
   *
   * @returns Each one, with its order.
   */
  async pendingCheckouts(): Promise<PendingCheckout[]> {
    const redis = this.#connection();
    const ids = this.#versions.ids();
    const all = await Promise.all(
      ids.map((id) => redis.send(["HGETALL", this.#keys.product(id).holds])),
    );
    const pending: PendingCheckout[] = [];
    all.forEach((reply, i) => {
      for (const [session, raw] of hashEntries(reply)) {
        const hold = parseHold(raw);
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
    return this.#versions.onChange(listener);
  }

  /** Stops the timers and closes both connections after the commands in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#timer.stop();
    clearTimeout(this.#checkTimer);
    await Promise.all([this.#subscription?.close(), this.#commands?.close()]);
  }

  #connection(): RedisConnection {
    if (this.#commands === undefined) throw new Error("The Redis store is not connected");
    return this.#commands;
  }

  async #call(name: string, product: string, args: string[]): Promise<Reply> {
    if (this.#lostData !== null) throw new StoreUnavailableError(this.#lostData);
    return await this.#connection().call(
      name,
      keyList(this.#keys.product(product)),
      [this.#keys.changes, ...args],
    ) as Reply;
  }

  /** Takes in an answer's state, and returns the product as the operation left it. */
  #learn(state: string): ProductRecord {
    const parsed = parseProductState(state);
    this.#versions.learn(parsed);
    return parsed.record;
  }

  #outcome([status, state]: Reply, inCart: boolean): StoreOutcome {
    if (state === undefined) return { ok: false, reason: "unknown product" };
    const record = this.#learn(state);
    if (status === "ok") return { ok: true, record, inCart };
    return { ok: false, reason: status as Refusal, record };
  }

  async #sweep(id: string): Promise<void> {
    const [, state] = await this.#call("inventory_sweep", id, []);
    if (state === undefined) {
      this.#dueTimes.delete(id);
      return;
    }
    const parsed: RedisProductState = parseProductState(state);
    const now = this.#options.clock.now();
    // Redis's clock may run behind ours: what is not due there yet is tried again a little later.
    const nextDue = parsed.nextDue !== null && parsed.nextDue <= now
      ? now + EARLY_SWEEP_DELAY_MS
      : parsed.nextDue;
    this.#versions.learn({ record: parsed.record, nextDue });
  }

  /** Reads every product of the catalog again (after a reconnect, or at load). */
  async #reloadAll(): Promise<void> {
    const redis = this.#connection();
    if (this.#epoch !== "") {
      const epoch = await redis.send(["GET", this.#keys.epoch]);
      if (epoch !== this.#epoch && this.#lostData === null) {
        this.#lostData = `Redis lost the shop's data (epoch ${this.#epoch} is now ${epoch}): ` +
          "restart this process";
        this.#options.log(this.#lostData);
      }
    }
    const ids = await redis.send(["ZRANGE", this.#keys.catalog, "0", "-1"]) as string[];
    await Promise.all(ids.map((id) => this.#reload(id)));
  }

  async #reload(id: string): Promise<void> {
    const [, state] = await this.#call("inventory_sweep", id, []);
    if (state !== undefined) this.#learn(state);
  }

  /** Compares every product's version with Redis's, reloading what this process missed. */
  async #checkVersions(): Promise<void> {
    const redis = this.#connection();
    const ids = await redis.send(["ZRANGE", this.#keys.catalog, "0", "-1"]) as string[];
    const versions = await Promise.all(
      ids.map((id) => redis.send(["HGET", this.#keys.product(id).record, "version"])),
    );
    const behind = ids.filter((id, i) => {
      const known = this.#versions.versionOf(id);
      return versions[i] !== null && (known === undefined || known < Number(versions[i]));
    });
    if (behind.length > 0) {
      this.#options.log(`Redis: ${behind.length} product(s) were behind; reloaded`);
      await Promise.all(behind.map((id) => this.#reload(id)));
    }
  }

  #scheduleCheck(): void {
    if (this.#closed) return;
    this.#checkTimer = setTimeout(() => {
      this.#checkVersions().catch(() => {}).finally(() => this.#scheduleCheck());
    }, VERSION_CHECK_INTERVAL_MS);
  }
}

function keyList(keys: ProductKeys): string[] {
  return [keys.record, keys.holds, keys.expiry, keys.sales];
}

function parseHold(raw: string): {
  expiresAt: number;
  heldAt: number;
  checkingOut: boolean;
  orderId: string;
} {
  const [expiresAt, heldAt, lease, ...order] = raw.split("|");
  return {
    expiresAt: Number(expiresAt),
    heldAt: Number(heldAt),
    checkingOut: lease !== "0",
    orderId: order.join("|"),
  };
}

function hashEntries(reply: unknown): [string, string][] {
  if (Array.isArray(reply)) {
    const entries: [string, string][] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) entries.push([reply[i], reply[i + 1]]);
    return entries;
  }
  return Object.entries(reply as Record<string, string>);
}
