/**
 * Issue 26: what the group commit does on Deno KV. `POST /cart` toggling add and remove at a few
 * numbers of keep-alive clients, against our server and the bare server doing the same KV duty,
 * each on a fresh KV file, with every commit counted (bench/kv_commit_count.ts, preloaded).
 *
 *     deno run -A bench/group_commit.ts                        # ~2 min: N = 10 and 200, 3 passes
 *     deno run -A bench/group_commit.ts --profile /tmp/prof    # then ours at the largest N, profiled
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { BenchRun, markdownTable, wholeFlags } from "./bench_run.ts";
import { topFrames } from "./cpu_profile.ts";
import { median } from "./load.ts";
import { runWrk, type WrkRun } from "./wrk.ts";
import { withoutSeparator } from "../lib/server/config.ts";
import { type ChildServer, spawnListening, spawnServer } from "../tests/support/server.ts";

const USAGE = `Usage: deno run -A bench/group_commit.ts [options]

  --passes N       passes, medians and spreads over them                  (default 3)
  --clients LIST   wrk's keep-alive connections, one measurement each     (default 10,200)
  --seconds S      length of each wrk run                                 (default 5)
  --profile DIR    then run ours at the largest N under --cpu-prof into DIR and print its top
                   frames by self time
  --timeout S      the whole run's limit                                  (default 900)`;

const { values } = parseArgs({
  args: withoutSeparator(Deno.args),
  options: {
    passes: { type: "string", default: "3" },
    clients: { type: "string", default: "10,200" },
    seconds: { type: "string", default: "5" },
    profile: { type: "string" },
    timeout: { type: "string", default: "900" },
    help: { type: "boolean" },
  },
});
if (values.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const whole = wholeFlags(values, USAGE);
const PASSES = whole("passes", 1, 20);
const SECONDS = whole("seconds", 1, 60);
const TIMEOUT_MS = whole("timeout", 30, 7_200) * 1000;
const CLIENTS = values.clients.split(",").map((text) => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1 || n > 1_000) {
    console.error(`error: --clients must list whole numbers from 1 to 1000\n\n${USAGE}`);
    Deno.exit(2);
  }
  return n;
});

const POST_SCRIPT = join(import.meta.dirname!, "post_cart.lua");
const BARE_MAIN = join(import.meta.dirname!, "bare_main.ts");
const COUNTER = join(import.meta.dirname!, "kv_commit_count.ts");
/** Stock far above what a run holds. */
const PLENTY = "1000000";
/** How long a server may take to print its KV counts after SIGUSR2. */
const COUNTS_DEADLINE_MS = 5_000;

const bench = new BenchRun(TIMEOUT_MS);
const run = bench.signal;

/**
 * Which server: ours (`main.ts` on a KV file), the bare one committing the changes made during a
 * commit together in the next (the duty ours does), or the bare one committing each change alone.
 */
type Kind = "ours" | "bare" | "bare-each";

/** Starts a server on a fresh KV file, with the commit counter preloaded. */
async function start(kind: Kind, path: string, extra: string[] = []): Promise<ChildServer> {
  const server = kind === "ours"
    ? await spawnServer(
      ["--inventory", PLENTY, "--data", path, "--max-holds-per-client", "0"],
      {},
      ["--allow-all", "--preload", COUNTER, ...extra],
    )
    : await spawnListening(
      BARE_MAIN,
      ["--kv", path, ...kind === "bare-each" ? ["--kv-each"] : []],
      {},
      [
        "--allow-net",
        "--allow-read",
        "--allow-write",
        "--unstable-kv",
        "--preload",
        COUNTER,
      ],
    );
  bench.defer(() => server[Symbol.asyncDispose]());
  return server;
}

/** The KV counts a server has made so far. */
interface Counts {
  commits: number;
  mutations: number;
  /** Time from each commit's call until JS saw it settle, summed, in ms. */
  waitedMs: number;
  /** Time from a commit settling until the next was called, summed, in ms. */
  betweenMs: number;
}

