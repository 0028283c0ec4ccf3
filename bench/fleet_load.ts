/**
 * The fleet on Redis, against one process in the same run: a change's time to the last of 10,000
 * WebSockets, 20,000 held across two processes, `POST /cart` requests/s and the take function's
 * own operations/s in Redis.
 *
 *     deno run -A bench/fleet_load.ts                 # ~5 min
 *     deno run -A bench/fleet_load.ts --passes 2 --changes 5 --subscribers 2000 --held 4000 --seconds 2
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { BenchRun, markdownTable, wholeFlags } from "./bench_run.ts";
import { withoutSeparator } from "../lib/server/config.ts";
import { wallClock } from "../tests/support/fleet.ts";
import { freePort } from "../tests/support/free_port.ts";
import { type RunningRedis, startRedis } from "../tests/support/redis_server.ts";
import { type ChildServer, DEMO, spawnServer } from "../tests/support/server.ts";
import { RedisKeys } from "../lib/store/redis_keys.ts";
import { startBareServer } from "./bare_server.ts";
import { CartChanger } from "./cart_changer.ts";
import {
  armAll,
  CHANGE_DEADLINE_MS,
  checkAll,
  type Child,
  MAX_PER_CHILD,
  median,
  probeHealth,
  readRssKiB,
  requireOpened,
  SETTLE_MS,
  spawnChildren,
} from "./load.ts";
import { cpuMs, percentile } from "./siege.ts";
import { runWrk, type WrkRun } from "./wrk.ts";

const USAGE = `Usage: deno run -A bench/fleet_load.ts [options]

  --passes N        passes of each measurement, medians over them     (default 5)
  --changes N       timed changes per setup per pass                  (default 20)
  --subscribers N   WebSockets per setup for the change timing         (default 10000)
  --held N          WebSockets held across the two processes at once  (default 20000)
  --seconds S       length of each wrk run                            (default 5)
  --timeout S       the whole run's limit                             (default 900)`;

const { values } = parseArgs({
  args: withoutSeparator(Deno.args),
  options: {
    passes: { type: "string", default: "5" },
    changes: { type: "string", default: "20" },
    subscribers: { type: "string", default: "10000" },
    held: { type: "string", default: "20000" },
    seconds: { type: "string", default: "5" },
    timeout: { type: "string", default: "900" },
    help: { type: "boolean" },
  },
});
const whole = wholeFlags(values, USAGE);
if (values.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const PASSES = whole("passes", 1, 20);
const CHANGES = whole("changes", 1, 200);
const SUBSCRIBERS = whole("subscribers", 2, 16_000);
const HELD = whole("held", 2, 30_000);
const SECONDS = whole("seconds", 1, 60);
const TIMEOUT_MS = whole("timeout", 60, 3_600) * 1000;

/** The pause before each timed change, so that each is one change on a quiet fleet. */
const CHANGE_GAP_MS = 250;
/** Changes made while the 20,000 are held, alternating between the two processes. */
const HELD_CHANGES = 6;
/** Stock for the add path: more than any run can hold. */
const PLENTY = 1_000_000_000;
/** Keep-alive connections of each wrk run; one wrk thread (2 cores are shared by everyone). */
const WRK_CONNECTIONS = 32;
/** Calls of each redis-benchmark run, 50 at a time. */
const FCALL_CALLS = 100_000;
const WRK_SCRIPT = join(import.meta.dirname!, "post_cart.lua");

const bench = new BenchRun(TIMEOUT_MS);
const run = bench.signal;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ms = (value: number) => `${value.toFixed(1)} ms`;
const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
const count = (value: number) => Math.round(value).toLocaleString("en-US");
function p99(values: number[]): number {
  return percentile(Float64Array.from(values).sort(), 0.99);
}

/** Servers whose subscribers live in children, and a shopper who changes the cart through one. */
interface Setup {
  readonly name: string;
  readonly servers: ChildServer[];
  readonly children: Child[];
  changer: CartChanger;
  version: number;
}

