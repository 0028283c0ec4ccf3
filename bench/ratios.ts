/**
 * Issue 13 in one run: our server against bench/bare_server.ts on every path, both as child
 * processes, several passes, medians of each pass's ratio; then the flash crowd and the catalog.
 *
 *     deno run -A bench/ratios.ts                      # ~10 min
 *     deno run -A bench/ratios.ts --passes 1 --subscribers 500 --changes 3 --seconds 2 \
 *       --flash-shoppers 2000 --flash-watchers 1000 --catalog-subscribers 1000 --catalog-changes 20
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { BenchRun, markdownTable, wholeFlags } from "./bench_run.ts";
import { withoutSeparator } from "../lib/server/config.ts";
import { wallClock } from "../tests/support/fleet.ts";
import { RawHttpConnection } from "../tests/support/raw_http.ts";
import { type ChildServer, spawnListening, spawnServer } from "../tests/support/server.ts";
import { CartChanger } from "./cart_changer.ts";
import {
  armAll,
  CHANGE_DEADLINE_MS,
  checkAll,
  type Child,
  MAX_PER_CHILD,
  median,
  readRssKiB,
  requireOpened,
  SETTLE_MS,
  spawnChildren,
} from "./load.ts";
import { percentile } from "./siege.ts";
import type { Transport } from "./subscribers.ts";
import { runWrk, type WrkRun } from "./wrk.ts";

const USAGE = `Usage: deno run -A bench/ratios.ts [options]

  --scenario S             ratios, flash, catalog or all                       (default all)
  --passes N               passes of each measurement, medians over them       (default 5)
  --subscribers N          subscribers of each transport for the fan-out rows  (default 5000)
  --changes N              timed changes per fan-out measurement               (default 10)
  --change-gap MS          pause after the last subscriber has a change        (default 500)
  --connections N          wrk's keep-alive connections for POST /cart         (default 10)
  --seconds S              length of each wrk run                              (default 5)
  --flash-units N          stock of the flash crowd's product                  (default 10)
  --flash-shoppers N       distinct shoppers who each post one add             (default 20000)
  --flash-concurrency N    shoppers posting at once                            (default 200)
  --flash-watchers N       WebSockets watching the flash crowd                 (default 10000)
  --catalog-products N     products of bench/catalog_load.ts                   (default 1000)
  --catalog-subscribers N  its WebSockets, spread over the products            (default 10000)
  --catalog-changes N      its changes to random products                      (default 200)
  --timeout S              the whole run's limit                               (default 1800)`;

const { values } = parseArgs({
  args: withoutSeparator(Deno.args),
  options: {
    scenario: { type: "string", default: "all" },
    passes: { type: "string", default: "5" },
    subscribers: { type: "string", default: "5000" },
    changes: { type: "string", default: "10" },
    "change-gap": { type: "string", default: "500" },
    connections: { type: "string", default: "10" },
    seconds: { type: "string", default: "5" },
    "flash-units": { type: "string", default: "10" },
    "flash-shoppers": { type: "string", default: "20000" },
    "flash-concurrency": { type: "string", default: "200" },
    "flash-watchers": { type: "string", default: "10000" },
    "catalog-products": { type: "string", default: "1000" },
    "catalog-subscribers": { type: "string", default: "10000" },
    "catalog-changes": { type: "string", default: "200" },
    timeout: { type: "string", default: "1800" },
    help: { type: "boolean" },
  },
});
if (values.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const fail = (message: string): never => {
  console.error(`error: ${message}\n\n${USAGE}`);
  Deno.exit(2);
};
const whole = wholeFlags(values, USAGE);
const SCENARIOS = ["ratios", "flash", "catalog"] as const;
const scenarios = values.scenario === "all"
  ? [...SCENARIOS]
  : SCENARIOS.filter((name) => name === values.scenario);
if (scenarios.length === 0) fail(`--scenario must be ratios, flash, catalog or all`);
const PASSES = whole("passes", 1, 20);
const SUBSCRIBERS = whole("subscribers", 1, 16_000);
const CHANGES = whole("changes", 1, 200);
const CONNECTIONS = whole("connections", 1, 1_000);
const SECONDS = whole("seconds", 1, 60);
const FLASH_UNITS = whole("flash-units", 1, 1_000);
const FLASH_SHOPPERS = whole("flash-shoppers", FLASH_UNITS, 100_000);
const FLASH_CONCURRENCY = whole("flash-concurrency", 1, 1_000);
const FLASH_WATCHERS = whole("flash-watchers", 1, 16_000);
const CATALOG_PRODUCTS = whole("catalog-products", 1, 10_000);
const CATALOG_SUBSCRIBERS = whole("catalog-subscribers", 1, 16_000);
const CATALOG_CHANGES = whole("catalog-changes", 1, 10_000);
const TIMEOUT_MS = whole("timeout", 60, 7_200) * 1000;

/**
 * The pause between the last subscriber having a change and the next change: 500 ms lets long polls
 * come back first; 20 ms is the issue's "a change that finds the server idle".
 */
