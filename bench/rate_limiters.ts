/**
 * Which add-rate limiter: ours (lib/limits/rate_limiter.ts, lib/store/redis_rate_limiter.ts)
 * against `npm:rate-limiter-flexible`, in memory and on one real redis-server, same run,
 * alternating order: takes a second from one caller and from 50 at once, over 1,000 addresses,
 * every take allowed (the path an honest shopper pays for) and every take refused (a script's).
 *
 *     deno run -A bench/rate_limiters.ts               # 5 passes, ~30 s
 *     deno run -A bench/rate_limiters.ts --passes 2 --n 2000
 */
import { parseArgs } from "node:util";
import { createClient } from "@redis/client";
import { RateLimiterMemory, RateLimiterRedis } from "rate-limiter-flexible";
import { MemoryRateLimiter } from "../lib/limits/rate_limiter.ts";
import { systemClock } from "../lib/time/clock.ts";
import { withoutSeparator } from "../lib/server/config.ts";
import { RedisConnection } from "../lib/store/redis_connection.ts";
import { redisRateLimiter } from "../lib/store/redis_rate_limiter.ts";
import { redisMissing, startRedis } from "../tests/support/redis_server.ts";

const { values } = parseArgs({
  args: withoutSeparator(Deno.args),
  options: { passes: { type: "string", default: "5" }, n: { type: "string", default: "20000" } },
});
const PASSES = Number(values.passes);
const N = Number(values.n);
if (![PASSES, N].every(Number.isSafeInteger) || PASSES < 1 || PASSES > 20 || N < 100) {
  console.error("usage: rate_limiters.ts [--passes 1..20] [--n 100..]");
  Deno.exit(2);
}
if (redisMissing) Deno.exit(1);

const CALLERS = 50;
const ADDRESSES = 1_000;

const addressOf = (i: number) => `198.51.${i >> 8}.${i % 256}`;

/** One take of a client's token: resolves true when allowed. */
type Take = (client: string) => Promise<boolean>;

/** A limiter to measure: its takes with a rate no caller reaches, and with one every caller does. */
interface Contender {
  readonly name: string;
  readonly open: Take;
  readonly shut: Take;
}

async function takesPerSecond(
  name: string,
  take: Take,
  callers: number,
  expect: boolean,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: callers }, async () => {
    while (next < N) {
      const i = next++;
      if (await take(addressOf(i % ADDRESSES)) !== expect) {
        throw new Error(`${name}: take ${i} was not ${expect ? "allowed" : "refused"}`);
      }
    }
  }));
  return N / ((performance.now() - started) / 1000);
}

await using redis = await startRedis();
const connection = await RedisConnection.open(redis.url, { log() {}, recovered() {} });
const client = createClient({ url: redis.url, disableOfflineQueue: true });
await client.connect();
const HIGH = 1_000_000_000;
/** A rate whose one token per address, spent first, does not come back within a run. */
const LOW = 1 / 3600;

const ours = (perSecond: number, prefix: string): Take => {
  const limiter = redisRateLimiter(
    (name, keys, args) => connection.call(name, keys, args),
    (c) => `${prefix}:{${c}}`,
    {
      perSecond,
      burst: Math.max(1, perSecond),
      maxClients: 0,
    },
  );
  return async (c) => (await limiter.take(c)).allowed;
};
const oursMemory = (perSecond: number): Take => {
  const limiter = new MemoryRateLimiter(
    { perSecond, burst: Math.max(1, perSecond), maxClients: 100_000 },
    systemClock,
  );
  return (c) => Promise.resolve(limiter.take(c).allowed);
};
const flexible = (limiter: RateLimiterMemory | RateLimiterRedis): Take => (c) =>
  limiter.consume(c).then(() => true, (refusal) => {
    if (refusal instanceof Error) throw refusal;
    return false;
  });
const flexibleRedis = (points: number, duration: number, keyPrefix: string) =>
  flexible(
    new RateLimiterRedis({
      storeClient: client,
      useRedisPackage: true,
      points,
      duration,
      keyPrefix,
    }),
  );

let pass = 0;
const contenders = (): Contender[] => {
  pass++;
  return [
    { name: "ours, memory", open: oursMemory(HIGH), shut: oursMemory(LOW) },
    {
      name: "flexible, memory",
      open: flexible(new RateLimiterMemory({ points: HIGH, duration: 1 })),
      shut: flexible(new RateLimiterMemory({ points: 1, duration: 3600 })),
    },
    { name: "ours, Redis", open: ours(HIGH, `o${pass}`), shut: ours(LOW, `os${pass}`) },
    {
      name: "flexible, Redis",
      open: flexibleRedis(HIGH, 1, `f${pass}`),
      shut: flexibleRedis(1, 3600, `fs${pass}`),
    },
  ];
};

const results = new Map<string, number[][]>();
for (let p = 0; p < PASSES; p++) {
  const list = contenders();
  if (p % 2 === 1) list.reverse();
  for (const contender of list) {
    // The refusing limiter's first take per address is allowed: spend them first.
    for (let i = 0; i < ADDRESSES; i++) {
      await contender.shut(addressOf(i));
    }
    const figures = [
      await takesPerSecond(contender.name, contender.open, 1, true),
      await takesPerSecond(contender.name, contender.open, CALLERS, true),
      await takesPerSecond(contender.name, contender.shut, CALLERS, false),
    ];
    results.set(contender.name, [...results.get(contender.name) ?? [], figures]);
  }
}
await client.close();
await connection.close();

const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
console.log(
  `| limiter | allowed, 1 caller | allowed, ${CALLERS} callers | refused, ${CALLERS} callers |`,
);
console.log("| --- | --- | --- | --- |");
for (const [name, passes] of results) {
  const cells = [0, 1, 2].map((i) =>
    Math.round(median(passes.map((f) => f[i]))).toLocaleString("en")
  );
  console.log(`| ${name} | ${cells.join(" | ")} takes/s |`);
}
