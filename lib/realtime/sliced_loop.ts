/** Visits every member of a large set in slices, letting other work run between the slices. */

/**
 * Members visited before the loop yields: a slice short enough that other requests are not held
 * up long, and few enough slices for a large set that their timers stay under five nested levels,
 * past which timers are clamped to a minimum delay.
 */
export const DEFAULT_SLICE_SIZE = 2048;

/**
 * Calls `visit` for every member of `members` as it was at the call, in slices of `sliceSize`,
 * yielding to the event loop (a timer) between slices so that requests and socket writes are not
 * held up behind one long loop. A member removed from the set before its turn is skipped; one
 * added during the loop is not visited (it got the newest state when it joined). Before each later
 * slice `goOn` is asked, so that a pass whose news is stale can give way to a newer one.
 *
 * @param members The live set.
 * @param visit Called once per member; it must not throw.
 * @param goOn Tells, between slices, whether to go on.
 * @param sliceSize Members per slice.
 * @returns Nothing when one slice was enough (the loop ran to its end at once), else a promise
 * that resolves after the last slice.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const seen: number[] = [];
 * const done = forEachSliced(new Set([1, 2, 3]), (n) => seen.push(n));
 * assert.equal(done, undefined, "one slice: done at once");
 * assert.deepEqual(seen, [1, 2, 3]);
 * ```
 */
export function forEachSliced<T>(
  members: Set<T>,
  visit: (member: T) => void,
  goOn: () => boolean = () => true,
  sliceSize: number = DEFAULT_SLICE_SIZE,
): void | Promise<void> {
  if (members.size <= sliceSize) {
    for (const member of members) visit(member);
    return;
  }
  // One array of references per pass, not per member: it keeps the pass to the members it began
  // with, whatever joins or leaves in between.
  const snapshot = [...members];
  return (async () => {
    for (let start = 0; start < snapshot.length; start += sliceSize) {
      if (start > 0) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (!goOn()) return;
      }
      const end = Math.min(start + sliceSize, snapshot.length);
      for (let i = start; i < end; i++) {
        if (members.has(snapshot[i])) visit(snapshot[i]);
      }
    }
  })();
}
