/** Time, timers and chance: real ones in the server, fake ones that tests move by hand. */

/**
 * Tells the time, calls back later and draws random numbers; made once by the server and passed
 * to everything that waits or draws, so that tests expire holds and time out waiters without
 * waiting, and fix the draws.
 */
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
  /**
   * Draws a number in [0, 1), as `Math.random` does: for jitter.
   *
   * @returns The number.
   */
  random(): number;
  /**
   * Makes a random UUID (version 4), as `crypto.randomUUID` does: for ids.
   *
   * @returns The UUID.
   */
  randomUUID(): string;
}

/** The longest delay `setTimeout` takes; a longer timer would fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Real time and chance: `Date.now()`, `setTimeout`, `Math.random` and `crypto.randomUUID`.
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
 * const draw = systemClock.random();
 * assert.ok(draw >= 0 && draw < 1);
 * assert.match(systemClock.randomUUID(), /^[0-9a-f]{8}-[0-9a-f]{4}-4/);
 * ```
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, ms) {
    const id = setTimeout(callback, Math.min(Math.max(ms, 0), MAX_TIMEOUT_MS));
    return () => clearTimeout(id);
  },
  random: () => Math.random(),
  randomUUID: () => crypto.randomUUID(),
};