/** Spawns `main.ts` processes; each is killed at the end of the run. */
async function spawn(count: number, args: string[]): Promise<ChildServer[]> {
  const servers: ChildServer[] = [];
  for (let i = 0; i < count; i++) {
    // Every shopper comes from one address: the per-address limit of holds would refuse them.
    const server = await spawnServer([...args, "--max-holds-per-client", "0"]);
    servers.push(server);
    bench.defer(() => server[Symbol.asyncDispose]());
  }
  return servers;
}

/** Starts a redis-server of its own; it is killed (and its folder removed) at the end of the run. */
async function redis(): Promise<RunningRedis> {
  const started = await startRedis();
  bench.defer(() => started[Symbol.asyncDispose]());
  return started;
}

/** Starts `n` subscribers on each server, in children of at most {@linkcode MAX_PER_CHILD}. */
async function subscribe(servers: ChildServer[], n: number): Promise<Child[]> {
  const children = servers.flatMap((server) =>
    spawnChildren({ url: new URL(server.url), transport: "ws", timeoutMs: TIMEOUT_MS }, n)
  );
  for (const child of children) bench.defer(() => child.close());
  await requireOpened(children, run);
  return children;
}

/** Times one change through a setup's shopper until its last subscriber has it, in ms. */
async function timeChange(setup: Setup): Promise<number | undefined> {
  const reached = await armAll(setup.children, setup.version + 1, run);
  const started = wallClock();
  setup.version = await setup.changer.change();
  try {
    return await reached(AbortSignal.any([run, AbortSignal.timeout(CHANGE_DEADLINE_MS)])) -
      started;
  } catch {
    return undefined;
  }
}

const report: string[] = [];
const started = new Date();
const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");

// a. A change's time to the last of N WebSockets: one process on memory, two on one Redis.
async function latency(redisUrl: string): Promise<Setup> {
  const perServer = Math.ceil(SUBSCRIBERS / 2);
  const limit = ["--inventory", "1000", "--max-connections", String(HELD + 1_000)];
  const [single] = await spawn(1, limit);
  const fleet = await spawn(2, ["--redis", redisUrl, ...limit]);
  const setups: Setup[] = await Promise.all([
    { name: "1 process, --data :memory:", servers: [single], n: SUBSCRIBERS },
    { name: "2 processes on one Redis", servers: fleet, n: perServer },
  ].map(async ({ name, servers, n }) => {
    const children = await subscribe(servers, n);
    const changer = await CartChanger.open(new URL(servers[0].url));
    // The first change tells the cart's version; it is not timed.
    return { name, servers, children, changer, version: await changer.change() };
  }));
  const [baseline, redis] = setups;
  const samples = new Map<Setup, number[][]>(setups.map((setup) => [setup, []]));
  let missed = 0;
  for (let pass = 0; pass < PASSES; pass++) {
    for (const setup of setups) samples.get(setup)!.push([]);
    for (let i = 0; i < CHANGES; i++) {
      // Alternate which goes first, so that neither always follows the other's push.
      for (const setup of (pass + i) % 2 ? [...setups].reverse() : setups) {
        await sleep(CHANGE_GAP_MS);
        const time = await timeChange(setup);
        if (time === undefined) missed++;
        else samples.get(setup)!.at(-1)!.push(time);
      }
    }
  }
  const medians = (setup: Setup) => samples.get(setup)!.map(median);
  const p99s = (setup: Setup) => samples.get(setup)!.map(p99);
  const all = (setup: Setup) => samples.get(setup)!.flat();
  const row = (label: string, of: (setup: Setup) => number) => {
    const [a, b] = [of(baseline), of(redis)];
    return [label, ms(a), ms(b), ms(b - a), `${(b / a).toFixed(2)}×`];
  };
  const added = medians(redis).map((m, i) => m - medians(baseline)[i]);
  const checks = await Promise.all(
    setups.map((setup) => checkAll(setup.children, setup.version, run)),
  );
  report.push(
    `### a. Change → last of ${count(SUBSCRIBERS)} WebSockets ` +
      `(${PASSES} passes × ${CHANGES} changes each, alternating)\n`,
    markdownTable(["figure", baseline.name, redis.name, "added by Redis", "ratio"], [
      row("median (median of the passes' medians)", (s) => median(medians(s))),
      row("p99 (median of the passes' p99)", (s) => median(p99s(s))),
      row(`p99 of all ${PASSES * CHANGES} changes`, (s) => p99(all(s))),
      [
        "passes' medians",
        ...setups.map((s) => medians(s).map((m) => m.toFixed(0)).join(", ")),
        added.map((m) => m.toFixed(0)).join(", "),
        "",
      ],
    ]),
    "",
    `Subscribers per process: ${count(SUBSCRIBERS)} / ${count(perServer)} each; client ` +
      `processes: ${baseline.children.length} / ${redis.children.length}. Changes that missed ` +
      `${CHANGE_DEADLINE_MS / 1000} s: ${missed}. Not on the final version: ` +
      `${checks.map((c) => c.behind).join(" / ")}; duplicated updates: ` +
      `${checks.map((c) => c.duplicates).join(" / ")}; lost connections: ` +
      `${checks.map((c) => c.lost).join(" / ")}${
        checks.find((c) => c.firstLoss)?.firstLoss ?? ""
      }.`,
    "",
  );
  // The single process and its subscribers are done: free the cores and memory for part b.
  baseline.changer.close();
  await Promise.all(baseline.children.map((child) => child.close()));
  await single[Symbol.asyncDispose]();
  return redis;
}

