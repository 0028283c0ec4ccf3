/** The time source of hold expiry: real time in the server, a fake one that tests move by hand. */

/** Tells the time and calls back later; injected so tests can expire holds without waiting. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /**
   * Calls `callback` once, `ms` milliseconds from now.
   *
   * @param callback What to run.
   * @param ms The delay in ms.
   * @returns A function that cancels the call.
   */
  setTimer(callback: () => void, ms: number): () => void;
}

/** The longest delay `setTimeout` takes; a longer timer would fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Real time: `Date.now()` and `setTimeout`.
 *
 * A delay past what `setTimeout` accepts (about 24.8 days) fires early instead of at once; the
 * caller then finds nothing due and sets a new timer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const started = systemClock.now();
 * const fired = await new Promise<number>((resolve) => {
 *   systemClock.setTimer(() => resolve(systemClock.now()), 20);
 * });
 * assert.ok(fired - started >= 19, `fired after ${fired - started} ms`);
 * const cancel = systemClock.setTimer(() => assert.fail("a cancelled timer fired"), 1000);
 * cancel();
 * ```
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, ms) {
    const id = setTimeout(callback, Math.min(Math.max(ms, 0), MAX_TIMEOUT_MS));
    return () => clearTimeout(id);
  },
};
