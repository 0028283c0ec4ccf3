/** Adds per second per client on the fleet's Redis: one token bucket per address, one script. */
import type { RateDecision, RateLimiter, TokenBucketRule } from "../limits/rate_limiter.ts";
import { StoreUnavailableError } from "../inventory/store_port.ts";
import type { Send } from "./redis_watchers.ts";

/**
 * Takes a token of the bucket in `KEYS[1]` (a hash of `tokens` and `at`), filled at `ARGV[1]` a
 * second up to `ARGV[2]`, by Redis's own `TIME`: one clock for the fleet, and atomic, so two
 * processes cannot both spend the last token. A refusal writes nothing (the bucket's state is the
 * same); a take sets the key to expire once the bucket would be full again, when it is the same
 * as no key: idle addresses leave nothing behind. Answers `{1, 0}` or `{0, ms until the next}`.
 */
const TAKE_LUA = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = burst
if bucket[1] then
  tokens = math.min(burst, tonumber(bucket[1]) + (now - tonumber(bucket[2])) * rate / 1000)
end
if tokens < 1 then
  return {0, math.ceil((1 - tokens) * 1000 / rate)}
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate))
return {1, 0}
`;

/**
 * The fleet's add rate on Redis: the Redis adapter of the {@linkcode RateLimiter} port.
 *
 * While Redis cannot be reached it allows: the add it guards needs the same Redis, and is
 * answered 503 (try again shortly) by the store, which a 429 (too many adds) would misname.
 *
 * @param send Sends a command through the store's connection.
 * @param keyOf The key of a client's bucket.
 * @param rule The rate and the burst (Redis expires idle buckets, so `maxClients` is unused).
 * @returns The limiter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StoreUnavailableError } from "../inventory/store_port.ts";
 * const replies: unknown[] = ["digest", [1, 0], [0, 250]];
 * const limiter = redisRateLimiter(
 *   () => Promise.resolve(replies.shift()),
 *   (client) => `inv:rate:{${client}}`,
 *   { perSecond: 4, burst: 8, maxClients: 0 },
 * );
 * assert.deepEqual(await limiter.take("192.0.2.1"), { allowed: true, retryAfterMs: 0 });
 * assert.deepEqual(await limiter.take("192.0.2.1"), { allowed: false, retryAfterMs: 250 });
 * const away = redisRateLimiter(
 *   () => Promise.reject(new StoreUnavailableError("Redis cannot be reached")),
 *   (client) => client,
 *   { perSecond: 4, burst: 8, maxClients: 0 },
 * );
 * assert.equal((await away.take("192.0.2.1")).allowed, true);
 * ```
 */
export function redisRateLimiter(
  send: Send,
  keyOf: (client: string) => string,
  rule: TokenBucketRule,
): RateLimiter {
  const rate = String(rule.perSecond);
  const burst = String(rule.burst);
  let sha: string | undefined;
  // The script's digest, not its text, on every take; loaded again when Redis lost it (a restart,
  // a failover).
  const evalTake = async (key: string) => {
    if (sha !== undefined) {
      try {
        return await send(["EVALSHA", sha, "1", key, rate, burst]);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      }
    }
    sha = String(await send(["SCRIPT", "LOAD", TAKE_LUA]));
    return await send(["EVALSHA", sha, "1", key, rate, burst]);
  };
  return {
    async take(client: string): Promise<RateDecision> {
      let reply;
      try {
        reply = await evalTake(keyOf(client));
      } catch (error) {
        if (error instanceof StoreUnavailableError) return { allowed: true, retryAfterMs: 0 };
        throw error;
      }
      const [allowed, retryAfterMs] = reply as [number, number];
      return { allowed: allowed === 1, retryAfterMs };
    },
  };
}
