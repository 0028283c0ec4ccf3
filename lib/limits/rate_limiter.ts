/** Adds per second per client: the rate limiter's port, and a token bucket in this process. */
import type { Clock } from "../time/clock.ts";

/** What a limiter answers for one request. */
export interface RateDecision {
  /** Whether the request may go on. */
  readonly allowed: boolean;
  /** When refused, the ms until the client's next token; 0 when allowed. */
  readonly retryAfterMs: number;
}

/** Takes one token of a client's bucket, in this process or on the fleet's Redis. */
export interface RateLimiter {
  /**
   * Takes a token for one request of a client.
   *
   * @param client The client's key (its address).
   * @returns Whether it may go on, and else how long until it may.
   */
  take(client: string): RateDecision | Promise<RateDecision>;
}

/** How fast buckets fill and how many clients are remembered. */
export interface TokenBucketRule {
  /** Tokens a second a bucket gains: the steady rate a client is allowed. */
  readonly perSecond: number;
  /** Tokens a bucket holds when full: the burst a client is allowed. */
  readonly burst: number;
  /** Clients remembered at once; past it the one seen longest ago is forgotten. */
  readonly maxClients: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per client in this process's memory, filled by the injected clock with no timer.
 *
 * The map is kept in order of each client's last request. A bucket that has had time to fill up
 * again is the same as no bucket, so entries at the front that idle that long are dropped at each
 * take (each drop paid for by the take that finds it); past `maxClients` the oldest goes as well.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * let now = 0;
 * const limiter = new MemoryRateLimiter({ perSecond: 1, burst: 2, maxClients: 10 }, { now: () => now });
 * assert.equal(limiter.take("192.0.2.1").allowed, true);
 * assert.equal(limiter.take("192.0.2.1").allowed, true);
 * assert.deepEqual(limiter.take("192.0.2.1"), { allowed: false, retryAfterMs: 1000 });
 * assert.equal(limiter.take("192.0.2.2").allowed, true);
 * now = 1000;
 * assert.equal(limiter.take("192.0.2.1").allowed, true);
 * ```
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly #rule: TokenBucketRule;
  readonly #clock: Pick<Clock, "now">;
  readonly #buckets = new Map<string, Bucket>();
  /** How long an empty bucket takes to fill: a client idle this long is forgotten. */
  readonly #fillMs: number;

  /**
   * Makes a limiter that remembers no client yet.
   *
   * @param rule The rate, the burst and the most clients remembered.
   * @param clock The time source.
   */
  constructor(rule: TokenBucketRule, clock: Pick<Clock, "now">) {
    this.#rule = rule;
    this.#clock = clock;
    this.#fillMs = (rule.burst / rule.perSecond) * 1000;
  }

  /** Clients remembered now, for tests of the bound. */
  get clients(): number {
    return this.#buckets.size;
  }

  /**
   * Takes a token of a client's bucket.
   *
   * @param client The client's key.
   * @returns Allowed, or refused with the ms until the next token.
   */
  take(client: string): RateDecision {
    const now = this.#clock.now();
    const { perSecond, burst } = this.#rule;
    const bucket = this.#buckets.get(client);
    let tokens = burst;
    if (bucket !== undefined) {
      tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * perSecond) / 1000);
      this.#buckets.delete(client);
    }
    const allowed = tokens >= 1;
    if (allowed) tokens -= 1;
    // Re-inserted, so that the map stays in order of each client's last request.
    this.#buckets.set(client, { tokens, at: now });
    this.#forgetIdle(now);
    return { allowed, retryAfterMs: allowed ? 0 : Math.ceil(((1 - tokens) * 1000) / perSecond) };
  }

  #forgetIdle(now: number): void {
    for (const [client, bucket] of this.#buckets) {
      if (this.#buckets.size <= this.#rule.maxClients && now - bucket.at < this.#fillMs) break;
      this.#buckets.delete(client);
    }
  }
}
