/** The shop's one product: its stock, who holds a unit, and everyone waiting to hear of a change. */
import { Draft } from "./cart_draft.ts";
import { type Clock, systemClock } from "./clock.ts";
import {
  type InventorySnapshot,
  type InventoryStore,
  MAX_DROPS_PER_CHANGE,
} from "../store/port.ts";

/** The public state of the cart: what every status message carries. */
export interface CartState {
  /** Units still free to add. */
  readonly inventoryCount: number;
  /** Rises by one on every change, so a client can tell new news from old. */
  readonly version: number;
}

/** A state together with its JSON form, serialized once per change and shared by every transport. */
export interface StateMessage {
  /** The state itself. */
  readonly state: CartState;
  /** `JSON.stringify(state)`, computed once. */
  readonly json: string;
}

/** What an add or remove did. */
export type HoldResult =
  | {
    readonly ok: true;
    readonly message: StateMessage;
    readonly inCart: boolean;
  }
  | {
    readonly ok: false;
    readonly reason: "sold out";
    readonly message: StateMessage;
  };

/** What a restock did. */
export interface RestockResult {
  /** The state after it. */
  readonly message: StateMessage;
  /** The new total. */
  readonly total: number;
  /** Units held by shoppers, which a restock never takes back. */
  readonly held: number;
}

/** Called with every new state, in order, synchronously after the change. */
export type Subscriber = (message: StateMessage) => void;

/** How holds expire. */
export interface CartOptions {
  /** How long a hold lasts after the shopper's last add, in ms; the default never ends it. */
  holdTtlMs?: number;
  /** The time source for expiry; tests inject a fake one. */
  clock?: Clock;
}

/** How to open a cart on a store. */
export interface OpenCartOptions extends CartOptions {
  /** The total of a store that holds nothing yet; a stored total stands (see `restock`). */
  total: number;
}

/** One operation: reads and changes the draft in turn with the others of its batch. */
type Operation<T> = (draft: Draft, now: number) => T;

/** An operation waiting for its batch to be committed. */
interface Queued {
  operation: Operation<unknown>;
  /** Whether an answer that writes nothing must first check that memory was current. */
  verify: boolean;
  resolve: (answer: unknown) => void;
  reject: (error: unknown) => void;
}

/** Refused commits (another process wrote first) retried before a batch gives up. */
const MAX_REFUSED_COMMITS = 50;

/** Operations committed together at most: with a full sweep, well inside KV's 1000 mutations. */
const MAX_BATCH_OPERATIONS = 200;

/**
 * Holds the stock of one product and tells waiters and subscribers of every change.
 *
 * Each session holds at most one unit. Adds and removes are idempotent per session and check
 * and take stock in one step, so the count can never go below zero. A hold ends when its
 * shopper removes it or when it expires; an add refreshes it.
 *
 * Without a store the cart lives in memory. With one ({@linkcode ShoppingCart.open}) every change
 * is committed before it is applied and answered; reads are still served from memory. Operations
 * on a store are batched: those that arrive while a commit is in flight are decided in order and
 * committed together by the next one, each answered with the state right after it, subscribers
 * told once. A commit the store refuses (another process wrote since) reloads the state and
 * decides the batch again.
 *
 * @example
 * ```ts
 * const cart = new ShoppingCart(10);
 * const result = await cart.add(crypto.randomUUID());
 * console.log(result.message.state); // { inventoryCount: 9, version: 1 }
 * ```
 */
export class ShoppingCart {
  #total: number;
  /** Session → expiry time, kept in order of expiry so the next one due is the first. */
  #holds = new Map<string, number>();
  #latestExpiry = -Infinity;
  #version = 0;
  #message: StateMessage;
  #waiters = new Set<(message: StateMessage) => void>();
  readonly #subscribers = new Set<Subscriber>();
  #closed = false;
  readonly #holdTtlMs: number;
  readonly #clock: Clock;
  #store: InventoryStore | undefined;
  #stamp: string | null = null;
  #queued: Queued[] = [];
  #draining: Promise<void> | undefined;
  #timerAt = Infinity;
  #cancelTimer: (() => void) | undefined;
  #warnedOfWriter = false;