const CHANGE_GAP_MS = whole("change-gap", 0, 60_000);
/** Stock for the steady POST path and the fan-out rows: far more than any run holds. */
const PLENTY = "1000000";
/** Our long polls wait this long (s), so that none times out during a measurement (bare: never). */
const POLL_TIMEOUT_S = "600";
/** The flash crowd's shoppers stop sending after this long. */
const FLASH_LIMIT_MS = 120_000;
const POST_SCRIPT = join(import.meta.dirname!, "post_cart.lua");
const BARE_MAIN = join(import.meta.dirname!, "bare_main.ts");
const CATALOG_LOAD = join(import.meta.dirname!, "catalog_load.ts");

const bench = new BenchRun(TIMEOUT_MS);
const run = bench.signal;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = (value: number) => Math.round(value).toLocaleString("en-US");
const ratio = (value: number) => `${value.toFixed(2)}×`;

/**
 * Which server a measurement runs against: ours, the bare one, or the bare one with the
 * housekeeping every server that leaves nothing behind must do (bench/bare_server.ts `BareDuties`).
 */
type Kind = "ours" | "bare" | "housekeeping";

/**
 * Starts a server as a child process; it is killed at the end of the run if not before.
 *
 * @param kind Ours (`main.ts`, `--data :memory:` unless `args` names a store) or a bare one.
 * @param args More flags for ours.
 */
async function start(kind: Kind, args: string[] = []): Promise<ChildServer> {
  const server = kind === "ours"
    ? await spawnServer([
      "--max-connections",
      "20000",
      "--poll-timeout",
      POLL_TIMEOUT_S,
      // Every shopper comes from one address: the per-address limit of holds would refuse them.
      "--max-holds-per-client",
      "0",
      ...args,
    ])
    : await spawnListening(BARE_MAIN, kind === "housekeeping" ? ["--housekeeping"] : [], {}, [
      "--allow-net",
    ]);
  bench.defer(() => server[Symbol.asyncDispose]());
  return server;
}

/** Starts the bare server committing each change to a Deno KV file before answering it. */
async function startBareOnKv(path: string): Promise<ChildServer> {
  const server = await spawnListening(BARE_MAIN, ["--kv", path], {}, [
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--unstable-kv",
  ]);
  bench.defer(() => server[Symbol.asyncDispose]());
  return server;
}

/** Opens `n` subscribers of a transport on a server, in children of at most 8,000 each. */
async function subscribe(server: ChildServer, transport: Transport, n: number): Promise<Child[]> {
  const children = spawnChildren({ url: new URL(server.url), transport, timeoutMs: TIMEOUT_MS }, n);
  for (const child of children) bench.defer(() => child.close());
  await requireOpened(children, run);
  return children;
}

/** `POST /cart` with bench/post_cart.lua in toggle mode: a fixed pool of sessions adding and removing. */
function postCart(server: ChildServer): Promise<WrkRun> {
  return runWrk({
    url: new URL("cart", server.url).href,
    script: POST_SCRIPT,
    connections: CONNECTIONS,
    seconds: SECONDS,
    pids: [server.process.pid],
    scriptArgs: [crypto.getRandomValues(new Uint32Array(1))[0].toString(16), "toggle"],
    signal: run,
  });
}

