/** Keeps a flood of refused callbacks from flooding the log: one line, then a count a minute. */

/** After a line, the next waits this long; what comes meanwhile is counted into it. */
export const REFUSAL_LINE_INTERVAL_MS = 60_000;

/**
 * Writes refusals to a log at most once per interval: the first at once, later ones with how many
 * were left out since the last line. A wrong secret shows at once; a forger's flood costs a line
 * a minute.
 *
 * @param log Writes one line.
 * @param now Milliseconds since the epoch.
 * @returns Writes (or counts) one refusal's line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * let now = 0;
 * const refuse = throttledRefusals((line) => lines.push(line), () => now);
 * refuse("a");
 * refuse("b");
 * refuse("c");
 * now += 60_000;
 * refuse("d");
 * assert.deepEqual(lines, ["a", "d (and 2 more refused since the last line)"]);
 * ```
 */
export function throttledRefusals(
  log: (line: string) => void,
  now: () => number,
): (line: string) => void {
  let next = -Infinity;
  let skipped = 0;
  return (line) => {
    if (now() < next) {
      skipped++;
      return;
    }
    log(skipped === 0 ? line : `${line} (and ${skipped} more refused since the last line)`);
    skipped = 0;
    next = now() + REFUSAL_LINE_INTERVAL_MS;
  };
}
