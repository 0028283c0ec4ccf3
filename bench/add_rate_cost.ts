/**
 * What `--add-rate` costs a `POST /cart` add on the whole server: main.ts with the limit off and on
 * (a rate no client reaches, so every add is checked and allowed), in memory and on Redis, same
 * run, alternating order; wrk's requests/s and the server's CPU per request, medians of passes.
 *
 *     deno run -A bench/add_rate_cost.ts               # 5 passes of 5 s, ~4 min
 *     deno run -A bench/add_rate_cost.ts --passes 1 --seconds 2 --engine redis
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
    engine: { type: "string", default: "both" },
  },
});
const PASSES = Number(values.passes);
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
if (![PASSES, SECONDS, CONNECTIONS].every((n) => Number.isSafeInteger(n) && n > 0)) {
  console.error("usage: add_rate_cost.ts [--passes N] [--seconds S] [--connections N]");
  Deno.exit(2);
}
const ENGINES = { both: ["memory", "Redis"], memory: ["memory"], redis: ["Redis"] }[
  values.engine
];
if (ENGINES === undefined) {
  console.error("--engine must be memory, redis or both");
  Deno.exit(2);
}
if (redisMissing) Deno.exit(1);

const SCRIPT = join(import.meta.dirname!, "post_cart.lua");
/** Adds a second no wrk run reaches: the limit checks every add and refuses none. */
const UNREACHED_RATE = "1000000";

await using redis = await startRedis();
const cases = [
  { name: "memory, off", args: ["--add-rate", "0"] },
  { name: "memory, on", args: ["--add-rate", UNREACHED_RATE] },
  { name: "Redis, off", args: ["--redis", redis.url, "--add-rate", "0"] },
  { name: "Redis, on", args: ["--redis", redis.url, "--add-rate", UNREACHED_RATE] },
].filter(({ name }) => ENGINES.some((engine) => name.startsWith(engine)));
const runs = new Map<string, WrkRun[]>();
for (let pass = 0; pass < PASSES; pass++) {
  for (const { name, args } of pass % 2 === 0 ? cases : [...cases].reverse()) {
    // Each add is a new session's hold: stock enough that none is refused as sold out.
    await using server = await spawnServer(["--inventory", "1000000000", ...args]);
    const run = await runWrk({
      url: new URL("cart", server.url).href,
      script: SCRIPT,
      connections: CONNECTIONS,
      seconds: SECONDS,
      pids: [server.process.pid],
      scriptArgs: [crypto.getRandomValues(new Uint32Array(1))[0].toString(16), "new"],
    });
    if (run.non2xx > 0) throw new Error(`${name}: ${run.non2xx} adds were refused`);
    runs.set(name, [...runs.get(name) ?? [], run]);
  }
}

const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
console.log("| engine, limit | adds/s | CPU per add | p99 |");
console.log("| --- | --- | --- | --- |");
for (const [name, list] of runs) {
  const rps = Math.round(median(list.map((run) => run.rps))).toLocaleString("en");
  const cpu = median(list.map((run) => run.serverCpu)).toFixed(1);
  const p99 = median(list.map((run) => run.p99)).toFixed(2);
  console.log(`| ${name} | ${rps} | ${cpu} µs | ${p99} ms |`);
}