/** What one fan-out measurement found on a fresh server. */
interface Fanout {
  /** Server RSS per subscriber, in KiB. */
  kibPerSubscriber: number;
  /** The median time from a change until its last subscriber had it, in ms. */
  change: number;
  missed: number;
  behind: number;
  lost: number;
}

/** Opens N subscribers on a fresh server, reads its memory, then times single changes. */
async function fanout(kind: Kind, transport: Transport): Promise<Fanout> {
  const server = await start(kind, ["--inventory", PLENTY]);
  const pid = server.process.pid;
  const before = readRssKiB(pid);
  const children = await subscribe(server, transport, SUBSCRIBERS);
  await sleep(SETTLE_MS);
  const kibPerSubscriber = (readRssKiB(pid) - before) / SUBSCRIBERS;
  const changer = await CartChanger.open(new URL(server.url));
  const times: number[] = [];
  let missed = 0;
  try {
    // The first change tells the cart's version; it is not timed.
    let version = await changer.change();
    for (let i = 0; i < CHANGES; i++) {
      await sleep(CHANGE_GAP_MS);
      const reached = await armAll(children, version + 1, run);
      const sent = wallClock();
      version = await changer.change();
      try {
        times.push(
          await reached(AbortSignal.any([run, AbortSignal.timeout(CHANGE_DEADLINE_MS)])) - sent,
        );
      } catch {
        missed++;
      }
    }
    const { behind, lost } = await checkAll(children, version, run);
    return { kibPerSubscriber, change: median(times), missed, behind, lost };
  } finally {
    changer.close();
    await Promise.all(children.map((child) => child.close()));
    await server[Symbol.asyncDispose]();
  }
}

/** Each figure's value per pass, by name and server. */
const figures = new Map<string, number[]>();
const note = (name: string, value: number) =>
  figures.set(name, [...figures.get(name) ?? [], value]);
const of = (name: string) => figures.get(name) ?? [];
/** Problems seen on the way (non-2xx answers, missed changes, lost subscribers). */
const notes: string[] = [];
const report: string[] = [];

