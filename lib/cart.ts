/** The shop's one product: its stock, who holds a unit, and everyone waiting to hear of a change. */

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

/** Called with every new state, in order, synchronously after the change. */
export type Subscriber = (message: StateMessage) => void;

/**
 * Holds the stock of one product and tells waiters and subscribers of every change.
 *
 * Each session holds at most one unit. Adds and removes are idempotent per session and check
 * and take stock in one step, so the count can never go below zero. Operations return promises
 * so that a durable store can sit behind the same interface.
 *
 * @example
 * ```ts
 * const cart = new ShoppingCart(10);
 * const result = await cart.add(crypto.randomUUID());
 * console.log(result.message.state); // { inventoryCount: 9, version: 1 }
 * ```
 */
export class ShoppingCart {
  readonly #total: number;
  readonly #holders = new Set<string>();
  #version = 0;
  #message: StateMessage;
  #waiters = new Set<(message: StateMessage) => void>();
  readonly #subscribers = new Set<Subscriber>();
  #closed = false;

  /**
   * Opens a cart with a fixed stock.
   *
   * @param total Units in stock; a whole number, zero or more.
   * @throws {RangeError} When total is not a whole number of zero or more.
   */
  constructor(total: number) {
    if (!Number.isSafeInteger(total) || total < 0) {
      throw new RangeError(
        `Total must be a whole number of zero or more, got ${total}`,
      );
    }
    this.#total = total;
    this.#message = this.#snapshot();
  }

  /** The latest state and its JSON form. */
  get current(): StateMessage {
    return this.#message;
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
   * @returns True when the session has the item in its cart.
   */
  holds(session: string): boolean {
    return this.#holders.has(session);
  }

  /**
   * Puts one unit in a session's cart, unless it already holds one or none is left.
   *
   * @param session The shopper's session id.
   * @returns The new state and `inCart: true`, or `ok: false` when sold out (nothing changes).
   */
  add(session: string): Promise<HoldResult> {
    if (this.#holders.has(session)) return Promise.resolve(this.#held(true));
    if (this.#holders.size >= this.#total) {
      return Promise.resolve({
        ok: false,
        reason: "sold out",
        message: this.#message,
      });
    }
    this.#holders.add(session);
    this.#changed();
    return Promise.resolve(this.#held(true));
  }

  /**
   * Takes a session's unit out of its cart; does nothing when it holds none.
   *
   * @param session The shopper's session id.
   * @returns The new state and `inCart: false`.
   */
  remove(session: string): Promise<HoldResult> {
    if (this.#holders.delete(session)) this.#changed();
    return Promise.resolve(this.#held(false));
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

  /** Answers every waiter with the current state; later waits answer at once. For shutdown. */
  close(): void {
    this.#closed = true;
    this.#releaseWaiters();
  }

  #held(inCart: boolean): HoldResult {
    return { ok: true, message: this.#message, inCart };
  }

  #snapshot(): StateMessage {
    const state = {
      inventoryCount: this.#total - this.#holders.size,
      version: this.#version,
    };
    return { state, json: JSON.stringify(state) };
  }

  #changed(): void {
    this.#version++;
    this.#message = this.#snapshot();
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
