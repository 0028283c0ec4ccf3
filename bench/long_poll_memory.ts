/**
 * Waiting long polls against our server and the bare-bones baseline, each in its own process:
 * server RSS per waiting poll, and a change's time to the last poll, for both and as a ratio.
 *
 *     deno run -A bench/long_poll_memory.ts                       # ~1 min
 *     deno run -A bench/long_poll_memory.ts --n 2000 --changes 3 --rounds 1
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { withoutSeparator } from "../lib/server/config.ts";
import { wallClock } from "../tests/support/fleet.ts";
import { type ChildServer, spawnListening, spawnServer } from "../tests/support/server.ts";
import { CartChanger } from "./cart_changer.ts";
import { wholeFlags } from "./bench_run.ts";
import {
  armAll,
  CHANGE_DEADLINE_MS,
  MAX_PER_CHILD,
  median,
  readRssKiB,
  SETTLE_MS,
  spawnChildren,
} from "./load.ts";

const USAGE = `Usage: deno run -A bench/long_poll_memory.ts [options]

  --n N         waiting long polls per server, ≤ ${MAX_PER_CHILD} per client process (default 10000)
  --changes N   timed changes per server per round                    (default 10)
  --rounds N    rounds, each ours then bare; medians over them        (default 2)`;

const { values } = parseArgs({
  args: withoutSeparator(Deno.args),
  options: {
    n: { type: "string", default: "10000" },
    changes: { type: "string", default: "10" },
    rounds: { type: "string", default: "2" },
    help: { type: "boolean" },
  },
});
if (values.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const whole = wholeFlags(values, USAGE);
const N = whole("n", 1, 16_000);
const CHANGES = whole("changes", 1, 100);
const ROUNDS = whole("rounds", 1, 10);

/** The whole run's limit; the client processes end themselves at it too. */
const TIMEOUT_MS = 600_000;
/** Longer than a round, so that no poll times out while it is measured. */
const POLL_TIMEOUT_S = "300";
/** The pause before each timed change, so that each is one change on a quiet server. */
const CHANGE_GAP_MS = 500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What one round measured on one server. */
interface Figures {
  kibPerPoll: number;
  lastPollMs: number[];
}

/** Opens N polls on a server, reads its memory, then times single changes to the last poll. */
async function measure(server: ChildServer, run: AbortSignal): Promise<Figures> {
  const url = new URL(server.url);
  await sleep(SETTLE_MS);
  const before = readRssKiB(server.process.pid);
  const children = spawnChildren({ url, transport: "poll", timeoutMs: TIMEOUT_MS }, N);
  try {
    const opened = await Promise.all(children.map((child) => child.next("opened", run)));
    const open = opened.reduce((sum, report) => sum + report.opened, 0);
    if (open !== N) throw new Error(`${open} of ${N} polls opened: ${opened[0].firstError}`);
    await sleep(SETTLE_MS);
    const kibPerPoll = (readRssKiB(server.process.pid) - before) / open;
    const changer = await CartChanger.open(url);
    const lastPollMs: number[] = [];
    try {
      let version = await changer.change(); // Tells the cart's version; not timed.
      for (let i = 0; i < CHANGES; i++) {
        await sleep(CHANGE_GAP_MS);
        const reached = await armAll(children, version + 1, run);
        const started = wallClock();
        version = await changer.change();
        const deadline = AbortSignal.any([run, AbortSignal.timeout(CHANGE_DEADLINE_MS)]);
        lastPollMs.push(await reached(deadline) - started);
      }
    } finally {
      changer.close();
    }
    return { kibPerPoll, lastPollMs };
  } finally {
    await Promise.all(children.map((child) => child.close()));
  }
}

const run = AbortSignal.timeout(TIMEOUT_MS);
const BARE_MAIN = join(import.meta.dirname!, "bare_main.ts");
const setups = {
  ours: () => spawnServer(["--poll-timeout", POLL_TIMEOUT_S]),
  bare: () => spawnListening(BARE_MAIN),
};
const results = { ours: [] as Figures[], bare: [] as Figures[] };
const started = new Date();
for (let round = 0; round < ROUNDS; round++) {
  for (const name of ["ours", "bare"] as const) {
    await using server = await setups[name]();
    const figures = await measure(server, run);
    results[name].push(figures);
    console.error(
      `round ${round + 1}, ${name}: ${figures.kibPerPoll.toFixed(1)} KiB per poll, ` +
        `last poll ${median(figures.lastPollMs).toFixed(1)} ms (median)`,
    );
  }
}

const kib = (name: "ours" | "bare") => median(results[name].map((r) => r.kibPerPoll));
const last = (name: "ours" | "bare") => results[name].flatMap((r) => r.lastPollMs);
const ms = (values: number[]) =>
  `${median(values).toFixed(1)} / ${Math.max(...values).toFixed(1)} ms`;
console.log(
  `\n${N} waiting long polls, ${ROUNDS} rounds × ${CHANGES} changes, ${started.toISOString()}\n`,
);
console.log("| figure | ours | bare | ours ÷ bare |\n| --- | --- | --- | --- |");
console.log(
  `| server RSS per waiting poll (median of rounds) | ${kib("ours").toFixed(1)} KiB | ` +
    `${kib("bare").toFixed(1)} KiB | ${(kib("ours") / kib("bare")).toFixed(2)}× |`,
);
console.log(
  `| change → last poll answered, median / max | ${ms(last("ours"))} | ${ms(last("bare"))} | ` +
    `${(median(last("ours")) / median(last("bare"))).toFixed(2)}× |`,
);
Deno.exit(0);
