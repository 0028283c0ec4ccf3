/** Bounded waits: a test that awaits something that never comes fails, naming it, instead of hanging. */

/** How long a test waits for something that should happen at once, in ms: correctness, not speed. */
export const WAIT_MS = 5_000;

/**
 * Awaits a promise, or fails when it has not settled in time.
 *
 * @param promise What the test awaits.
 * @param what What should happen, as the failure names it ("the hold's expiry").
 * @param ms How long it may take; {@linkcode WAIT_MS} unless set.
 * @returns What the promise resolves to.
 * @throws {Error} `<what> did not happen within <ms> ms` when it took longer (its timer is
 *   cleared either way, so a test that passes leaves none behind).
 */
export function within<T>(promise: PromiseLike<T>, what: string, ms: number = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
