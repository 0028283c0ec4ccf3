/** A clock that stands still until a test moves it, firing due timers in order, with set draws. */
import type { Clock } from "../../lib/time/clock.ts";

interface Timer {
  at: number;
  callback: () => void;
}

/**
 * More timers than this firing at one instant, with no time passing, is a loop (a timer that sets
 * itself again for a time already reached, as a sweep that ends nothing would): the clock throws
 * instead of spinning until the test runs out of memory or time.
 */
export const MAX_TIMERS_AT_ONE_INSTANT = 10_000;

/**
 * A {@linkcode Clock} whose time moves only by {@linkcode FakeClock.advance}; a timer due at once
 * fires on the next turn of the event loop. Its draws come from the source it is given
 * (`Math.random` by default); its UUIDs are real ones, unique across servers sharing a store.
 *
 * @example
 * ```ts
 * const clock = new FakeClock(0);
 * clock.setTimer(() => console.log("due"), 100);
 * clock.advance(100); // prints "due"
 * ```
 */
export class FakeClock implements Clock {
  #now: number;
  readonly #timers = new Set<Timer>();
  readonly #random: () => number;
  /** The instant timers last fired at, and how many fired then. */
  #instant = NaN;
  #firedAtInstant = 0;

  /**
   * @param start The time to start at, in ms since the epoch.
   * @param random The source of {@linkcode FakeClock.random}'s draws.
   */
  constructor(start: number = Date.UTC(2026, 0, 1), random: () => number = Math.random) {
    this.#now = start;
    this.#random = random;
  }

  /** A draw in [0, 1) from the source given. */
  random(): number {
    return this.#random();
  }

  /** A random UUID. */
  randomUUID(): string {
    return crypto.randomUUID();
  }

  /** The current fake time. */
  now(): number {
    return this.#now;
  }

  /** Timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /**
   * Registers a call at now + ms.
   *
   * @param callback What to run.
   * @param ms The delay in ms.
   * @returns A function that cancels the call.
   */
  setTimer(callback: () => void, ms: number): () => void {
    const timer = { at: this.#now + Math.max(ms, 0), callback };
    this.#timers.add(timer);
    // A real timer set for a time already reached fires soon, with no time passing: so does this
    // one (a store that re-arms after the test moved the clock would otherwise wait forever).
    const soon = ms <= 0 ? setTimeout(() => this.#fire(timer)) : undefined;
    return () => {
      clearTimeout(soon);
      this.#timers.delete(timer);
    };
  }

  /**
   * Moves time forward, firing every timer that falls due, earliest first, each at its own time.
   *
   * @param ms How far to move, in ms.
   */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: Timer | undefined;
      for (const timer of this.#timers) {
        if (timer.at <= end && (next === undefined || timer.at < next.at)) next = timer;
      }
      if (next === undefined) break;
      this.#now = Math.max(this.#now, next.at);
      this.#fire(next);
    }
    this.#now = end;
  }

  /**
   * Runs a timer once, unless it already ran or was cancelled.
   *
   * @throws {Error} When more than {@linkcode MAX_TIMERS_AT_ONE_INSTANT} fired at this instant.
   */
  #fire(timer: Timer): void {
    if (!this.#timers.delete(timer)) return;
    if (this.#now !== this.#instant) {
      this.#instant = this.#now;
      this.#firedAtInstant = 0;
    }
    if (++this.#firedAtInstant > MAX_TIMERS_AT_ONE_INSTANT) {
      throw new Error(
        `A timer loop: more than ${MAX_TIMERS_AT_ONE_INSTANT} timers fired at ` +
          `${new Date(this.#now).toISOString()} with no time passing (a timer that sets itself ` +
          "again for a time already reached)",
      );
    }
    timer.callback();
  }
}
