/**
 * This process's view of the products in Redis, kept current: from answers and the change
 * channel, by a periodic version check, by a reload after reconnects, and by sweeping due holds.
 */
import type { Clock } from "../time/clock.ts";
import { ExpiryHeap } from "../time/expiry_heap.ts";
import type { ProductState } from "../inventory/ledger.ts";
import type { HeldUnit, PendingCheckout, StoreOutcome } from "../inventory/store_port.ts";
import { HoldTimer } from "./hold_timer.ts";
import { ProductVersions } from "./product_versions.ts";
import type { RedisKeys } from "./redis_keys.ts";
import {
  type FunctionReply,
  heldUnitsOf,
  parseProductState,
  pendingCheckoutsOf,
  refusalOf,
} from "./redis_state.ts";

/** How often every product's version is compared with Redis's, to catch a silent subscription. */
export const VERSION_CHECK_INTERVAL_MS = 3_000;

/** A sweep that found nothing due (Redis's clock is behind ours) waits this long to try again. */
const EARLY_SWEEP_DELAY_MS = 250;

/** How the view reaches Redis. */
export interface ViewAccess {
  /** Calls a library function on a product's keys. */
  call(name: string, product: string, args: string[]): Promise<FunctionReply>;
  /** Sends one plain command. */
  send(args: string[]): Promise<unknown>;
}

/**
 * The newest state of every product, told once per newer version to listeners; a timer for the
 * first hold due in any product (any process may sweep it, idempotently); a check every
 * {@linkcode VERSION_CHECK_INTERVAL_MS} of every version against Redis's.
 */
export class RedisView {
  readonly #keys: RedisKeys;
  readonly #clock: Clock;
  readonly #redis: ViewAccess;
  readonly #log: (line: string) => void;
  readonly #dueTimes = new ExpiryHeap();
  readonly #versions: ProductVersions;
  readonly #timer: HoldTimer;
  #checkTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  /**
   * Creates the view, empty.
   *
   * @param keys The shop's key names.
   * @param clock Sets the timers.
   * @param redis How to reach Redis.
   * @param log Writes a line to the log.
   */
  constructor(
    keys: RedisKeys,
    clock: Clock,
    redis: ViewAccess,
    log: (line: string) => void,
  ) {
    this.#log = log;
    this.#keys = keys;
    this.#clock = clock;
    this.#redis = redis;
    this.#versions = new ProductVersions((id, nextDue) => {
      if (nextDue === null) this.#dueTimes.delete(id);
      else this.#dueTimes.set(id, nextDue);
      this.#timer.arm();
    });
    this.#timer = new HoldTimer(this.#dueTimes, clock, (id) => this.#sweep(id));
  }

  /**
   * Takes in a state an operation answered.
   *
   * @param state The state, as JSON.
   * @returns The product as that operation left it.
   */
  learn(state: string): ProductState {
    const parsed = parseProductState(state);
    this.#versions.learn(parsed);
    return parsed.record;
  }

  /**
   * Takes in what a product function answered, and reads its outcome.
   *
   * @param reply The function's reply: `ok` or a refusal, with the product's state.
   * @param inCart Whether the session holds a unit when it is `ok`.
   * @returns The outcome.
   */
  outcome([status, state, retryAfterMs]: FunctionReply, inCart: boolean): StoreOutcome {
    if (state === undefined) return { ok: false, reason: refusalOf(status) };
    const record = this.learn(state);
    if (status === "ok") return { ok: true, record, inCart };
    const reason = refusalOf(status);
    return retryAfterMs === undefined
      ? { ok: false, reason, record }
      : { ok: false, reason, record, retryAfterMs: Number(retryAfterMs) };
  }

  /**
   * Reads what a session holds in every product seen.
   *
   * @param session The session id.
   * @param now The time, in ms since the epoch.
   * @returns Its units that are being checked out or have not expired.
   */
  async unitsOf(session: string, now: number): Promise<HeldUnit[]> {
    const ids = this.ids();
    const raws = await Promise.all(
      ids.map((id) => this.#redis.send(["HGET", this.#keys.product(id).holds, session])),
    );
    return heldUnitsOf(ids, raws, now);
  }

  /**
   * Reads the checkouts in flight in every product seen (a fleet's, not only this process's).
   *
   * @returns Each one, with its order.
   */
  async pendingCheckouts(): Promise<PendingCheckout[]> {
    const ids = this.ids();
    const replies = await Promise.all(
      ids.map((id) => this.#redis.send(["HGETALL", this.#keys.product(id).holds])),
    );
    return pendingCheckoutsOf(ids, replies);
  }

  /**
   * Takes in a message of the change channel.
   *
   * @param message The state, as JSON.
   */
  hear(message: string): void {
    this.#versions.learn(parseProductState(message));
  }

  /** The products seen, in the order first seen. */
  ids(): string[] {
    return this.#versions.ids();
  }

  /** The newest record of every product seen. */
  records(): ProductState[] {
    return this.#versions.records();
  }

  /**
   * Registers a listener of newer records.
   *
   * @param listener Called once per newer record of a product.
   * @returns A function that unregisters it.
   */
  onChange(listener: (record: ProductState) => void): () => void {
    return this.#versions.onChange(listener);
  }

  /** Reads every product of the catalog again (at load, and after a reconnect). */
  async reloadAll(): Promise<void> {
    await Promise.all((await this.#catalog()).map((id) => this.#reload(id)));
  }

  /** Starts the periodic version check. */
  startChecking(): void {
    if (this.#stopped) return;
    this.#checkTimer = setTimeout(() => {
      this.#checkVersions().catch(() => {}).finally(() => this.startChecking());
    }, VERSION_CHECK_INTERVAL_MS);
  }

  /** Stops every timer for good. */
  stop(): void {
    this.#stopped = true;
    this.#timer.stop();
    clearTimeout(this.#checkTimer);
  }

  async #catalog(): Promise<string[]> {
    return await this.#redis.send(["ZRANGE", this.#keys.catalog, "0", "-1"]) as string[];
  }

  async #reload(id: string): Promise<void> {
    const [, state] = await this.#redis.call("inventory_sweep", id, []);
    if (state !== undefined) this.learn(state);
  }

  async #sweep(id: string): Promise<void> {
    const [, state] = await this.#redis.call("inventory_sweep", id, []);
    if (state === undefined) {
      this.#dueTimes.delete(id);
      return;
    }
    const parsed = parseProductState(state);
    const now = this.#clock.now();
    // Redis's clock may run behind ours: what is not due there yet is tried again a little later.
    const nextDue = parsed.nextDue !== null && parsed.nextDue <= now
      ? now + EARLY_SWEEP_DELAY_MS
      : parsed.nextDue;
    this.#versions.learn({ record: parsed.record, nextDue });
  }

  /** Compares every product's version with Redis's, reloading what this process missed. */
  async #checkVersions(): Promise<void> {
    const ids = await this.#catalog();
    const versions = await Promise.all(
      ids.map((id) => this.#redis.send(["HGET", this.#keys.product(id).record, "version"])),
    );
    const behind = ids.filter((id, i) => {
      const known = this.#versions.versionOf(id);
      return versions[i] !== null && (known === undefined || known < Number(versions[i]));
    });
    if (behind.length > 0) {
      this.#log(`Redis: ${behind.length} product(s) were behind; reloaded`);
      await Promise.all(behind.map((id) => this.#reload(id)));
    }
  }
}