// b. HELD WebSockets across the two processes of the fleet, then a few changes: none lost.
async function held(fleet: Setup): Promise<void> {
  const perServer = Math.ceil(HELD / 2);
  const had = Math.ceil(SUBSCRIBERS / 2);
  const before = fleet.servers.map((server) => readRssKiB(server.process.pid));
  fleet.children.push(...await subscribe(fleet.servers, perServer - had));
  await sleep(SETTLE_MS);
  const rss = fleet.servers.map((server) => readRssKiB(server.process.pid));
  const changers = [fleet.changer, await CartChanger.open(new URL(fleet.servers[1].url))];
  const times: number[] = [];
  let missed = 0;
  for (let i = 0; i < HELD_CHANGES; i++) {
    await sleep(CHANGE_GAP_MS);
    fleet.changer = changers[i % 2];
    const time = await timeChange(fleet);
    if (time === undefined) missed++;
    else times.push(time);
  }
  const final = await checkAll(fleet.children, fleet.version, run);
  const opened = perServer * 2;
  report.push(
    `### b. ${count(opened)} WebSockets held across 2 processes on one Redis\n`,
    markdownTable(["figure", "value"], [
      [
        "subscribers held",
        `${count(opened)} (${count(perServer)} per process, ` +
        `${fleet.children.length} client processes of ≤ ${count(MAX_PER_CHILD)})`,
      ],
      ["server RSS per process", rss.map(mib).join(", ")],
      [
        `server RSS per subscriber (from ${count(had)} to ${count(perServer)} per process)`,
        rss.map((r, i) => `${((r - before[i]) / (perServer - had)).toFixed(1)} KiB`).join(", "),
      ],
      [
        `change → last of ${count(opened)}, ${HELD_CHANGES} changes through both processes`,
        `median ${ms(median(times))}, max ${ms(Math.max(...times))}`,
      ],
      ["subscribers not on the final version (lost)", String(final.behind)],
      [
        "lost connections, duplicated updates, missed changes",
        `${final.lost}, ${final.duplicates}, ${missed}` +
        (final.firstLoss ? ` (${final.firstLoss})` : ""),
      ],
    ]),
    "",
  );
  for (const changer of changers) changer.close();
  await Promise.all(fleet.children.map((child) => child.close()));
  await Promise.all(fleet.servers.map((server) => server[Symbol.asyncDispose]()));
}

/** What one wrk run measured, with redis-server's CPU time per request (µs) when it took part. */
type Throughput = WrkRun & { redisCpu: number };

