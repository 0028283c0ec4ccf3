/** Keeps a costly push from taking over the event loop in a storm of changes, by conflating them. */
import { clearImmediate, setImmediate } from "node:timers";

/** When pushes start to be spread out. */
export interface PushThrottleOptions {
  /**
   * A push whose loop took less than this never delays the next one, in ms; and a turn of the event
   * loop that comes less than this late finds nothing else waiting.
   */
  minCostMs: number;
  /**
   * While other work is waiting, after a push that cost `c` ms the next one starts no sooner than
   * `c * spacing` ms after it.
   */
  spacing: number;
}

/**
 * Defaults: a push that takes under a millisecond is never delayed; after a costlier one, while
 * other work is waiting, the server keeps at least half of its time for it, whatever the rate of
 * changes.
 */
export const DEFAULT_PUSH_THROTTLE_OPTIONS: PushThrottleOptions = {
  minCostMs: 1,
  spacing: 2,
};

/**
 * Runs a push of the newest state at once when it is cheap, when the last one was long enough ago,
 * or when nothing else is waiting for the event loop; otherwise once, later, for every change that
 * came in between.
 *
 * The state is a count, not a stream of events: a subscriber may skip versions but always ends on
 * the newest. So under a storm of changes to many sockets the server sends a few pushes a second
 * instead of one message per change per socket, and still answers other requests in between.
 *
 * A push's cost is more than its loop: each socket then writes its frame on the same thread. So a
 * costly push is measured until a timer set after it fires, once those writes have had their turn.
 * After it the next push waits for the first turn of the event loop that finds nothing else waiting
 * (an immediate callback that runs less than `minCostMs` after it was set: no request, socket write
 * or timer was queued before it), and at most `spacing` times that cost while other work keeps
 * coming. Conflation is for a storm, not for a lone change that finds the server idle.
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
  /** When the next push may start even while other work waits. */
  #readyAt = -Infinity;
  /** Waits for `#readyAt`. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Looks for an idle turn of the event loop before `#readyAt`. */
  #probe: ReturnType<typeof setImmediate> | undefined;
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

  /** Asks for a push: now, at the next idle turn, or when the running one and its pause end. */
  request(): void {
    if (this.#busy) {
      this.#wanted = true; // The coming push will carry the newest state.
      return;
    }
    const wait = this.#readyAt - this.#now();
    if (wait <= 0 && this.#timer === undefined) {
      this.#run();
      return;
    }
    this.#wanted = true;
    this.#timer ??= setTimeout(() => this.#runWanted(), wait);
    this.#probeIdle();
  }

  /** Runs a waiting push at once and stops the timers. For shutdown: the newest state goes out. */
  flush(): void {
    this.#stopTimers();
    this.#readyAt = -Infinity;
    if (!this.#wanted) return;
    this.#wanted = false;
    this.#push()?.catch(() => {});
  }

  /**
   * Pushes at the first turn of the event loop that finds nothing else queued before it. An
   * immediate, not a timer: a timer of no delay still fires a millisecond or two later in Deno.
   */
  #probeIdle(): void {
    if (this.#probe !== undefined) return;
    let set = this.#now();
    const turn = () => {
      const now = this.#now();
      if (now - set < this.#options.minCostMs) {
        this.#probe = undefined;
        this.#runWanted();
        return;
      }
      // Other work was waiting and has just had its turn: look again after whatever came next.
      set = now;
      this.#probe = setImmediate(turn);
    };
    this.#probe = setImmediate(turn);
  }

  #runWanted(): void {
    this.#stopTimers();
    if (!this.#wanted) return;
    this.#wanted = false;
    this.#run();
  }

  #stopTimers(): void {
    clearTimeout(this.#timer);
    clearImmediate(this.#probe);
    this.#timer = undefined;
    this.#probe = undefined;
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