  /**
   * Opens a cart in memory with a given stock.
   *
   * @param total Units in stock; a whole number, zero or more.
   * @param options Hold lifetime and clock.
   * @throws {RangeError} When total is not a whole number of zero or more, or the lifetime is
   * not positive.
   */
  constructor(total: number, options: CartOptions = {}) {
    checkTotal(total);
    const holdTtlMs = options.holdTtlMs ?? Infinity;
    if (!(holdTtlMs > 0)) {
      throw new RangeError(`Hold lifetime must be more than 0 ms, got ${holdTtlMs}`);
    }
    this.#total = total;
    this.#holdTtlMs = holdTtlMs;
    this.#clock = options.clock ?? systemClock;
    this.#message = this.#snapshot();
  }

  /**
   * Opens a cart on a store: reads its state once, creates it when empty, and ends the holds
   * that expired while no server ran.
   *
   * @param store Where the cart is kept; the cart uses it until the caller closes it.
   * @param options The total of a new store, hold lifetime and clock.
   * @returns The cart, current with the store.
   * @throws {RangeError} For a bad total or lifetime.
   */
  static async open(store: InventoryStore, options: OpenCartOptions): Promise<ShoppingCart> {
    const cart = new ShoppingCart(options.total, options);
    cart.#store = store;
    for (;;) {
      const snapshot = await store.load();
      if (snapshot !== undefined) {
        cart.#adopt(snapshot);
        break;
      }
      const first = { total: options.total, version: 0, put: [], drop: [] };
      // Null when another process created it first: then load what it wrote.
      const stamp = await store.commit(first, null);
      if (stamp !== null) {
        cart.#stamp = stamp;
        break;
      }
    }
    await cart.#transact(() => undefined, false);
    return cart;
  }

  /** The latest state and its JSON form. */
  get current(): StateMessage {
    return this.#message;
  }

  /** Units in stock, held or not. */
  get total(): number {
    return this.#total;
  }

  /** Units held by shoppers now. */
  get held(): number {
    return this.#holds.size;
  }

  /** How long a hold lasts after the shopper's last add, in ms (Infinity: until removed). */
  get holdTtlMs(): number {
    return this.#holdTtlMs;
  }

  /** How many long polls are waiting for a change. */
  get waiterCount(): number {
    return this.#waiters.size;
  }

  /** How many subscribers are registered. */
  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /**
   * Tells whether a session holds a unit.
   *
   * @param session The shopper's session id.
   * @returns True when the session has the item in its cart and its hold has not expired.
   */
  holds(session: string): boolean {
    return this.holdExpiresAt(session) !== undefined;
  }

  /**
   * Tells when a session's hold expires.
   *
   * @param session The shopper's session id.
   * @returns The time in ms since the epoch (Infinity for a hold that never expires), or
   * undefined when the session holds nothing.
   */
  holdExpiresAt(session: string): number | undefined {
    const expiresAt = this.#holds.get(session);
    return expiresAt !== undefined && expiresAt > this.#clock.now() ? expiresAt : undefined;
  }

