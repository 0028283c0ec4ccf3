/** The join challenges' key and spent solutions, shared by a fleet's processes on Redis. */
import type { SpentChallenges } from "../queue/spent_challenges.ts";

/** The library function that keeps the fleet's one challenge key ({@linkcode CHALLENGE_LUA}). */
export const CHALLENGE_KEY_FUNCTION = "inventory_challenge_key";

/** The library function that spends a solved challenge once ({@linkcode CHALLENGE_LUA}). */
export const SPEND_CHALLENGE_FUNCTION = "inventory_spend_challenge";

/**
 * The Lua of the two functions, part of the Redis library (lib/store/redis_library.ts).
 *
 * {@linkcode CHALLENGE_KEY_FUNCTION} stores `ARGV[1]` in `KEYS[1]` unless a key is there already,
 * and answers the key stored: the first process to start chooses it, every other one reads it, so a
 * challenge made by one process is checked by any. {@linkcode SPEND_CHALLENGE_FUNCTION} marks the
 * challenge `KEYS[1]` spent until `ARGV[1]` (ms since the epoch, when it expires anyway) unless it
 * already is, and answers 1 the first time, 0 for a replay: Redis forgets it when it expires.
 */
export const CHALLENGE_LUA = `
local function challenge_key(keys, args)
  redis.call('SET', keys[1], args[1], 'NX')
  return redis.call('GET', keys[1])
end
redis.register_function('${CHALLENGE_KEY_FUNCTION}', challenge_key)

local function spend_challenge(keys, args)
  if redis.call('SET', keys[1], '1', 'NX', 'PXAT', args[1]) then return 1 end
  return 0
end
redis.register_function('${SPEND_CHALLENGE_FUNCTION}', spend_challenge)
`;

/** Calls a function of the store's Redis library on keys, with arguments. */
export type LibraryCall = (
  name: string,
  keys: readonly string[],
  args: readonly string[],
) => Promise<unknown>;

/**
 * The key that signs the join challenges, the same for every process of the fleet: the one in
 * Redis, or `candidate` when this process is the first to ask.
 *
 * @param call Calls a function of the store's Redis library.
 * @param key The Redis key that holds it.
 * @param candidate A fresh random key, stored if none is.
 * @returns The fleet's key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * let stored: string | undefined;
 * const call = (_name: string, _keys: readonly string[], args: readonly string[]) =>
 *   Promise.resolve(stored ??= args[0]);
 * assert.equal(await fleetChallengeKey(call, "inv:challenge-key", "first"), "first");
 * assert.equal(await fleetChallengeKey(call, "inv:challenge-key", "second"), "first");
 * ```
 */
export async function fleetChallengeKey(
  call: LibraryCall,
  key: string,
  candidate: string,
): Promise<string> {
  const stored = await call(CHALLENGE_KEY_FUNCTION, [key], [candidate]);
  if (typeof stored !== "string" || stored === "") {
    throw new Error(`Redis answered no join challenge key: ${stored}`);
  }
  return stored;
}

/**
 * The solved join challenges of the whole fleet, in Redis: the Redis adapter of
 * {@linkcode SpentChallenges}. A solution spent on one process is a replay on every other; Redis
 * forgets each when its challenge expires, so memory follows the challenges alive.
 *
 * While Redis cannot be reached the call throws the store's `StoreUnavailableError`, and the join
 * is answered 503 as the join itself would be: the line is in the same Redis.
 *
 * @param call Calls a function of the store's Redis library.
 * @param keyOf The key that marks a challenge spent.
 * @returns The shared memory of spent challenges.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const spent = new Set<string>();
 * const call = (_name: string, keys: readonly string[]) =>
 *   Promise.resolve(spent.has(keys[0]) ? 0 : (spent.add(keys[0]), 1));
 * const challenges = redisSpentChallenges(call, (challenge) => `inv:spent:${challenge}`);
 * assert.equal(await challenges.spend("ab12", Date.now() + 60_000), true);
 * assert.equal(await challenges.spend("ab12", Date.now() + 60_000), false);
 * ```
 */
export function redisSpentChallenges(
  call: LibraryCall,
  keyOf: (challenge: string) => string,
): SpentChallenges {
  return {
    async spend(challenge: string, expiresAt: number): Promise<boolean> {
      const first = await call(SPEND_CHALLENGE_FUNCTION, [keyOf(challenge)], [
        String(Math.ceil(expiresAt)),
      ]);
      return first === 1;
    },
  };
}