/** Asks a server for its KV counts (SIGUSR2) and reads the line it prints. */
async function counts(server: ChildServer): Promise<Counts> {
  const pattern =
    /kv commits: (\d+) mutations: (\d+) checks: \d+ waited: ([\d.]+) ms between: ([\d.]+) ms/g;
  const seen = server.output().match(pattern)?.length ?? 0;
  server.process.kill("SIGUSR2");
  const deadline = performance.now() + COUNTS_DEADLINE_MS;
  // The child's output is a growing string with no event per line: look every few ms, bounded.
  while (performance.now() < deadline) {
    const lines = [...server.output().matchAll(pattern)];
    if (lines.length > seen) {
      const [, commits, mutations, waitedMs, betweenMs] = lines[lines.length - 1].map(Number);
      return { commits, mutations, waitedMs, betweenMs };
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`the server printed no KV counts:\n${server.output()}`);
}

/** Sessions per wrk thread: 64 at 10 connections as in bench/ratios.ts, the same spacing above. */
function poolFor(clients: number): number {
  return Math.max(64, Math.ceil(6.4 * clients));
}

/** What one measurement found. */
interface Measured extends WrkRun {
  commitsPerSecond: number;
  requestsPerCommit: number;
  /** Our changes per commit: each puts or drops one hold key besides the product's key. */
  changesPerCommit: number;
  /** Mean time from a commit's call until JS saw it settle, in ms. */
  commitMs: number;
  /** The share of the run a commit was in flight (one at a time): 1 when KV never waits on JS. */
  kvBusy: number;
  /** Mean time from a commit settling until the next was called, in ms. */
  betweenMs: number;
}

/** Runs wrk against a fresh server and counts the commits it made meanwhile. */
async function measure(kind: Kind, clients: number, path: string): Promise<Measured> {
  const server = await start(kind, path);
  try {
    const before = await counts(server);
    const post = await runWrk({
      url: new URL("cart", server.url).href,
      script: POST_SCRIPT,
      connections: clients,
      seconds: SECONDS,
      pids: [server.process.pid],
      scriptArgs: [
        crypto.getRandomValues(new Uint32Array(1))[0].toString(16),
        "toggle",
        String(poolFor(clients)),
      ],
      signal: run,
    });
    const after = await counts(server);
    const commits = after.commits - before.commits;
    const mutations = after.mutations - before.mutations;
    return {
      ...post,
      commitsPerSecond: commits / SECONDS,
      requestsPerCommit: post.requests / commits,
      changesPerCommit: kind === "ours" ? (mutations - commits) / commits : NaN,
      commitMs: (after.waitedMs - before.waitedMs) / commits,
      kvBusy: (after.waitedMs - before.waitedMs) / (SECONDS * 1000),
      betweenMs: (after.betweenMs - before.betweenMs) / commits,
    };
  } finally {
    await server[Symbol.asyncDispose]();
  }
}

/** Runs ours under `--cpu-prof` at `clients`, stops it gracefully, and returns its top frames. */
async function profile(dir: string, clients: number, path: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const server = await start("ours", path, ["--cpu-prof", "--cpu-prof-dir", dir]);
  const post = await runWrk({
    url: new URL("cart", server.url).href,
    script: POST_SCRIPT,
    connections: clients,
    seconds: SECONDS,
    pids: [server.process.pid],
    scriptArgs: ["feed", "toggle", String(poolFor(clients))],
    signal: run,
  });
  // The profile is written as the process ends: let main.ts stop on SIGTERM, not SIGKILL.
  server.process.kill("SIGTERM");
  await server.status;
  const files = [...Deno.readDirSync(dir)].filter((entry) => entry.name.endsWith(".cpuprofile"));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}:\n${server.output()}`);
  const newest = files.map((entry) => join(dir, entry.name))
    .sort((a, b) => Deno.statSync(b).mtime!.getTime() - Deno.statSync(a).mtime!.getTime())[0];
  const frames = topFrames(JSON.parse(Deno.readTextFileSync(newest)), 20);
  return [
    `### Profile: ours at ${clients} clients, ${Math.round(post.rps)} req/s (${newest})\n`,
    markdownTable(
      ["frame (self time)", "ms", "share"],
      frames.map((f) => [f.name, f.ms.toFixed(0), `${(f.share * 100).toFixed(1)} %`]),
    ),
  ].join("\n");
}

