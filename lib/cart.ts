/** The shop's one product: its stock, who holds a unit, and everyone waiting to hear of a change. */
import { type Clock, systemClock } from "./clock.ts";
import {
  type InventoryChange,
  type InventorySnapshot,
  type InventoryStore,
  MAX_DROPS_PER_CHANGE,
} from "./inventory_store.ts";

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

/** What a transaction decided from the state in memory. */
interface Decision<T> {
  /** What to write; none when the operation changes nothing or is refused. */
  change?: InventoryChange;
  /** The answer, computed after the change is applied. */
  answer: () => T;
}

/** Refused commits (another process wrote first) retried before an operation gives up. */
const MAX_REFUSED_COMMITS = 50;

/**
 * Holds the stock of one product and tells waiters and subscribers of every change.
 *
 * Each session holds at most one unit. Adds and removes are idempotent per session and check
 * and take stock in one step, so the count can never go below zero. A hold ends when its
 * shopper removes it or when it expires; an add refreshes it.
 *
 * Without a store the cart lives in memory. With one ({@linkcode ShoppingCart.open}) every change
 * is committed before it is applied and answered; reads are still served from memory. Operations
 * on a store run one at a time, and a commit the store refuses (another process wrote since)
 * reloads the state and decides again.
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
  #queue: Promise<unknown> = Promise.resolve();
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
    await cart.#transact(() => ({ answer: () => undefined }), false);
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
    return this.#transact((now) => {
      const expiresAt = now + this.#holdTtlMs;
      const held = this.#holds.get(session);
      if (held === undefined && this.#holds.size >= this.#total) {
        return {
          answer: (): HoldResult => ({ ok: false, reason: "sold out", message: this.#message }),
        };
      }
      return {
        // A refresh changes no public state, so it keeps the version.
        change: held === expiresAt ? undefined : this.#draft({
          put: [[session, expiresAt]],
          bump: held === undefined,
        }),
        answer: () => this.#held(true),
      };
    });
  }

  /**
   * Takes a session's unit out of its cart; does nothing when it holds none.
   *
   * @param session The shopper's session id.
   * @returns The new state and `inCart: false`.
   */
  remove(session: string): Promise<HoldResult> {
    return this.#transact(() => ({
      change: this.#holds.has(session) ? this.#draft({ drop: [session], bump: true }) : undefined,
      answer: () => this.#held(false),
    }));
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
    return this.#transact(() => ({
      change: total === this.#total ? undefined : this.#draft({ total, bump: true }),
      answer: () => ({ message: this.#message, total: this.#total, held: this.#holds.size }),
    }));
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
    return this.#queue.then(() => {});
  }

  /**
   * Runs one operation: ends the holds that are due, decides from memory, commits, applies.
   *
   * In memory it runs at once. On a store, operations queue so that this process never races
   * itself; a refused commit reloads the state and decides again. An answer that writes nothing
   * (a refusal) is given only after checking that memory was current, unless `verify` is false.
   */
  #transact<T>(decide: (now: number) => Decision<T>, verify = true): Promise<T> {
    if (this.#store === undefined) {
      const now = this.#clock.now();
      for (let due = this.#dueChange(now); due; due = this.#dueChange(now)) this.#apply(due);
      const decision = decide(now);
      if (decision.change) this.#apply(decision.change);
      return Promise.resolve(decision.answer());
    }
    const store = this.#store;
    const run = this.#queue.then(async () => {
      for (let refused = 0; refused < MAX_REFUSED_COMMITS;) {
        const now = this.#clock.now();
        const due = this.#dueChange(now);
        const decision = due ? undefined : decide(now);
        const change = due ?? decision?.change;
        if (change !== undefined) {
          const stamp = await store.commit(change, this.#stamp);
          if (stamp !== null) {
            this.#stamp = stamp;
            this.#apply(change);
            if (decision) return decision.answer();
            continue;
          }
        } else if (!verify || await store.isCurrent(this.#stamp!)) {
          return decision!.answer();
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
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** The change that ends the holds due by now, oldest first, or undefined when none is. */
  #dueChange(now: number): InventoryChange | undefined {
    if (!(this.#firstExpiry() <= now)) return undefined;
    const drop: string[] = [];
    for (const [session, expiresAt] of this.#holds) {
      if (expiresAt > now || drop.length === MAX_DROPS_PER_CHANGE) break;
      drop.push(session);
    }
    return drop.length === 0 ? undefined : this.#draft({ drop, bump: true });
  }

  #draft(
    { total = this.#total, put = [], drop = [], bump }: {
      total?: number;
      put?: [string, number][];
      drop?: string[];
      bump: boolean;
    },
  ): InventoryChange {
    return { total, version: this.#version + (bump ? 1 : 0), put, drop };
  }

  #apply(change: InventoryChange): void {
    for (const session of change.drop) this.#holds.delete(session);
    for (const [session, expiresAt] of change.put) {
      this.#holds.delete(session);
      this.#holds.set(session, expiresAt);
      // Time went back or the lifetime shrank: restore the order of expiry.
      if (expiresAt < this.#latestExpiry) this.#sortHolds([...this.#holds]);
      this.#latestExpiry = Math.max(this.#latestExpiry, expiresAt);
    }
    this.#total = change.total;
    this.#setVersion(change.version);
  }

  #adopt(snapshot: InventorySnapshot): void {
    this.#sortHolds(snapshot.holds);
    this.#total = snapshot.total;
    this.#stamp = snapshot.stamp;
    this.#setVersion(snapshot.version);
  }

  #sortHolds(holds: ReadonlyArray<readonly [string, number]>): void {
    this.#holds = new Map([...holds].sort((a, b) => a[1] - b[1]));
    this.#latestExpiry = holds.reduce(
      (latest, [, expiresAt]) => Math.max(latest, expiresAt),
      -Infinity,
    );
  }

  /** Publishes the state when the version moved; a refresh alone changes nothing public. */
  #setVersion(version: number): void {
    const moved = version !== this.#version;
    this.#version = version;
    this.#message = this.#snapshot();
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
      this.#transact(() => ({ answer: () => undefined }), false)
        .catch((error) => console.error("expiring holds failed:", error))
        // A timer that fired early finds nothing due and must be set again.
        .finally(() => this.#armTimer());
    }, at - this.#clock.now());
  }

  #held(inCart: boolean): HoldResult {
    return { ok: true, message: this.#message, inCart };
  }

  #snapshot(): StateMessage {
    const state = {
      inventoryCount: Math.max(0, this.#total - this.#holds.size),
      version: this.#version,
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