/** Runs wrk against `POST /cart` with bench/post_cart.lua, counting the servers' CPU. */
async function wrk(base: string, pids: number[], redisPid?: number): Promise<Throughput> {
  const redisBefore = redisPid ? cpuMs(redisPid) : 0;
  const tag = crypto.getRandomValues(new Uint32Array(1))[0].toString(16);
  const result = await runWrk({
    url: new URL("cart", base).href,
    script: WRK_SCRIPT,
    connections: WRK_CONNECTIONS,
    seconds: SECONDS,
    pids,
    scriptArgs: [tag],
    signal: run,
  });
  const redisCpu = redisPid ? (cpuMs(redisPid) - redisBefore) / result.requests * 1000 : 0;
  return { ...result, redisCpu };
}

/** What one redis-benchmark run measured, with one server subscribed to the change channel. */
interface RedisRun {
  rps: number;
  /** The subscribed server's CPU time per call, in µs. */
  serverCpu: number;
  /** Its slowest `GET /healthz` meanwhile, in ms. */
  slowestHealth: number;
}

/** Runs redis-benchmark (one command, 50 clients) while probing a subscribed server. */
async function redisBenchmark(
  port: number,
  server: ChildServer,
  command: string[],
): Promise<RedisRun> {
  const stopProbe = new AbortController();
  const health = probeHealth(new URL(server.url), stopProbe.signal);
  const cpuBefore = cpuMs(server.process.pid);
  const { stdout, success, stderr } = await new Deno.Command("redis-benchmark", {
    args: ["-h", "127.0.0.1", "-p", String(port), "-n", String(FCALL_CALLS), "-c", "50"]
      .concat(["-r", "100000000", "--csv", ...command]),
    signal: run,
  }).output();
  const serverCpu = (cpuMs(server.process.pid) - cpuBefore) / FCALL_CALLS * 1000;
  stopProbe.abort();
  const { max } = await health;
  const lines = new TextDecoder().decode(stdout).trim().split("\n");
  const rps = Number(lines.at(-1)?.split(",")[1]?.replaceAll('"', ""));
  if (!success || !(rps > 0)) {
    throw new Error(`redis-benchmark failed: ${new TextDecoder().decode(stderr)}${lines}`);
  }
  return { rps, serverCpu, slowestHealth: max };
}

/** Sets redis-server's `appendfsync` (always, everysec or no). */
async function appendFsync(port: number, value: string): Promise<void> {
  const { success } = await new Deno.Command("redis-cli", {
    args: ["-h", "127.0.0.1", "-p", String(port), "CONFIG", "SET", "appendfsync", value],
    stdout: "null",
    signal: run,
  }).output();
  if (!success) throw new Error(`redis-cli could not set appendfsync to ${value}`);
}

/** `FCALL inventory_take` on the demo product for a random session, as the store calls it. */
function takeCommand(): string[] {
  const keys = new RedisKeys("inv");
  const product = keys.product(DEMO);
  return [
    "FCALL",
    "inventory_take",
    "4",
    product.record,
    product.holds,
    product.expiry,
    product.sales,
    keys.changes,
    "00000000-0000-4000-8000-__rand_int__",
    "900000",
  ];
}

type Path = "add" | "sold out";
const stockOf = (path: Path) => String(path === "add" ? PLENTY : 0);