async function ratios(dataDir: string): Promise<void> {
  for (let pass = 0; pass < PASSES; pass++) {
    // Alternate which goes first, so that neither always runs on the warmer machine.
    const order: Kind[] = pass % 2 ? ["ours", "bare"] : ["bare", "ours"];
    for (const kind of [...order, "housekeeping" as const]) {
      const server = await start(kind, ["--inventory", PLENTY]);
      const post = await postCart(server);
      await server[Symbol.asyncDispose]();
      note(`post|${kind}`, post.rps);
      note(`cpu|${kind}`, post.serverCpu);
      if (post.non2xx) notes.push(`pass ${pass + 1}, ${kind}: ${post.non2xx} non-2xx answers`);
    }
    const kvPath = join(dataDir, `pass-${pass}.kv`);
    const kv = await start("ours", ["--inventory", PLENTY, "--data", kvPath]);
    const post = await postCart(kv);
    await kv[Symbol.asyncDispose]();
    note("post-kv|ours", post.rps);
    note("cpu-kv|ours", post.serverCpu);
    if (post.non2xx) notes.push(`pass ${pass + 1}, ours on KV: ${post.non2xx} non-2xx answers`);
    const bareKv = await startBareOnKv(join(dataDir, `pass-${pass}-bare.kv`));
    const barePost = await postCart(bareKv);
    await bareKv[Symbol.asyncDispose]();
    note("post-kv|bare-kv", barePost.rps);
    note("cpu-kv|bare-kv", barePost.serverCpu);
    for (const transport of ["ws", "poll"] as const) {
      for (const kind of [...order, "housekeeping" as const]) {
        const result = await fanout(kind, transport);
        note(`change-${transport}|${kind}`, result.change);
        note(`memory-${transport}|${kind}`, result.kibPerSubscriber);
        if (result.missed || result.behind || result.lost) {
          notes.push(
            `pass ${pass + 1}, ${kind} ${transport}: ${result.missed} changes missed ` +
              `${CHANGE_DEADLINE_MS / 1000} s, ${result.behind} not on the final version, ` +
              `${result.lost} connections lost`,
          );
        }
      }
    }
    console.error(`ratios: pass ${pass + 1} of ${PASSES} done`);
  }
  /** The medians of ours and bare, and the median of the passes' ratios ours ÷ bare. */
  const row = (
    label: string,
    ours: string,
    bare: string,
    format: (value: number) => string,
    goal?: { at: number; most: boolean },
  ) => {
    const ratios = of(ours).map((value, i) => value / of(bare)[i]);
    const r = median(ratios);
    const met = goal === undefined ? "" : (goal.most ? r <= goal.at : r >= goal.at) ? "yes" : "no";
    return [
      label,
      format(median(of(ours))),
      format(median(of(bare))),
      ratio(r),
      goal === undefined ? "" : `${goal.most ? "≤" : "≥"} ${goal.at.toFixed(2)}×`,
      met,
      ratios.map((value) => value.toFixed(2)).join(", "),
    ];
  };
  const rps = (value: number) => `${count(value)}/s`;
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  const kib = (value: number) => `${value.toFixed(1)} KiB`;
  const us = (value: number) => `${value.toFixed(0)} µs`;
  const n = count(SUBSCRIBERS);
  const most = (at: number) => ({ at, most: true });
  const least = (at: number) => ({ at, most: false });
  /** Every path once, with the figure it is set against in each table and its goal. */
  const paths = [
    {
      label: "POST /cart req/s, --data :memory:",
      ours: "post",
      bare: "post|bare",
      duty: "post|housekeeping",
      format: rps,
      goal: least(0.85),
    },
    {
      label: "POST /cart req/s, KV on disk",
      ours: "post-kv",
      bare: "post|bare",
      duty: "post-kv|bare-kv",
      format: rps,
      goal: least(0.5),
    },
    {
      label: `change → last of ${n} WebSockets`,
      ours: "change-ws",
      bare: "change-ws|bare",
      duty: "change-ws|housekeeping",
      format: ms,
      goal: most(1.1),
    },
    {
      label: `change → last of ${n} long polls answered`,
      ours: "change-poll",
      bare: "change-poll|bare",
      duty: "change-poll|housekeeping",
      format: ms,
      goal: most(1.1),
    },
    {
      label: `memory per waiting long poll (${n})`,
      ours: "memory-poll",
      bare: "memory-poll|bare",
      duty: "memory-poll|housekeeping",
      format: kib,
      goal: most(1.1),
    },
    {
      label: `memory per WebSocket (${n})`,
      ours: "memory-ws",
      bare: "memory-ws|bare",
      duty: "memory-ws|housekeeping",
      format: kib,
      goal: most(1.0),
    },
    {
      label: "server CPU per POST, --data :memory:",
      ours: "cpu",
      bare: "cpu|bare",
      duty: "cpu|housekeeping",
      format: us,
      goal: undefined,
    },
    {
      label: "server CPU per POST, KV on disk",
      ours: "cpu-kv",
      bare: "cpu|bare",
      duty: "cpu-kv|bare-kv",
      format: us,
      goal: undefined,
    },
  ];
  report.push(
    `### Ratios against bare Deno (${PASSES} passes, medians; ratio = median of the passes' ` +
      `ratios)\n`,
    markdownTable(
      ["path", "ours", "bare Deno", "ours ÷ bare", "goal", "met", "passes' ratios"],
      paths.map((path) => row(path.label, `${path.ours}|ours`, path.bare, path.format, path.goal)),
    ),
    "",
    `Against the bare server doing the same duty as ours (bench/bare_server.ts \`BareDuties\`): ` +
      `committing each change to Deno KV before answering it (group commit, one key), and the ` +
      `housekeeping of a server that leaves nothing behind and refuses what it cannot hold (long ` +
      `polls follow request.signal, answers await info.completed, WebSockets get protocol pings, ` +
      `every request's header bytes are counted, GET answers say no-store):\n`,
    markdownTable(
      ["path", "ours", "bare with the duty", "ours ÷ it", "goal", "met", "passes' ratios"],
      paths.map((path) => row(path.label, `${path.ours}|ours`, path.duty, path.format, path.goal)),
    ),
    "",
    `POST: wrk -t1 -c${CONNECTIONS} -d${SECONDS}s -s bench/post_cart.lua -- TAG toggle (64 sessions ` +
      `adding and removing in turn), no subscribers. Fan-out: ${n} subscribers in ` +
      `${Math.ceil(SUBSCRIBERS / MAX_PER_CHILD)} client process(es), ${CHANGES} single changes ` +
      `${CHANGE_GAP_MS} ms apart per pass, each pass's median. ${
        notes.length
          ? `Problems: ${notes.join("; ")}.`
          : "No non-2xx answers, missed changes or lost subscribers."
      }`,
    "",
  );
}

