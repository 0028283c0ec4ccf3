/**
 * What the per-address limits cost a `POST /cart` add on the whole server: main.ts with every limit
 * off, with the holds per client on, and with the holds and the add rate on (at values no run
 * reaches, so every add is checked and allowed), in memory, on Deno KV and on Redis, same run,
 * alternating order; wrk's requests/s and the server's CPU per request (adds and removes in turn), medians of passes.
 *
 *     deno run -A bench/limits_cost.ts               # 5 passes of 5 s, ~8 min
 *     deno run -A bench/limits_cost.ts --passes 1 --seconds 2 --engine redis
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { withoutSeparator } from "../lib/server/config.ts";
import { redisMissing, startRedis } from "../tests/support/redis_server.ts";
import { spawnServer } from "../tests/support/server.ts";
import { runWrk, type WrkRun } from "./wrk.ts";

const { values } = parseArgs({
  args: withoutSeparator(Deno.args),
  options: {
    passes: { type: "string", default: "5" },
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "10" },
    engine: { type: "string", default: "all" },
  },
});
const PASSES = Number(values.passes);
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
if (![PASSES, SECONDS, CONNECTIONS].every((n) => Number.isSafeInteger(n) && n > 0)) {
  console.error(
    "usage: limits_cost.ts [--passes N] [--seconds S] [--connections N] [--engine E]",
  );
  Deno.exit(2);
}
const ENGINES = {
  all: ["memory", "KV", "Redis"],
  memory: ["memory"],
  kv: ["KV"],
  redis: ["Redis"],
}[values.engine];
if (ENGINES === undefined) {
  console.error("--engine must be memory, kv, redis or all");
  Deno.exit(2);
}
if (redisMissing) Deno.exit(1);

const SCRIPT = join(import.meta.dirname!, "post_cart.lua");
/** Adds a second, and holds at once, that no wrk run reaches: every add is checked, none refused. */
const UNREACHED = "1000000";
const OFF = ["--add-rate", "0", "--max-holds-per-client", "0"];
const HOLDS = ["--add-rate", "0", "--max-holds-per-client", UNREACHED];
const BOTH = ["--add-rate", UNREACHED, "--max-holds-per-client", UNREACHED];

await using redis = await startRedis();
const kvFolder = await Deno.makeTempDir({ prefix: "limits-cost-" });
const engines: Record<string, () => string[]> = {
  memory: () => ["--data", ":memory:"],
  KV: () => ["--data", join(kvFolder, `${crypto.randomUUID()}.kv`)],
  Redis: () => ["--redis", redis.url],
};
const cases = ENGINES.flatMap((engine) => [
  { name: `${engine}, no limit`, args: () => [...engines[engine](), ...OFF] },
  { name: `${engine}, holds per client`, args: () => [...engines[engine](), ...HOLDS] },
  { name: `${engine}, holds and add rate`, args: () => [...engines[engine](), ...BOTH] },
]);
const runs = new Map<string, WrkRun[]>();
for (let pass = 0; pass < PASSES; pass++) {
  for (const { name, args } of pass % 2 === 0 ? cases : [...cases].reverse()) {
    // 64 sessions adding and removing in turn: an address holds at most 64 units, as a busy
    // shared address might, and stock enough that none is refused as sold out.
    await using server = await spawnServer(["--inventory", "1000000000", ...args()]);
    const run = await runWrk({
      url: new URL("cart", server.url).href,
      script: SCRIPT,
      connections: CONNECTIONS,
      seconds: SECONDS,
      pids: [server.process.pid],
      scriptArgs: [crypto.getRandomValues(new Uint32Array(1))[0].toString(16), "toggle"],
    });
    if (run.non2xx > 0) throw new Error(`${name}: ${run.non2xx} posts were refused`);
    runs.set(name, [...runs.get(name) ?? [], run]);
  }
}

const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
console.log("| engine, limit | posts/s | CPU per post | p99 |");
console.log("| --- | --- | --- | --- |");
for (const [name, list] of runs) {
  const rps = Math.round(median(list.map((run) => run.rps))).toLocaleString("en");
  const cpu = median(list.map((run) => run.serverCpu)).toFixed(1);
  const p99 = median(list.map((run) => run.p99)).toFixed(2);
  console.log(`| ${name} | ${rps} | ${cpu} µs | ${p99} ms |`);
}
await Deno.remove(kvFolder, { recursive: true });