// c. POST /cart requests/s: bare baseline, one process on memory, 1 and 2 processes on Redis.
async function throughput(): Promise<void> {
  const results = new Map<string, Throughput[]>();
  const takes = new Map<string, RedisRun[]>();
  const note = <T>(map: Map<string, T[]>, key: string, value: T) =>
    map.set(key, [...map.get(key) ?? [], value]);
  for (let pass = 0; pass < PASSES; pass++) {
    const bare = await startBareServer();
    note(results, "bare Deno.serve (baseline)|add", await wrk(bare.url, [Deno.pid]));
    await bare.stop();
    for (const path of ["add", "sold out"] as const) {
      const [memory] = await spawn(1, ["--inventory", stockOf(path)]);
      note(
        results,
        `1 process, --data :memory:|${path}`,
        await wrk(memory.url, [memory.process.pid]),
      );
      await memory[Symbol.asyncDispose]();
      for (const processes of [1, 2]) {
        const shared = await redis();
        const port = String(freePort());
        const fleet = await spawn(processes, [
          "--redis",
          shared.url,
          "--inventory",
          stockOf(path),
          "--port",
          port,
          "--reuse-port",
        ]);
        const pids = fleet.map((server) => server.process.pid);
        note(
          results,
          `${processes} process${processes > 1 ? "es" : ""} on one Redis|${path}`,
          await wrk(fleet[0].url, pids, shared.process.pid),
        );
        if (processes === 1) {
          const [server] = fleet;
          const bench = (command: string[]) => redisBenchmark(shared.port, server, command);
          if (path === "add") note(takes, "SET (baseline)", await bench(["SET", "bench:key", "x"]));
          note(takes, `FCALL inventory_take, ${path} path`, await bench(takeCommand()));
          if (path === "add") {
            await appendFsync(shared.port, "everysec");
            note(
              takes,
              "FCALL inventory_take, add path, appendfsync everysec",
              await bench(takeCommand()),
            );
          }
        }
        await Promise.all(fleet.map((server) => server[Symbol.asyncDispose]()));
        await shared[Symbol.asyncDispose]();
      }
    }
  }
  const bareRps = median(results.get("bare Deno.serve (baseline)|add")!.map((r) => r.rps));
  const rows = [...results].map(([key, runs]) => {
    const [setup, path] = key.split("|");
    const rps = median(runs.map((r) => r.rps));
    const redisCpu = median(runs.map((r) => r.redisCpu));
    return [
      setup,
      path,
      count(rps),
      `${(rps / bareRps).toFixed(2)}×`,
      ms(median(runs.map((r) => r.p99))),
      `${median(runs.map((r) => r.serverCpu)).toFixed(0)} µs` +
      (redisCpu > 0 ? ` + ${redisCpu.toFixed(0)} µs` : ""),
      runs.map((r) => `${r.non2xx}/${r.requests}`).join(", "),
    ];
  });
  report.push(
    `### c. POST /cart, wrk -t1 -c${WRK_CONNECTIONS} -d${SECONDS}s, ${PASSES} passes, medians\n`,
    markdownTable([
      "server",
      "path",
      "requests/s",
      "÷ bare",
      "p99",
      "CPU per request (servers + Redis)",
      "non-2xx / requests, each pass",
    ], rows),
    "",
  );
  const setRps = median(takes.get("SET (baseline)")!.map((r) => r.rps));
  report.push(
    `### c. The take function in Redis, redis-benchmark -n ${count(FCALL_CALLS)} -c 50 ` +
      `(appendfsync always unless said), one server subscribed, ${PASSES} passes, medians\n`,
    markdownTable(
      ["call", "ops/s", "÷ SET", "subscribed server's CPU per call", "its slowest GET /healthz"],
      [...takes].map(([call, runs]) => {
        const rps = median(runs.map((r) => r.rps));
        return [
          call,
          count(rps),
          `${(rps / setRps).toFixed(2)}×`,
          `${median(runs.map((r) => r.serverCpu)).toFixed(1)} µs`,
          `${ms(median(runs.map((r) => r.slowestHealth)))} (max ${
            ms(Math.max(...runs.map((r) => r.slowestHealth)))
          })`,
        ];
      }),
    ),
    "",
  );
}

async function main(): Promise<void> {
  let failure: unknown;
  try {
    const shared = await redis();
    const fleet = await latency(shared.url);
    await held(fleet);
    await throughput();
  } catch (error) {
    failure = error;
  } finally {
    await bench.cleanUp();
  }
  console.log(
    `\nFleet on Redis, ${started.toISOString()}, Deno ${Deno.version.deno}, ` +
      `load average ${loadAtStart} → ${load()}\n`,
  );
  console.log(report.join("\n"));
  if (failure !== undefined) {
    console.error(`error: ${failure instanceof Error ? failure.stack : failure}`);
    Deno.exit(1);
  }
  Deno.exit(0);
}

const loadAtStart = load();
await main();
