/** Keeps a costly push from taking over the event loop in a storm of changes, by conflating them. */

/** When pushes start to be spread out. */
export interface PushThrottleOptions {
  /** A push whose loop took less than this never delays the next one, in ms. */
  minCostMs: number;
  /** After a push that cost `c` ms, the next one starts no sooner than `c * spacing` ms after it. */
  spacing: number;
}

/**
 * Defaults: a push that takes under a millisecond is never delayed; a costlier one leaves the
 * server at least half of its time for everything else, whatever the rate of changes.
 */
export const DEFAULT_PUSH_THROTTLE_OPTIONS: PushThrottleOptions = {
  minCostMs: 1,
  spacing: 2,
};

/**
 * Runs a push of the newest state at once when it is cheap or the last one was long enough ago,
 * and otherwise once, later, for every change that came in between.
 *
 * The state is a count, not a stream of events: a subscriber may skip versions but always ends on
 * the newest. So under a storm of changes to many sockets the server sends a few pushes a second
 * instead of one message per change per socket, and still answers other requests in between.
 *
 * A push's cost is more than its loop: each socket then writes its frame on the same thread. So a
 * costly push is measured until a timer set after it fires, once those writes have had their turn.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * let pushes = 0;
 * const throttle = new PushThrottle(() => {
 *   pushes++;
 * });
 * throttle.request();
 * assert.equal(pushes, 1, "the first push goes at once");
 * throttle.flush();
 * ```
 */
export class PushThrottle {
  readonly #push: () => void | Promise<void>;
  readonly #options: PushThrottleOptions;
  readonly #now: () => number;
  /** When the next push may start. */
  #readyAt = -Infinity;
  /** Waits for `#readyAt`. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** A costly push is running or being measured. */
  #busy = false;
  /** A change came while a push ran or waited: push once that ends. */
  #wanted = false;

  /**
   * Makes a throttle that has pushed nothing yet: its first push goes out at once.
   *
   * @param push Sends the newest state to every subscriber; called with no argument, so that it
   * reads the state when it runs. A push done in slices returns a promise that settles after the
   * last one; a cheap push returns nothing.
   * @param options When pushes are spread out.
   * @param now The clock, in ms.
   */
  constructor(
    push: () => void | Promise<void>,
    options: PushThrottleOptions = DEFAULT_PUSH_THROTTLE_OPTIONS,
    now: () => number = () => performance.now(),
  ) {
    this.#push = push;
    this.#options = options;
    this.#now = now;
  }

  /** Asks for a push: now, or when the running one and the pause after it end. */
  request(): void {
    if (this.#busy || this.#timer !== undefined) {
      this.#wanted = true; // The coming push will carry the newest state.
      return;
    }
    const wait = this.#readyAt - this.#now();
    if (wait <= 0) {
      this.#run();
      return;
    }
    this.#wanted = true;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#wanted = false;
      this.#run();
    }, wait);
  }

  /** Runs a waiting push at once and stops the timer. For shutdown: the newest state goes out. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#readyAt = -Infinity;
    if (!this.#wanted) return;
    this.#wanted = false;
    this.#push()?.catch(() => {});
  }

  #run(): void {
    const started = this.#now();
    let done: void | Promise<void>;
    try {
      done = this.#push();
    } catch (error) {
      this.#measure(started);
      throw error;
    }
    if (done === undefined) {
      if (this.#now() - started < this.#options.minCostMs) this.#readyAt = -Infinity;
      else this.#measure(started);
      return;
    }
    this.#busy = true;
    done.catch((error) => console.error("push failed:", error))
      .finally(() => this.#measure(started));
  }

  /** Ends a costly push: its sockets write on this thread after it, so a timer marks the end. */
  #measure(started: number): void {
    this.#busy = true;
    setTimeout(() => {
      this.#busy = false;
      this.#readyAt = started + (this.#now() - started) * this.#options.spacing;
      if (!this.#wanted) return;
      this.#wanted = false;
      this.request();
    }, 0);
  }
}