  /**
   * Puts one unit in a session's cart, unless none is left; refreshes the hold of a session
   * that already has one.
   *
   * @param session The shopper's session id.
   * @returns The new state and `inCart: true`, or `ok: false` when sold out (nothing changes).
   */
  add(session: string): Promise<HoldResult> {
    return this.#transact((draft, now): HoldResult => {
      const held = draft.get(session);
      if (held === undefined && draft.size >= draft.total) {
        return { ok: false, reason: "sold out", message: draft.message() };
      }
      const expiresAt = now + this.#holdTtlMs;
      if (held !== expiresAt) {
        draft.put(session, expiresAt);
        // A refresh changes no public state, so it keeps the version.
        if (held === undefined) draft.version++;
      }
      return { ok: true, message: draft.message(), inCart: true };
    });
  }

  /**
   * Takes a session's unit out of its cart; does nothing when it holds none.
   *
   * @param session The shopper's session id.
   * @returns The new state and `inCart: false`.
   */
  remove(session: string): Promise<HoldResult> {
    return this.#transact((draft): HoldResult => {
      if (draft.get(session) !== undefined) {
        draft.drop(session);
        draft.version++;
      }
      return { ok: true, message: draft.message(), inCart: false };
    });
  }

  /**
   * Sets the total. Holds stay: below what is held, nothing more is sold until it is back above.
   *
   * @param total The new total; a whole number, zero or more.
   * @returns The new state, total and units held.
   * @throws {RangeError} When total is not a whole number of zero or more.
   */
  restock(total: number): Promise<RestockResult> {
    checkTotal(total);
    return this.#transact((draft): RestockResult => {
      if (total !== draft.total) {
        draft.total = total;
        draft.version++;
      }
      return { message: draft.message(), total: draft.total, held: draft.size };
    });
  }

  /**
   * Waits for the cart to move past a version.
   *
   * Answers at once when the cart's version differs from `since` (a client that is behind, or
   * one that saw a version this cart never reached), when the signal is already aborted, or when
   * the cart is closed. Otherwise it waits for the next change; when the signal aborts first it
   * removes its waiter and answers the current state.
   *
   * @param since The version the client already has, or undefined to wait for the next change.
   * @param signal Ends the wait: the client left, or the poll timed out.
   * @returns The state to answer with.
   */
  nextChange(
    since: number | undefined,
    signal: AbortSignal,
  ): Promise<StateMessage> {
    if (
      (since !== undefined && since !== this.#version) || signal.aborted ||
      this.#closed
    ) {
      return Promise.resolve(this.#message);
    }
    return new Promise((resolve) => {
      const onAbort = () => {
        this.#waiters.delete(waiter);
        resolve(this.#message);
      };
      const waiter = (message: StateMessage) => {
        signal.removeEventListener("abort", onAbort);
        resolve(message);
      };
      this.#waiters.add(waiter);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * Registers a function called with every new state.
   *
   * @param subscriber Called synchronously after each change; it must not throw.
   * @returns A function that unregisters it.
   */
  subscribe(subscriber: Subscriber): () => void {
    this.#subscribers.add(subscriber);
    return () => {
      this.#subscribers.delete(subscriber);
    };
  }

  /**
   * Answers every waiter with the current state; later waits answer at once. Stops expiring
   * holds. Operations still work, so requests in flight during a shutdown are answered; the
   * caller closes the store after them.
   */
  close(): void {
    this.#closed = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#releaseWaiters();
  }

  /**
   * Waits until no operation is running, so that the caller may close the store.
   *
   * @returns Resolves once the operations queued so far have ended, well or not.
   */
  settled(): Promise<void> {
    return this.#draining ?? Promise.resolve();
  }

  /**
   * Runs one operation after ending the holds that are due.
   *
   * In memory it runs at once. On a store it joins the next batch; an answer that writes nothing
   * (a refusal) is given only once memory is known to be current, unless `verify` is false.
   */
  #transact<T>(operation: Operation<T>, verify = true): Promise<T> {
    if (this.#store === undefined) {
      const now = this.#clock.now();
      while (this.#firstExpiry() <= now) this.#apply(this.#sweep(now).draft);
      const draft = new Draft(this.#holds, this.#total, this.#version);
      const answer = operation(draft, now);
      if (draft.changed) this.#apply(draft);
      return Promise.resolve(answer);
    }
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    this.#queued.push({ operation, verify, resolve: resolve as (answer: unknown) => void, reject });
    this.#draining ??= this.#drain();
    return promise;
  }

  /** Commits batch after batch while operations wait; one runs at a time, so we never race. */
  async #drain(): Promise<void> {
    try {
      while (this.#queued.length > 0) {
        const batch = this.#queued.splice(0, MAX_BATCH_OPERATIONS);
        try {
          const answers = await this.#runBatch(batch);
          batch.forEach((queued, i) => queued.resolve(answers[i]));
        } catch (error) {
          for (const queued of batch) queued.reject(error);
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }

  /** Decides a batch on a draft and commits it, re-reading the store after each refusal. */
  async #runBatch(batch: Queued[]): Promise<unknown[]> {
    const store = this.#store!;
    for (let refused = 0; refused < MAX_REFUSED_COMMITS;) {
      const now = this.#clock.now();
      const { draft, more } = this.#sweep(now);
      // With more holds due than one commit may end, end those first and decide after.
      const answers = more ? [] : batch.map((queued) => queued.operation(draft, now));
      if (draft.changed) {
        const stamp = await store.commit(draft.change(), this.#stamp);
        if (stamp !== null) {
          this.#stamp = stamp;
          this.#apply(draft);
          if (more) continue;
          return answers;
        }
      } else if (!batch.some((queued) => queued.verify) || await store.isCurrent(this.#stamp!)) {
        return answers;
      }
      refused++;
      if (!this.#warnedOfWriter) {
        this.#warnedOfWriter = true;
        // Safe (the commit was refused), but subscribers here miss the other writer's changes.
        console.warn("another process writes the same inventory store; re-reading it");
      }
      const snapshot = await store.load();
      if (snapshot === undefined) throw new Error("The stored inventory is gone");
      this.#adopt(snapshot);
    }
    throw new Error(`Gave up after ${MAX_REFUSED_COMMITS} refused commits`);
  }

  /** A draft that ends the holds due by now, oldest first; `more` when others stay due. */
  #sweep(now: number): { draft: Draft; more: boolean } {
    const draft = new Draft(this.#holds, this.#total, this.#version);
    let dropped = 0;
    let more = false;
    for (const [session, expiresAt] of this.#holds) {
      if (expiresAt > now) break;
      if (dropped === MAX_DROPS_PER_CHANGE) {
        more = true;
        break;
      }
      draft.drop(session);
      dropped++;
    }
    if (dropped > 0) draft.version++;
    return { draft, more };
  }

  /** Makes a committed draft the cart's state and tells everyone when the version moved. */
  #apply(draft: Draft): void {
    const change = draft.change();
    for (const session of change.drop) this.#holds.delete(session);
    for (const [session, expiresAt] of change.put) {
      this.#holds.delete(session);
      this.#holds.set(session, expiresAt);
      // Time went back or the lifetime shrank: restore the order of expiry.
      if (expiresAt < this.#latestExpiry) this.#sortHolds([...this.#holds]);
      this.#latestExpiry = Math.max(this.#latestExpiry, expiresAt);
    }
    this.#total = change.total;
    // The last operation of the batch has usually serialized this state already.
    this.#setState(change.version, draft.message());
  }

  #adopt(snapshot: InventorySnapshot): void {
    this.#sortHolds(snapshot.holds);
    this.#total = snapshot.total;
    this.#stamp = snapshot.stamp;
    this.#setState(snapshot.version, this.#snapshot(snapshot.version));
  }

  #sortHolds(holds: ReadonlyArray<readonly [string, number]>): void {
    this.#holds = new Map([...holds].sort((a, b) => a[1] - b[1]));
    this.#latestExpiry = holds.reduce(
      (latest, [, expiresAt]) => Math.max(latest, expiresAt),
      -Infinity,
    );
  }

  /** Publishes the state when the version moved; a refresh alone changes nothing public. */
  #setState(version: number, message: StateMessage): void {
    const moved = version !== this.#version;
    this.#version = version;
    this.#message = message;
    if (moved) this.#publish();
    this.#armTimer();
  }

  /** When the first hold expires; Infinity when there is none. */
  #firstExpiry(): number {
    const first = this.#holds.values().next();
    return first.done ? Infinity : first.value;
  }

  /** Keeps one timer, set for the first hold due. */
  #armTimer(): void {
    const at = this.#closed ? Infinity : this.#firstExpiry();
    if (at === this.#timerAt) return;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#timerAt = at;
    if (at === Infinity) return;
    this.#cancelTimer = this.#clock.setTimer(() => {
      this.#cancelTimer = undefined;
      this.#timerAt = Infinity;
      this.#transact(() => undefined, false)
        .catch((error) => console.error("expiring holds failed:", error))
        // A timer that fired early finds nothing due and must be set again.
        .finally(() => this.#armTimer());
    }, at - this.#clock.now());
  }

  #snapshot(version: number = this.#version): StateMessage {
    const state = {
      inventoryCount: Math.max(0, this.#total - this.#holds.size),
      version,
    };
    return { state, json: JSON.stringify(state) };
  }

  #publish(): void {
    this.#releaseWaiters();
    for (const subscriber of this.#subscribers) {
      try {
        subscriber(this.#message);
      } catch (error) {
        // One broken subscriber must not stop the news reaching the others.
        console.error("cart subscriber failed:", error);
      }
    }
  }

  #releaseWaiters(): void {
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const waiter of waiters) waiter(this.#message);
  }
}

function checkTotal(total: number): void {
  if (!Number.isSafeInteger(total) || total < 0) {
    throw new RangeError(`Total must be a whole number of zero or more, got ${total}`);
  }
}
