/** Adds per second per client on the fleet's Redis: one token bucket per address, one script. */
import type { RateDecision, RateLimiter, TokenBucketRule } from "../limits/rate_limiter.ts";
import { StoreUnavailableError } from "../inventory/store_port.ts";

/** The library function that takes a token of a client's bucket ({@linkcode RATE_LUA}). */
export const TAKE_RATE_FUNCTION = "inventory_take_rate";

/**
 * The Lua of {@linkcode TAKE_RATE_FUNCTION}, part of the Redis library (lib/store/redis_library.ts),
 * so that it is loaded, and loaded again when Redis lost it, with the product functions.
 *
 * It takes a token of the bucket in `KEYS[1]` (a hash of `tokens` and `at`), filled at `ARGV[1]` a
 * second up to `ARGV[2]`, by Redis's own `TIME`: one clock for the fleet, and atomic, so two
 * processes cannot both spend the last token. A refusal writes nothing (the bucket's state is the
 * same); a take sets the key to expire once the bucket would be full again, when it is the same
 * as no key: idle addresses leave nothing behind. Answers `{1, 0}` or `{0, ms until the next}`.
 */
export const RATE_LUA = `
local function take_rate(keys, args)
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  local rate = tonumber(args[1])
  local burst = tonumber(args[2])
  local bucket = redis.call('HMGET', keys[1], 'tokens', 'at')
  local tokens = burst
  if bucket[1] then
    tokens = math.min(burst, tonumber(bucket[1]) + (now - tonumber(bucket[2])) * rate / 1000)
  end
  if tokens < 1 then
    return {0, math.ceil((1 - tokens) * 1000 / rate)}
  end
  redis.call('HSET', keys[1], 'tokens', tostring(tokens - 1), 'at', now)
  redis.call('PEXPIRE', keys[1], math.ceil(burst * 1000 / rate))
  return {1, 0}
end
redis.register_function('${TAKE_RATE_FUNCTION}', take_rate)
`;

/**
 * The fleet's add rate on Redis: the Redis adapter of the {@linkcode RateLimiter} port.
 *
 * While Redis cannot be reached it allows: the add it guards needs the same Redis, and is
 * answered 503 (try again shortly) by the store, which a 429 (too many adds) would misname.
 *
 * @param call Calls a function of the store's Redis library on keys, with arguments.
 * @param keyOf The key of a client's bucket.
 * @param rule The rate and the burst (Redis expires idle buckets, so `maxClients` is unused).
 * @returns The limiter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StoreUnavailableError } from "../inventory/store_port.ts";
 * const replies: unknown[] = [[1, 0], [0, 250]];
 * const calls: string[] = [];
 * const limiter = redisRateLimiter(
 *   (name, keys) => {
 *     calls.push(`${name} ${keys[0]}`);
 *     return Promise.resolve(replies.shift());
 *   },
 *   (client) => `inv:rate:{${client}}`,
 *   { perSecond: 4, burst: 8, maxClients: 0 },
 * );
 * assert.deepEqual(await limiter.take("192.0.2.1"), { allowed: true, retryAfterMs: 0 });
 * assert.deepEqual(await limiter.take("192.0.2.1"), { allowed: false, retryAfterMs: 250 });
 * assert.equal(calls[0], "inventory_take_rate inv:rate:{192.0.2.1}");
 * const away = redisRateLimiter(
 *   () => Promise.reject(new StoreUnavailableError("Redis cannot be reached")),
 *   (client) => client,
 *   { perSecond: 4, burst: 8, maxClients: 0 },
 * );
 * assert.equal((await away.take("192.0.2.1")).allowed, true);
 * ```
 */
export function redisRateLimiter(
  call: (name: string, keys: readonly string[], args: readonly string[]) => Promise<unknown>,
  keyOf: (client: string) => string,
  rule: TokenBucketRule,
): RateLimiter {
  const args = [String(rule.perSecond), String(rule.burst)];
  return {
    async take(client: string): Promise<RateDecision> {
      let reply;
      try {
        reply = await call(TAKE_RATE_FUNCTION, [keyOf(client)], args);
      } catch (error) {
        if (error instanceof StoreUnavailableError) return { allowed: true, retryAfterMs: 0 };
        throw error;
      }
      const [allowed, retryAfterMs] = reply as [number, number];
      return { allowed: allowed === 1, retryAfterMs };
    },
  };
}
