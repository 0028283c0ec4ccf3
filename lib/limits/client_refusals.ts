/** Counts per-address refusals by kind, and logs each address and kind at most once a minute. */
import type { Clock } from "../time/clock.ts";

/** How long an address's refusals of one kind stay quiet in the log after one is logged. */
export const CLIENT_REFUSAL_LOG_INTERVAL_MS = 60_000;

/** Addresses and kinds remembered for the log; past it the one logged longest ago is forgotten. */
export const CLIENT_REFUSAL_LOG_MAX = 10_000;

/** What a {@linkcode ClientRefusals} counts with, logs with and tells the time by. */
export interface ClientRefusalsOptions {
  /** The time source. */
  readonly clock: Pick<Clock, "now">;
  /** Writes one line. */
  readonly log: (line: string) => void;
  /** Counts one refusal of a kind, in /metrics. */
  readonly count: (kind: string) => void;
}

/**
 * Every refusal of a per-address limit: counted by its kind each time, logged at most once a
 * minute per address and kind, so that a script's flood leaves one line a minute.
 *
 * The log's memory is bounded: entries are kept in order of their last line, and each refusal
 * drops from the front those older than a minute (they would be logged again anyway) and, past
 * {@linkcode CLIENT_REFUSAL_LOG_MAX}, the oldest.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * let now = 0;
 * const lines: string[] = [];
 * const kinds: string[] = [];
 * const refusals = new ClientRefusals({
 *   clock: { now: () => now }, log: (line) => lines.push(line), count: (kind) => kinds.push(kind),
 * });
 * refusals.refuse("add_rate", "192.0.2.1");
 * refusals.refuse("add_rate", "192.0.2.1");
 * now = 60_000;
 * refusals.refuse("add_rate", "192.0.2.1");
 * assert.equal(kinds.length, 3);
 * assert.deepEqual(lines, [
 *   'refused "192.0.2.1": add_rate (logged at most once a minute)',
 *   'refused "192.0.2.1": add_rate (logged at most once a minute)',
 * ]);
 * ```
 */
export class ClientRefusals {
  readonly #options: ClientRefusalsOptions;
  /** When each address and kind was last logged, oldest first. */
  readonly #loggedAt = new Map<string, number>();

  /**
   * Makes a log that has logged nothing yet.
   *
   * @param options The clock, the line writer and the counter.
   */
  constructor(options: ClientRefusalsOptions) {
    this.#options = options;
  }

  /** Addresses and kinds remembered now, for tests of the bound. */
  get remembered(): number {
    return this.#loggedAt.size;
  }

  /**
   * Counts a refusal, and logs it unless its address and kind were logged less than a minute ago.
   *
   * @param kind The limit that refused, as /metrics labels it (e.g. `add_rate`).
   * @param client The client's key (its address).
   */
  refuse(kind: string, client: string): void {
    this.#options.count(kind);
    const now = this.#options.clock.now();
    const key = `${kind} ${client}`;
    const last = this.#loggedAt.get(key);
    if (last !== undefined && now - last < CLIENT_REFUSAL_LOG_INTERVAL_MS) return;
    this.#loggedAt.delete(key);
    this.#loggedAt.set(key, now);
    for (const [old, at] of this.#loggedAt) {
      const stale = now - at >= CLIENT_REFUSAL_LOG_INTERVAL_MS;
      if (!stale && this.#loggedAt.size <= CLIENT_REFUSAL_LOG_MAX) break;
      this.#loggedAt.delete(old);
    }
    // JSON quoting escapes control characters, so a forwarded address cannot forge log lines.
    this.#options.log(
      `refused ${JSON.stringify(client)}: ${kind} (logged at most once a minute)`,
    );
  }
}