const spread = (list: number[], digits: number) =>
  `${median(list).toFixed(digits)} (${Math.min(...list).toFixed(digits)}–${
    Math.max(...list).toFixed(digits)
  })`;

async function main(): Promise<void> {
  const started = new Date();
  const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  const loadAtStart = load();
  const dir = await Deno.makeTempDir({ prefix: "group_commit-" });
  bench.defer(() => Deno.remove(dir, { recursive: true }));
  const runs = new Map<string, Measured[]>();
  const report: string[] = [];
  let failure: unknown;
  try {
    for (let pass = 0; pass < PASSES; pass++) {
      for (const clients of CLIENTS) {
        // Alternate which goes first, so that neither always runs on the warmer machine.
        const order: Kind[] = pass % 2
          ? ["ours", "bare", "bare-each"]
          : ["bare-each", "bare", "ours"];
        for (const kind of order) {
          const path = join(dir, `${kind}-${clients}-${pass}.kv`);
          const key = `${clients}|${kind}`;
          runs.set(key, [...runs.get(key) ?? [], await measure(kind, clients, path)]);
        }
      }
      console.error(`group commit: pass ${pass + 1} of ${PASSES} done`);
    }
    const rows: string[][] = [];
    for (const clients of CLIENTS) {
      const bare = runs.get(`${clients}|bare`)!;
      for (const kind of ["ours", "bare", "bare-each"] as const) {
        const list = runs.get(`${clients}|${kind}`)!;
        const of = (pick: (m: Measured) => number) => list.map(pick);
        rows.push([
          String(clients),
          { ours: "ours", bare: "bare, group commit", "bare-each": "bare, a commit per change" }[
            kind
          ],
          spread(of((m) => m.rps), 0),
          kind === "bare" ? "" : `${median(list.map((m, i) => m.rps / bare[i].rps)).toFixed(2)}×`,
          spread(of((m) => m.p50), 2),
          spread(of((m) => m.p99), 2),
          spread(of((m) => m.serverCpu), 0),
          spread(of((m) => m.commitsPerSecond), 0),
          spread(of((m) => m.requestsPerCommit), 1),
          kind === "ours" ? spread(of((m) => m.changesPerCommit), 1) : "1 key",
          // A closed loop of N clients: each request's mean time is N ÷ req/s; over the time
          // between two commits that tells how many commits a request waits for.
          spread(of((m) => clients / m.rps * m.commitsPerSecond), 2),
          spread(of((m) => m.commitMs), 2),
          spread(of((m) => m.betweenMs), 3),
          spread(of((m) => m.kvBusy * 100), 0),
          list.map((m) => m.non2xx).join(", "),
        ]);
      }
    }
    report.push(
      markdownTable(
        [
          "N",
          "server",
          "req/s",
          "÷ bare",
          "p50 ms",
          "p99 ms",
          "CPU µs/req",
          "commits/s",
          "requests/commit",
          "changes/commit",
          "commits waited",
          "commit ms",
          "between ms",
          "KV busy %",
          "non-2xx",
        ],
        rows,
      ),
    );
    if (values.profile !== undefined) {
      const clients = Math.max(...CLIENTS);
      report.push("", await profile(values.profile, clients, join(dir, "profiled.kv")));
    }
  } catch (error) {
    failure = error;
  } finally {
    await bench.cleanUp();
  }
  console.log(
    `\nGroup commit on Deno KV, ${started.toISOString()}, Deno ${Deno.version.deno}, ` +
      `load average ${loadAtStart} → ${load()}; wrk -t1 -cN -d${SECONDS}s, ${PASSES} passes, ` +
      `median (min–max)\n`,
  );
  console.log(report.join("\n"));
  if (failure !== undefined) {
    console.error(`error: ${failure instanceof Error ? failure.stack : failure}`);
    Deno.exit(1);
  }
  Deno.exit(0);
}

await main();
