/** `deno task load`: N subscribers of one transport against a running server, one table of figures. */
import { withoutSeparator } from "../lib/server/config.ts";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CartChanger } from "./cart_changer.ts";
import { wallClock } from "../tests/support/fleet.ts";
import {
  type ChildMessage,
  type ParentMessage,
  readMessages,
  writeMessage,
} from "./load_protocol.ts";
import { RawHttpConnection } from "../tests/support/raw_http.ts";
import { type Transport, TRANSPORTS } from "./subscribers.ts";

const USAGE = `Usage: deno task load -- [options]

  --url URL          the server, on loopback only          (default http://127.0.0.1:8000)
  --transport T      ws, sse or poll                       (default ws)
  --n N              subscribers, split over child processes of at most 8,000 each
                                                           (default 10000)
  --pid PID          the server process, to read its memory from /proc/PID/status
  --changes N        single changes to time one by one     (default 20)
  --burst N          changes sent within one second after those, 0 for none (default 1000);
                     50 shoppers send them: start the server with --inventory 100 or more
                     and --max-holds-per-client 0 (they share one address)
  --timeout S        the whole run's limit in seconds      (default 300)`;

/** No child holds more sockets than this: a process may open 20,000 files, and needs a margin. */
export const MAX_PER_CHILD = 8_000;
/** How long one change may take to reach every subscriber before it counts as missed. */
export const CHANGE_DEADLINE_MS = 10_000;
/** Cart changers during the burst: concurrent shoppers, each holding at most one unit. */
const BURST_SHOPPERS = 50;
/**
 * The pause before each timed change, so that each is one change on a quiet server and not part
 * of a stream (which the server conflates on purpose: lib/realtime/push_throttle.ts).
 */
const CHANGE_GAP_MS = 500;
/** The burst stops sending after this long, so that a slow server cannot stretch the run. */
const BURST_LIMIT_MS = 10_000;
/** How often the health probe asks during the burst. */
const HEALTH_PROBE_MS = 10;
/** Time for a server's memory to settle after its subscribers open. */
export const SETTLE_MS = 2_000;

const CHILD = join(import.meta.dirname!, "load_child.ts");

interface Options {
  url: URL;
  transport: Transport;
  n: number;
  pid?: number;
  changes: number;
  burst: number;
  timeoutMs: number;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: "string", default: "http://127.0.0.1:8000" },
      transport: { type: "string", default: "ws" },
      n: { type: "string", default: "10000" },
      pid: { type: "string" },
      changes: { type: "string", default: "20" },
      burst: { type: "string", default: "1000" },
      timeout: { type: "string", default: "300" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const url = new URL(values.url);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
    throw new RangeError(`--url must be on loopback, got "${values.url}"`);
  }
  const transport = values.transport as Transport;
  if (!TRANSPORTS.includes(transport)) {
    throw new RangeError(`--transport must be ws, sse or poll, got "${values.transport}"`);
  }
  const whole = (flag: string, text: string, min: number) => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < min) {
      throw new RangeError(`--${flag} must be a whole number of ${min} or more, got "${text}"`);
    }
    return value;
  };
  return {
    url,
    transport,
    n: whole("n", values.n, 1),
    pid: values.pid === undefined ? undefined : whole("pid", values.pid, 1),
    changes: whole("changes", values.changes, 1),
    burst: whole("burst", values.burst, 0),
    timeoutMs: whole("timeout", values.timeout, 1) * 1000,
  };
}

/** Where a child's subscribers connect, how, and for how long at most. */
export type ChildOptions = Pick<Options, "url" | "transport" | "timeoutMs">;

/** One child process holding `n` subscribers, and the messages it has sent, by type. */
export class Child {
  readonly #process: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #queues = new Map<string, ChildMessage[]>();
  readonly #waiting = new Map<string, () => void>();
  #ended = false;

