/** One timer for many waits of the same length (long polls, request bodies, Redis commands). */
import { type Clock, systemClock } from "./clock.ts";

/**
 * Calls each callback once its wait has passed, with a single timer for the oldest one.
 *
 * Every wait is as long as every other, so the order of arrival is the order of the deadlines: a
 * `Map` in insertion order is the whole queue, and a callback leaves it in O(1) when its wait ends
 * early. A timer and an `AbortController` for each long poll cost memory and garbage collection
 * that one queue does not (bench/README.md, "Long polls: one deadline queue").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "./clock.ts";
 * const deadlines = new DeadlineQueue(10, systemClock);
 * const timedOut = Promise.withResolvers<void>();
 * deadlines.add(timedOut.resolve);
 * const left = () => assert.fail("it left before its deadline");
 * deadlines.add(left);
 * deadlines.delete(left);
 * await timedOut.promise;
 * assert.equal(deadlines.size, 0);
 * ```
 */
export class DeadlineQueue {
  readonly #waitMs: number;
  readonly #clock: Clock;
  /** Each callback and its deadline, oldest first. */
  readonly #deadlines = new Map<() => void, number>();
  readonly #lingering: boolean;
  #cancelTimer: (() => void) | undefined;

  /**
   * Makes an empty queue; it sets no timer until the first callback.
   *
   * @param waitMs How long each callback waits, in ms.
   * @param clock The time and the timer.
   * @param options `lingering`: when the queue empties, its timer is left to run out (and is not
   *   set again) instead of being cancelled, for a queue that empties and fills thousands of
   *   times a second (request bodies): setting a timer for each costs more than the read. Its
   *   owner calls {@linkcode DeadlineQueue.close} at shutdown.
   * @throws {RangeError} When `waitMs` is not a number of zero or more.
   */
  constructor(
    waitMs: number,
    clock: Clock = systemClock,
    options: { readonly lingering?: boolean } = {},
  ) {
    if (!(waitMs >= 0)) throw new RangeError(`Wait must be 0 ms or more, got ${waitMs}`);
    this.#waitMs = waitMs;
    this.#clock = clock;
    this.#lingering = options.lingering ?? false;
  }

  /** How long each callback waits, in ms. */
  get waitMs(): number {
    return this.#waitMs;
  }

  /** Callbacks waiting. */
  get size(): number {
    return this.#deadlines.size;
  }

  /**
   * Queues a callback, to be called once its wait has passed unless deleted before.
   *
   * @param onDeadline Called with no arguments at the deadline; it must not throw. Queued again,
   *   it waits from now.
   */
  add(onDeadline: () => void): void {
    this.#deadlines.delete(onDeadline);
    this.#deadlines.set(onDeadline, this.#clock.now() + this.#waitMs);
    if (this.#cancelTimer === undefined) this.#arm();
  }

  /**
   * Takes a callback out before its deadline; the timer goes when nothing is left.
   *
   * @param onDeadline The callback queued.
   * @returns Whether it was waiting.
   */
  delete(onDeadline: () => void): boolean {
    if (!this.#deadlines.delete(onDeadline)) return false;
    if (this.#deadlines.size === 0 && !this.#lingering) this.#stopTimer();
    return true;
  }

  /** Cancels the timer; a callback added later sets it again. For shutdown. */
  close(): void {
    this.#stopTimer();
  }

  #stopTimer(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }

  /** Sets the timer for the oldest callback. */
  #arm(): void {
    const oldest = this.#deadlines.values().next();
    if (oldest.done) return;
    this.#cancelTimer = this.#clock.setTimer(
      () => this.#expire(),
      oldest.value - this.#clock.now(),
    );
  }

  /** Calls every callback whose deadline has come, then sets the timer for the next. */
  #expire(): void {
    this.#cancelTimer = undefined;
    const now = this.#clock.now();
    for (const [onDeadline, deadline] of this.#deadlines) {
      if (deadline > now) break;
      this.#deadlines.delete(onDeadline);
      onDeadline();
    }
    if (this.#cancelTimer === undefined) this.#arm();
  }
}