/** What one flash crowd run measured. */
interface Flash {
  rps: number;
  sold: number;
  refused: number;
  other: number;
  /** p99 of the 409 answers, in ms. */
  p99Refused: number;
  /** From sending the last answered sale until the last watcher had the final state, in ms. */
  lastSaleToWatcher?: number;
  behind: number;
  lost: number;
}

/**
 * Distinct shoppers post one `add` each, `FLASH_CONCURRENCY` at a time over keep-alive
 * connections, while `watchers` WebSockets follow the product.
 */
async function flashCrowd(kind: Kind, watchers: number, kvPath?: string): Promise<Flash> {
  const store = kvPath === undefined ? [] : ["--data", kvPath];
  const server = await start(kind, ["--inventory", String(FLASH_UNITS), ...store]);
  const children = watchers ? await subscribe(server, "ws", watchers) : [];
  try {
    // A fresh product is at version 0 and each unit taken adds one.
    const reached = watchers ? await armAll(children, FLASH_UNITS, run) : undefined;
    const connections = await Promise.all(
      Array.from({ length: FLASH_CONCURRENCY }, () => RawHttpConnection.open(server.url)),
    );
    const refusedTimes: number[] = [];
    let sold = 0;
    let other = 0;
    let lastSale = { sent: 0, answered: 0 };
    let next = 0;
    const cutOff = AbortSignal.any([run, AbortSignal.timeout(FLASH_LIMIT_MS)]);
    const started = performance.now();
    try {
      await Promise.all(connections.map(async (connection) => {
        while (next < FLASH_SHOPPERS && !cutOff.aborted) {
          next++;
          const sent = wallClock();
          const { status } = await connection.send(
            "POST",
            "/cart",
            `action=add&session=${crypto.randomUUID()}`,
          );
          const answered = wallClock();
          if (status === 409) refusedTimes.push(answered - sent);
          else if (status === 200) {
            sold++;
            if (answered > lastSale.answered) lastSale = { sent, answered };
          } else other++;
        }
      }));
    } finally {
      for (const connection of connections) connection.close();
    }
    const elapsed = (performance.now() - started) / 1000;
    let lastSaleToWatcher: number | undefined;
    if (reached) {
      try {
        lastSaleToWatcher = await reached(
          AbortSignal.any([run, AbortSignal.timeout(CHANGE_DEADLINE_MS)]),
        ) - lastSale.sent;
      } catch {
        // Not every watcher had the final state within the deadline: counted as behind below.
      }
    }
    const { behind, lost } = await checkAll(children, FLASH_UNITS, run);
    return {
      rps: next / elapsed,
      sold,
      refused: refusedTimes.length,
      other,
      p99Refused: refusedTimes.length
        ? percentile(Float64Array.from(refusedTimes).sort(), 0.99)
        : NaN,
      lastSaleToWatcher,
      behind,
      lost,
    };
  } finally {
    await Promise.all(children.map((child) => child.close()));
    await server[Symbol.asyncDispose]();
  }
}