  /**
   * Spawns the child, which opens its subscribers at once and then sends `opened`.
   *
   * @param options The server's URL, the transport and the run's limit.
   * @param n How many subscribers it holds (at most {@linkcode MAX_PER_CHILD}).
   */
  constructor(options: ChildOptions, n: number) {
    const process = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        CHILD,
        "--url",
        options.url.href,
        "--transport",
        options.transport,
        "--n",
        String(n),
        "--deadline-ms",
        String(options.timeoutMs),
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#process = process;
    this.#stdin = process.stdin.getWriter();
    (async () => {
      for await (const message of readMessages<ChildMessage>(process.stdout)) {
        const queue = this.#queues.get(message.type) ?? [];
        queue.push(message);
        this.#queues.set(message.type, queue);
        this.#waiting.get(message.type)?.();
      }
    })().catch(() => {}).finally(() => {
      this.#ended = true;
      for (const wake of this.#waiting.values()) wake();
    });
  }

  /** Sends one message. */
  send(message: ParentMessage): Promise<void> {
    return writeMessage(this.#stdin, message);
  }

  /** Resolves with the next message of a type; rejects when the child ends or the signal aborts. */
  async next<T extends ChildMessage["type"]>(
    type: T,
    signal: AbortSignal,
  ): Promise<Extract<ChildMessage, { type: T }>> {
    for (;;) {
      const message = this.#queues.get(type)?.shift();
      if (message) return message as Extract<ChildMessage, { type: T }>;
      if (this.#ended) throw new Error(`a child ended before it sent "${type}"`);
      signal.throwIfAborted();
      const { promise, resolve } = Promise.withResolvers<void>();
      const onAbort = () => resolve();
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiting.set(type, resolve);
      await promise;
      signal.removeEventListener("abort", onAbort);
      this.#waiting.delete(type);
    }
  }

  /** Asks the child to close its sockets, and kills it if it has not exited within 5 s. */
  async close(): Promise<void> {
    const exited = this.#process.status;
    await this.send({ type: "close" }).catch(() => {});
    const timer = setTimeout(() => this.kill(), 5_000);
    await exited;
    clearTimeout(timer);
  }

  /** Ends the child at once. */
  kill(): void {
    try {
      this.#process.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }
}

/**
 * A process's resident memory now.
 *
 * @param pid The process.
 * @returns `VmRSS` of `/proc/PID/status`, in KiB.
 * @throws {Error} When the status has no `VmRSS` (the process has ended).
 */
export function readRssKiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`/proc/${pid}/status has no VmRSS`);
  return Number(match[1]);
}

/**
 * The median of some values.
 *
 * @param values The values, in any order.
 * @returns The middle one, or the mean of the two middle ones.
 */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;

/**
 * Spreads `n` subscribers over as few children as hold them (at most {@linkcode MAX_PER_CHILD}
 * each), as evenly as whole numbers allow.
 *
 * @param options Where they connect, how, and for how long at most.
 * @param n How many subscribers in all.
 * @returns The children, opening their subscribers.
 */
export function spawnChildren(options: ChildOptions, n: number): Child[] {
  const count = Math.ceil(n / MAX_PER_CHILD);
  return Array.from(
    { length: count },
    (_, i) => new Child(options, Math.floor(n / count) + (i < n % count ? 1 : 0)),
  );
}

/**
 * Waits until every child has opened its subscribers, and fails when any could not.
 *
 * @param children The children.
 * @param signal Gives up waiting.
 * @returns Each child's report.
 * @throws {Error} When a subscriber failed to open, with the first error.
 */
export async function requireOpened(children: Child[], signal: AbortSignal) {
  const reports = await Promise.all(children.map((child) => child.next("opened", signal)));
  const failed = reports.reduce((sum, r) => sum + r.failed, 0);
  if (failed > 0) {
    throw new Error(
      `${failed} subscribers failed to open: ${reports.find((r) => r.firstError)?.firstError}`,
    );
  }
  return reports;
}

/**
 * Asks every child how its subscribers stand against a version, and adds the answers up.
 *
 * @param children The children.
 * @param version The version every subscriber should be on.
 * @param signal Gives up waiting.
 * @returns Subscribers behind it, repeated or reordered updates, lost connections and the first
 * loss's reason.
 */
export async function checkAll(children: Child[], version: number, signal: AbortSignal) {
  const checks = await Promise.all(children.map(async (child) => {
    await child.send({ type: "check", version });
    return child.next("checked", signal);
  }));
  return {
    behind: checks.reduce((sum, c) => sum + c.behind, 0),
    duplicates: checks.reduce((sum, c) => sum + c.duplicates, 0),
    lost: checks.reduce((sum, c) => sum + c.lost, 0),
    firstLoss: checks.find((c) => c.firstLoss)?.firstLoss,
  };
}

/**
 * Arms every child for a version.
 *
 * @param children The children holding the subscribers.
 * @param version The version the next change will produce.
 * @param signal Gives up waiting for the children's answers.
 * @returns A wait that resolves with the wall-clock time at which the last subscriber had it.
 */
export async function armAll(children: Child[], version: number, signal: AbortSignal) {
  await Promise.all(children.map((child) => child.send({ type: "arm", version })));
  await Promise.all(children.map((child) => child.next("armed", signal)));
  return async (deadline: AbortSignal) => {
    const times = await Promise.all(children.map(async (child) => {
      for (;;) {
        const reached = await child.next("reached", deadline);
        if (reached.version === version) return reached.at;
      }
    }));
    return Math.max(...times);
  };
}

/**
 * Asks `GET /healthz` every few ms over one keep-alive connection until stopped.
 *
 * @param url The server's URL.
 * @param stop Ends the probe.
 * @returns The slowest answer, in ms, and how many were not 200.
 */
export function probeHealth(
  url: URL,
  stop: AbortSignal,
): Promise<{ max: number; failures: number }> {
  return (async () => {
    const connection = await RawHttpConnection.open(url);
    let max = 0;
    let failures = 0;
    try {
      while (!stop.aborted) {
        const started = performance.now();
        const { status } = await connection.send("GET", "/healthz");
        max = Math.max(max, performance.now() - started);
        if (status !== 200) failures++;
        await new Promise((resolve) => setTimeout(resolve, HEALTH_PROBE_MS));
      }
    } finally {
      connection.close();
    }
    return { max, failures };
  })();
}

async function run(options: Options, children: Child[], rows: [string, string, string][]) {
  const whole = AbortSignal.timeout(options.timeoutMs);
  const rss = () => (options.pid === undefined ? undefined : readRssKiB(options.pid));
  const rssBefore = rss();

  children.push(...spawnChildren(options, options.n));
  const opened = await Promise.all(children.map((child) => child.next("opened", whole)));
  const open = opened.reduce((sum, report) => sum + report.opened, 0);
  const failed = opened.reduce((sum, report) => sum + report.failed, 0);
  const connectMs = Math.max(...opened.map((r) => r.end)) - Math.min(...opened.map((r) => r.start));
  rows.push([
    "subscribers open",
    `${open} of ${options.n} (${children.length} processes)` +
    (failed ? `, ${failed} failed: ${opened.find((r) => r.firstError)?.firstError}` : ""),
    "15,000 held",
  ]);
  rows.push(["connect rate", `${Math.round(open / (connectMs / 1000))} /s`, ""]);

  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const rssOpen = rss();
  if (rssBefore !== undefined && rssOpen !== undefined) {
    rows.push(["server RSS before → with subscribers", `${mib(rssBefore)} → ${mib(rssOpen)}`, ""]);
    rows.push([
      "server RSS per subscriber",
      `${((rssOpen - rssBefore) / open).toFixed(1)} KiB`,
      "ws ≤ 21 KB, poll ≤ 8 KB",
    ]);
  }

  const changer = await CartChanger.open(options.url);
  const answered: number[] = [];
  const lastArrivals: number[] = [];
  let missed = 0;
  let version = -1;
  try {
    // The first change tells the cart's version; it is not timed.
    version = await changer.change();
    for (let i = 0; i < options.changes; i++) {
      await new Promise((resolve) => setTimeout(resolve, CHANGE_GAP_MS));
      const reached = await armAll(children, version + 1, whole);
      const started = wallClock();
      version = await changer.change();
      answered.push(wallClock() - started);
      try {
        lastArrivals.push(
          await reached(AbortSignal.any([whole, AbortSignal.timeout(CHANGE_DEADLINE_MS)])) -
            started,
        );
      } catch {
        missed++;
      }
    }
    version = await releaseAll([changer], children, version, whole);
  } finally {
    changer.close();
  }
  rows.push([
    `POST /cart answered (${options.changes} changes), median / max`,
    `${ms(median(answered))} / ${ms(Math.max(...answered))}`,
    "send loop < 25 ms",
  ]);
  rows.push([
    "change → last subscriber has it, median / max",
    lastArrivals.length ? `${ms(median(lastArrivals))} / ${ms(Math.max(...lastArrivals))}` : "-",
    "ws < 160 ms, poll < 310 ms",
  ]);

  if (options.burst > 0) version = await burst(options, children, version, rows, whole);

  const { behind, duplicates, lost, firstLoss } = await checkAll(children, version, whole);
  rows.push(["subscribers not on the final version (lost updates)", String(behind), "0"]);
  rows.push(["duplicated or reordered updates", String(duplicates), "0"]);
  rows.push([
    "errors: failed opens, lost connections, missed changes",
    `${failed}, ${lost}, ${missed}` +
    (lost ? ` (${firstLoss})` : ""),
    "0, 0, 0",
  ]);
}

async function burst(
  options: Options,
  children: Child[],
  version: number,
  rows: [string, string, string][],
  whole: AbortSignal,
): Promise<number> {
  const rss = () => (options.pid === undefined ? undefined : readRssKiB(options.pid));
  const shoppers = await Promise.all(
    Array.from({ length: BURST_SHOPPERS }, () => CartChanger.open(options.url)),
  );
  // An even burst leaves every shopper as it started; an odd one is evened out after the timing.
  const final = version + options.burst;
  let reached = await armAll(children, final, whole);
  const rssBefore = rss();
  const stopProbe = new AbortController();
  const health = probeHealth(options.url, stopProbe.signal);
  const interval = 1000 / options.burst;
  const started = performance.now();
  const cutOff = AbortSignal.any([whole, AbortSignal.timeout(BURST_LIMIT_MS)]);
  let next = 0;
  let last = 0;
  let answeredMax = -1;
  try {
    await Promise.all(shoppers.map(async (shopper) => {
      while (next < options.burst && !cutOff.aborted) {
        const wait = started + next++ * interval - performance.now();
        if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
        answeredMax = Math.max(answeredMax, await shopper.change());
        last = wallClock();
      }
    }));
  } catch (error) {
    for (const shopper of shoppers) shopper.close();
    throw error;
  }
  const sent = performance.now() - started;
  // A server too slow to take the burst within the limit: time what it did take.
  if (next < options.burst) reached = await armAll(children, answeredMax, whole);
  let settle = "-";
  try {
    settle = ms(
      await reached(AbortSignal.any([whole, AbortSignal.timeout(CHANGE_DEADLINE_MS)])) - last,
    );
  } catch {
    settle = `not within ${CHANGE_DEADLINE_MS / 1000} s`;
  }
  stopProbe.abort();
  const { max, failures } = await health;
  const rssAfter = rss();
  rows.push([
    "burst: changes sent, in",
    `${next} in ${(sent / 1000).toFixed(2)} s` +
    (next < options.burst ? ` (cut off at ${BURST_LIMIT_MS / 1000} s)` : "") +
    (next === options.burst && answeredMax !== final
      ? ` (final version ${answeredMax}, expected ${final}: someone else changed the cart)`
      : ""),
    "1,000 in 1 s",
  ]);
  rows.push(["burst: last change → every subscriber on the final version", settle, "< 1 s"]);
  rows.push([
    "burst: slowest GET /healthz",
    ms(max) + (failures ? `, ${failures} not 200` : ""),
    "< 100 ms",
  ]);
  if (rssBefore !== undefined && rssAfter !== undefined) {
    rows.push([
      "burst: server RSS growth",
      `${((rssAfter - rssBefore) / 1024).toFixed(1)} MiB`,
      "~0",
    ]);
  }
  return await releaseAll(shoppers, children, answeredMax, whole);
}

/**
 * Takes out every unit the shoppers hold, so that a run leaves the stock as it found it, and waits
 * (untimed) until every subscriber has the result.
 *
 * @returns The cart's version afterwards.
 */
async function releaseAll(
  shoppers: CartChanger[],
  children: Child[],
  version: number,
  whole: AbortSignal,
): Promise<number> {
  const holding = shoppers.filter((shopper) => shopper.holding);
  if (holding.length > 0) {
    const reached = await armAll(children, version + holding.length, whole);
    for (const shopper of holding) version = Math.max(version, await shopper.change());
    await reached(AbortSignal.any([whole, AbortSignal.timeout(CHANGE_DEADLINE_MS)]));
  }
  for (const shopper of shoppers) shopper.close();
  return version;
}

if (import.meta.main) {
  let options: Options;
  try {
    options = parseOptions(withoutSeparator(Deno.args));
  } catch (error) {
    console.error(`error: ${(error as Error).message}\n\n${USAGE}`);
    Deno.exit(2);
  }
  if (options.pid !== undefined) {
    const command = Deno.readTextFileSync(`/proc/${options.pid}/cmdline`).replaceAll("\0", " ");
    if (/\btask\b/.test(command)) {
      console.error(`warning: --pid ${options.pid} is a task runner, not the server: ${command}`);
    }
  }
  const children: Child[] = [];
  const killAll = () => children.forEach((child) => child.kill());
  Deno.addSignalListener("SIGINT", () => {
    killAll();
    Deno.exit(130);
  });
  const rows: [string, string, string][] = [];
  let failure: unknown;
  const started = new Date();
  try {
    await run(options, children, rows);
  } catch (error) {
    failure = error;
  } finally {
    await Promise.all(children.map((child) => child.close()));
  }
  console.log(
    `\n${options.n} ${options.transport} subscribers on ${options.url.href}, ` +
      `${started.toISOString()}\n`,
  );
  console.log("| figure | value | target |\n| --- | --- | --- |");
  for (const [name, value, target] of rows) console.log(`| ${name} | ${value} | ${target} |`);
  if (failure !== undefined) {
    console.error(`\nerror: ${failure instanceof Error ? failure.message : failure}`);
    Deno.exit(1);
  }
}
