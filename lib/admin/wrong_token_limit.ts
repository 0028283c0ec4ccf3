/** Counts wrong admin tokens per client and says when a client must wait before trying again. */
import type { Clock } from "../time/clock.ts";

/** How many wrong tokens, over how long, and for how many clients at most. */
export interface WrongTokenRule {
  /** Wrong tokens a client may give within `windowMs`; the next try is refused until one ages out. */
  readonly maxWrong: number;
  /** The sliding window, in ms. */
  readonly windowMs: number;
  /** Clients tracked at once; past it the one whose last wrong token is oldest is forgotten. */
  readonly maxClients: number;
}

/** The rule of the admin area: 5 wrong tokens a minute, 10,000 clients tracked. */
export const ADMIN_WRONG_TOKENS: WrongTokenRule = {
  maxWrong: 5,
  windowMs: 60_000,
  maxClients: 10_000,
};

/**
 * Wrong tokens per client over a sliding window, in bounded memory and with no timer: each
 * client keeps the times of its last `maxWrong` wrong tokens, and entries age out as the injected
 * clock moves, looked at only when a client is asked about or counted.
 *
 * A right token resets nothing: neither its client's count nor anyone else's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * let now = 0;
 * const limit = new WrongTokenLimit({ maxWrong: 2, windowMs: 1000, maxClients: 10 }, { now: () => now });
 * limit.countWrong("192.0.2.1");
 * limit.countWrong("192.0.2.1");
 * assert.equal(limit.retryAfterMs("192.0.2.1"), 1000);
 * assert.equal(limit.retryAfterMs("192.0.2.2"), 0);
 * now = 1000;
 * assert.equal(limit.retryAfterMs("192.0.2.1"), 0);
 * ```
 */
export class WrongTokenLimit {
  readonly #rule: WrongTokenRule;
  readonly #clock: Pick<Clock, "now">;
  /** Client → times of its recent wrong tokens, oldest first; the map in order of last failure. */
  readonly #clients = new Map<string, number[]>();

  /**
   * Creates the limit.
   *
   * @param rule How many wrong tokens over how long, and how many clients to track.
   * @param clock The time source.
   */
  constructor(rule: WrongTokenRule, clock: Pick<Clock, "now">) {
    this.#rule = rule;
    this.#clock = clock;
  }

  /** Clients tracked now, for tests of the bound. */
  get clients(): number {
    return this.#clients.size;
  }

  /**
   * How long a client must wait before its next try counts.
   *
   * @param client The client's key (its address).
   * @returns 0 when it may try now, else the ms until its oldest wrong token in the window ages
   * out.
   */
  retryAfterMs(client: string): number {
    const times = this.#recent(client);
    if (times === undefined || times.length < this.#rule.maxWrong) return 0;
    return times[0] + this.#rule.windowMs - this.#clock.now();
  }

  /**
   * Counts one wrong token of a client.
   *
   * @param client The client's key (its address).
   */
  countWrong(client: string): void {
    const now = this.#clock.now();
    const times = this.#recent(client) ?? [];
    times.push(now);
    if (times.length > this.#rule.maxWrong) times.shift();
    // Re-inserted, so that the map stays in order of each client's last wrong token.
    this.#clients.delete(client);
    this.#clients.set(client, times);
    this.#forgetStale(now);
  }

  /** A client's wrong tokens still in the window; the client is forgotten when none are. */
  #recent(client: string): number[] | undefined {
    const times = this.#clients.get(client);
    if (times === undefined) return undefined;
    const since = this.#clock.now() - this.#rule.windowMs;
    while (times.length > 0 && times[0] <= since) times.shift();
    if (times.length > 0) return times;
    this.#clients.delete(client);
    return undefined;
  }

  /**
   * Drops clients from the front (oldest last failure) while their last wrong token has aged out
   * or while there are too many: each drop is paid for by the failure that made it necessary.
   */
  #forgetStale(now: number): void {
    const since = now - this.#rule.windowMs;
    for (const [client, times] of this.#clients) {
      if (this.#clients.size <= this.#rule.maxClients && times[times.length - 1] > since) break;
      this.#clients.delete(client);
    }
  }
}
