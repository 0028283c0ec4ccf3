/** Notes refused origins in the log, each at most once a minute, remembering a bounded number. */

/** How long an origin's refusals stay quiet after one is logged. */
export const REFUSAL_LOG_INTERVAL_MS = 60_000;

/** How many origins are remembered; past it the one logged longest ago is forgotten. */
export const REFUSAL_LOG_MAX_ORIGINS = 1_000;

/**
 * Longer than any real origin (a host name is at most 253 characters), short enough that 1,000
 * remembered hostile headers stay small.
 */
const MAX_ORIGIN_CHARS = 300;

/** What a {@linkcode RefusalLog} writes with and tells the time by. */
export interface RefusalLogOptions {
  /** Milliseconds since the epoch; tests inject a fake clock. */
  now: () => number;
  /** Writes one line. */
  log: (line: string) => void;
}

/**
 * A log of refused origins that stays readable under a flood: each origin is logged once, then
 * not again until {@linkcode REFUSAL_LOG_INTERVAL_MS} has passed.
 *
 * The line names the origin and the origins it was compared with, so that a proxy that passes the
 * wrong `Host` (a page that silently falls back from WebSocket to SSE) is found in the log.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * let now = 0;
 * const refusals = new RefusalLog({ now: () => now, log: (line) => lines.push(line) });
 * refusals.refuse("https://evil.example", ["http://shop.example:8443"]);
 * refusals.refuse("https://evil.example", ["http://shop.example:8443"]);
 * now += 60_000;
 * refusals.refuse("https://evil.example", ["http://shop.example:8443"]);
 * assert.deepEqual(lines, [
 *   'refused origin "https://evil.example" (compared with "http://shop.example:8443")',
 *   'refused origin "https://evil.example" (compared with "http://shop.example:8443")',
 * ]);
 * ```
 */
export class RefusalLog {
  readonly #options: RefusalLogOptions;
  /** When each origin was last logged; in the order they were, oldest first. */
  readonly #loggedAt = new Map<string | null, number>();

  /**
   * Creates an empty log: no origin has been refused yet.
   *
   * @param options The clock and the line writer.
   */
  constructor(options: RefusalLogOptions) {
    this.#options = options;
  }

  /**
   * Logs a refused origin unless it was logged less than a minute ago.
   *
   * @param origin The request's `Origin` header; null when it had none (a cross-site
   * `Sec-Fetch-Site` alone).
   * @param comparedWith The origins it was compared with: the request's own.
   */
  refuse(origin: string | null, comparedWith: readonly string[]): void {
    const key = origin?.slice(0, MAX_ORIGIN_CHARS) ?? null;
    const now = this.#options.now();
    const last = this.#loggedAt.get(key);
    if (last !== undefined && now - last < REFUSAL_LOG_INTERVAL_MS) return;
    // Deleting first moves the origin to the end, so the first entry is always the oldest.
    this.#loggedAt.delete(key);
    this.#loggedAt.set(key, now);
    if (this.#loggedAt.size > REFUSAL_LOG_MAX_ORIGINS) {
      this.#loggedAt.delete(this.#loggedAt.keys().next().value!);
    }
    // JSON quoting escapes control characters, so a hostile header cannot forge log lines.
    const compared = comparedWith.map((own) => JSON.stringify(own)).join(", ");
    this.#options.log(`refused origin ${JSON.stringify(key)} (compared with ${compared})`);
  }
}