async function flash(dataDir: string): Promise<void> {
  const runs = new Map<string, Flash[]>();
  /** Name, server, watchers, and whether ours keeps its stock in a fresh Deno KV file. */
  const setups: [string, Kind, number, boolean][] = [
    [`ours, ${count(FLASH_WATCHERS)} WebSockets watching`, "ours", FLASH_WATCHERS, false],
    ["ours, no watchers", "ours", 0, false],
    [
      `ours on a Deno KV file, ${count(FLASH_WATCHERS)} WebSockets watching`,
      "ours",
      FLASH_WATCHERS,
      true,
    ],
    ["bare Deno, no watchers (every add is a 200)", "bare", 0, false],
  ];
  const bareName = setups[3][0];
  for (let pass = 0; pass < PASSES; pass++) {
    for (const [name, kind, watchers, kv] of pass % 2 ? [...setups].reverse() : setups) {
      const kvPath = kv ? join(dataDir, `flash-${pass}.kv`) : undefined;
      runs.set(name, [...runs.get(name) ?? [], await flashCrowd(kind, watchers, kvPath)]);
    }
    console.error(`flash crowd: pass ${pass + 1} of ${PASSES} done`);
  }
  const bareRps = median(runs.get(bareName)!.map((r) => r.rps));
  const optional = (value: number | undefined) =>
    value === undefined || Number.isNaN(value) ? "-" : `${value.toFixed(1)} ms`;
  report.push(
    `### Flash crowd: ${FLASH_UNITS} units, ${count(FLASH_SHOPPERS)} distinct shoppers posting ` +
      `add, ${FLASH_CONCURRENCY} at a time (${PASSES} passes, medians)\n`,
    markdownTable(
      [
        "setup",
        "req/s",
        "÷ bare",
        "200 / 409 / other, each pass",
        "p99 of the 409s",
        "last sale → last watcher",
        "watchers not on the final state, lost",
      ],
      [...runs].map(([name, list]) => {
        const rps = median(list.map((r) => r.rps));
        const times = list.flatMap((r) => r.lastSaleToWatcher ?? []);
        return [
          name,
          count(rps),
          ratio(rps / bareRps),
          list.map((r) => `${r.sold} / ${r.refused} / ${r.other}`).join(", "),
          optional(median(list.map((r) => r.p99Refused))),
          name.includes("watching") ? optional(times.length ? median(times) : undefined) : "-",
          name.includes("watching") ? list.map((r) => `${r.behind}, ${r.lost}`).join("; ") : "-",
        ];
      }),
    ),
    "",
    `The shoppers are ${FLASH_CONCURRENCY} keep-alive raw-socket clients in the bench's own ` +
      `process (tests/support/raw_http.ts); the watchers are in child processes. The bare ` +
      `server has no stock and pushes every add to every socket, so it runs without watchers.`,
    "",
  );
}

async function catalog(): Promise<void> {
  const { stdout, stderr, success } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CATALOG_LOAD,
      "--products",
      String(CATALOG_PRODUCTS),
      "--subscribers",
      String(CATALOG_SUBSCRIBERS),
      "--changes",
      String(CATALOG_CHANGES),
    ],
    signal: run,
  }).output();
  const text = new TextDecoder().decode(stdout).trim();
  if (!success) {
    throw new Error(`bench/catalog_load.ts failed:\n${new TextDecoder().decode(stderr)}`);
  }
  report.push(
    `### Catalog (bench/catalog_load.ts)\n`,
    "```",
    text,
    "```",
    "",
  );
}

const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");

async function main(): Promise<void> {
  const loadAtStart = load();
  const started = new Date();
  const dataDir = await Deno.makeTempDir({ prefix: "ratios-" });
  bench.defer(() => Deno.remove(dataDir, { recursive: true }));
  let failure: unknown;
  try {
    if (scenarios.includes("ratios")) await ratios(dataDir);
    if (scenarios.includes("flash")) await flash(dataDir);
    if (scenarios.includes("catalog")) await catalog();
  } catch (error) {
    failure = error;
  } finally {
    await bench.cleanUp();
  }
  console.log(
    `\nIssue 13, ${started.toISOString()}, Deno ${Deno.version.deno}, ` +
      `load average ${loadAtStart} → ${load()}\n`,
  );
  console.log(report.join("\n"));
  if (failure !== undefined) {
    console.error(`error: ${failure instanceof Error ? failure.stack : failure}`);
    Deno.exit(1);
  }
  Deno.exit(0);
}

await main();
