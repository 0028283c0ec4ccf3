/**
 * Which Redis client for the Redis store: node-redis (`npm:redis`) against ioredis, on one real
 * redis-server, same run, alternating order: round trips, throughput, pub/sub latency, and what
 * each does when Redis is frozen, down and back.
 *
 *     deno run -A bench/redis_clients.ts               # 5 passes, ~1 min
 *     deno run -A bench/redis_clients.ts --passes 2 --n 500
 */
import { parseArgs } from "node:util";
import { createClient } from "@redis/client";
import { Redis } from "ioredis";
import { RedisConnection } from "../lib/store/redis_connection.ts";
import { withoutSeparator } from "../lib/server/config.ts";
import { redisMissing, type RunningRedis, startRedis } from "../tests/support/redis_server.ts";
import { percentile } from "./siege.ts";

const { values } = parseArgs({
  args: withoutSeparator(Deno.args),
  options: {
    passes: { type: "string", default: "5" },
    n: { type: "string", default: "2000" },
  },
});
const PASSES = Number(values.passes);
const N = Number(values.n);
if (![PASSES, N].every(Number.isSafeInteger) || PASSES < 1 || PASSES > 20 || N < 100) {
  console.error("usage: redis_clients.ts [--passes 1..20] [--n 100..]");
  Deno.exit(2);
}
if (redisMissing) Deno.exit(1);

/** Concurrent callers of the script in the throughput figure. */
const CALLERS = 50;
/** The command timeout both clients get, as a store would set it. */
const COMMAND_TIMEOUT_MS = 1_000;
/** The longest wait between reconnection attempts. */
const MAX_BACKOFF_MS = 1_000;
/** How long any one awaited event may take before the bench gives up on it. */
const DEADLINE_MS = 10_000;
/** How long the subscriber gets to receive one message after a restart before the next is sent. */
const RESUBSCRIBE_PROBE_MS = 10;

/** Counts a unit of one product and tells the product's channel, as the store's scripts will. */
const SCRIPT = `local n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('PUBLISH', ARGV[2], n)
return n`;
const COUNTS_KEY = "{shop:drop}:bench:counts";

/** What the bench needs of a client, the same for both. */
interface BenchClient {
  readonly name: string;
  ping(): Promise<unknown>;
  echo(text: string): Promise<string>;
  count(sha: string, field: string, channel: string): Promise<number>;
  loadScript(): Promise<string>;
  publish(channel: string, message: string): Promise<number>;
  subscribe(channel: string, onMessage: (message: string) => void): Promise<void>;
  /** Resolves when the command connection is ready (at once if it is). */
  ready(): Promise<void>;
  /** Resolves on the command connection's next "reconnecting" event. */
  reconnecting(): Promise<void>;
  close(): Promise<void>;
}

function countError(errors: Map<string, number>, error: Error): void {
  const key = `${error.constructor.name}: ${error.message}`.slice(0, 100);
  errors.set(key, (errors.get(key) ?? 0) + 1);
}

function once(emitter: { once(event: string, fn: () => void): unknown }, event: string) {
  return new Promise<void>((resolve) => emitter.once(event, resolve));
}

/**
 * node-redis as a store would set it up; `socketTimeout` (with pings so that an idle connection
 * is not dropped) is the variant that tries to bound a command Redis never answers.
 */
function nodeRedisOpener(name: string, socketTimeout?: number) {
  return async (url: string, errors: Map<string, number>): Promise<BenchClient> => {
    const client = createClient({
      url,
      disableOfflineQueue: true,
      commandOptions: { timeout: COMMAND_TIMEOUT_MS },
      pingInterval: socketTimeout && socketTimeout / 2,
      socket: {
        connectTimeout: COMMAND_TIMEOUT_MS,
        socketTimeout,
        reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, MAX_BACKOFF_MS),
      },
    });
    const subscriber = client.duplicate();
    for (const c of [client, subscriber]) c.on("error", (e: Error) => countError(errors, e));
    await client.connect();
    await subscriber.connect();
    return {
      name,
      ping: () => client.ping(),
      echo: (text) => client.echo(text),
      count: async (sha, field, channel) =>
        Number(await client.evalSha(sha, { keys: [COUNTS_KEY], arguments: [field, channel] })),
      loadScript: () => client.scriptLoad(SCRIPT),
      publish: (channel, message) => client.publish(channel, message),
      subscribe: (channel, onMessage) => subscriber.subscribe(channel, onMessage),
      ready: () => client.isReady ? Promise.resolve() : once(client, "ready"),
      reconnecting: () => once(client, "reconnecting"),
      close: async () => {
        await subscriber.close();
        await client.close();
      },
    };
  };
}

/**
 * ioredis as a store would set it up; `enableAutoPipelining` sends the commands of one tick in one
 * write, as node-redis always does.
 */
function ioredisOpener(name: string, enableAutoPipelining = false) {
  return async (url: string, errors: Map<string, number>): Promise<BenchClient> => {
    const client = new Redis(url, {
      lazyConnect: true,
      enableAutoPipelining,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: COMMAND_TIMEOUT_MS,
      retryStrategy: (times) => Math.min(50 * 2 ** times, MAX_BACKOFF_MS),
    });
    const subscriber = client.duplicate();
    for (const c of [client, subscriber]) c.on("error", (e: Error) => countError(errors, e));
    await client.connect();
    await subscriber.connect();
    const listeners = new Map<string, (message: string) => void>();
    subscriber.on(
      "message",
      (channel: string, message: string) => listeners.get(channel)?.(message),
    );
    return {
      name,
      ping: () => client.ping(),
      echo: (text) => client.echo(text),
      count: async (sha, field, channel) =>
        Number(await client.evalsha(sha, 1, COUNTS_KEY, field, channel)),
      loadScript: async () => String(await client.script("LOAD", SCRIPT)),
      publish: (channel, message) => client.publish(channel, message),
      subscribe: async (channel, onMessage) => {
        listeners.set(channel, onMessage);
        await subscriber.subscribe(channel);
      },
      ready: () => client.status === "ready" ? Promise.resolve() : once(client, "ready"),
      reconnecting: () => once(client, "reconnecting"),
      // quit() is a command: with no offline queue it rejects while the connection is not ready,
      // and the client then goes on reconnecting; disconnect() always ends it.
      close: () => {
        subscriber.disconnect();
        client.disconnect();
        return Promise.resolve();
      },
    };
  };
}

/**
 * node-redis behind the store's own connection (lib/store/redis_connection.ts): a 1 s deadline of
 * its own on every command, and every command refused at once until a PING answers again. Only
 * tried with Redis frozen and down; its events are read from its health, every 10 ms.
 */
async function storeConnectionOpener(url: string): Promise<BenchClient> {
  const connection = await RedisConnection.open(url, { log: () => {}, recovered: () => {} });
  const until = async (reachable: boolean) => {
    while (connection.health.reachable !== reachable) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const unsupported = () => Promise.reject(new Error("not measured"));
  return {
    name: STORE_CONNECTION,
    ping: () => connection.send(["PING"]),
    echo: async (text) => String(await connection.send(["ECHO", text])),
    count: unsupported,
    loadScript: unsupported,
    publish: unsupported,
    subscribe: unsupported,
    ready: () => until(true),
    reconnecting: () => until(false),
    close: () => connection.close(),
  };
}

const STORE_CONNECTION = "node-redis + the store's deadline (RedisConnection)";

/** Opens a client (its command and subscriber connections), counting its error events. */
type Opener = (url: string, errors: Map<string, number>) => Promise<BenchClient>;

/** The clients measured, as a store would set them up, in the order of the columns. */
const MEASURED: [string, Opener][] = [
  ["node-redis 6.3.1", nodeRedisOpener("node-redis 6.3.1")],
  ["ioredis 6.0.0", ioredisOpener("ioredis 6.0.0")],
  ["ioredis + enableAutoPipelining", ioredisOpener("ioredis + enableAutoPipelining", true)],
];
/** The clients whose behaviour with Redis frozen and down is tried (the last only for that). */
const TRIED: [string, Opener][] = [
  MEASURED[0],
  MEASURED[1],
  [
    "node-redis + socketTimeout 1000, pingInterval 500",
    nodeRedisOpener("node-redis + socketTimeout 1000, pingInterval 500", COMMAND_TIMEOUT_MS),
  ],
  [STORE_CONNECTION, storeConnectionOpener],
];
/** Errors each client emitted as events (lost connections), by message. */
const errors = new Map<string, Map<string, number>>(
  [...MEASURED, ...TRIED].map(([name]) => [name, new Map()]),
);

/** Rejects after `ms`, so that no awaited event can hang the bench. */
function withDeadline<T>(promise: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function quantiles(samples: number[]): { p50: number; p99: number } {
  const sorted = Float64Array.from(samples).sort();
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

/** One pass's figures for one client. */
interface PassFigures {
  pingP50: number;
  pingP99: number;
  scriptP50: number;
  scriptP99: number;
  opsPerSecond: number;
  pubsubP50: number;
  pubsubP99: number;
  readyToCommandMs: number;
  readyToMessageMs: number;
  resubscribed: boolean;
}

async function timeEach(n: number, call: () => Promise<unknown>): Promise<number[]> {
  const micros: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await call();
    micros.push((performance.now() - start) * 1_000);
  }
  return micros;
}

async function throughput(client: BenchClient, sha: string, channel: string): Promise<number> {
  const perCaller = Math.ceil(N * 2 / CALLERS);
  const start = performance.now();
  await Promise.all(Array.from({ length: CALLERS }, async (_, caller) => {
    for (let i = 0; i < perCaller; i++) await client.count(sha, `product-${caller}`, channel);
  }));
  return CALLERS * perCaller / ((performance.now() - start) / 1_000);
}

/** A subscriber's messages as a queue the bench can await one at a time. */
class Inbox {
  #waiter: ((message: string) => void) | undefined;
  push = (message: string) => {
    this.#waiter?.(message);
  };
  next(ms: number): Promise<string | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        resolve(undefined);
      }, ms);
      this.#waiter = (message) => {
        clearTimeout(timer);
        this.#waiter = undefined;
        resolve(message);
      };
    });
  }
}

async function pubsubLatency(client: BenchClient, channel: string, inbox: Inbox) {
  const micros: number[] = [];
  for (let i = 0; i < N / 2; i++) {
    const start = performance.now();
    const arrived = inbox.next(DEADLINE_MS);
    await client.publish(channel, String(i));
    if (await arrived !== String(i)) throw new Error(`Message ${i} did not arrive on ${channel}`);
    micros.push((performance.now() - start) * 1_000);
  }
  return quantiles(micros);
}

/**
 * A PUBLISH on a connection of its own (Deno's TCP, no client library), so the subscriber's return
 * is timed apart from the client's own command connection.
 */
async function rawPublish(port: number, channel: string, message: string): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const parts = ["PUBLISH", channel, message];
    const command = `*${parts.length}\r\n` +
      parts.map((p) => `$${new TextEncoder().encode(p).length}\r\n${p}\r\n`).join("");
    await conn.write(new TextEncoder().encode(command));
    const reply = new Uint8Array(64);
    const read = await conn.read(reply);
    const text = new TextDecoder().decode(reply.subarray(0, read ?? 0));
    if (!text.startsWith(":")) throw new Error(`PUBLISH answered ${JSON.stringify(text)}`);
    return Number(text.slice(1));
  } finally {
    conn.close();
  }
}

/** Kills Redis, restarts it, and times the client's way back. */
async function reconnect(redis: RunningRedis, client: BenchClient, channel: string, inbox: Inbox) {
  const lost = client.reconnecting();
  await redis.signal("SIGKILL");
  await withDeadline(lost, `${client.name} noticing the kill`);
  await redis.restart();
  const back = performance.now();
  const command = (async () => {
    for (let attempt = 0; attempt < 100; attempt++) {
      await withDeadline(client.ready(), `${client.name} ready again`);
      try {
        await client.ping();
        return performance.now() - back;
      } catch {
        // Ready, then lost again (or still loading): wait for the next ready.
      }
    }
    throw new Error(`${client.name} never answered after the restart`);
  })();
  const message = (async () => {
    for (let attempt = 0; attempt < DEADLINE_MS / RESUBSCRIBE_PROBE_MS; attempt++) {
      const text = `back-${attempt}`;
      const arrived = inbox.next(RESUBSCRIBE_PROBE_MS);
      await rawPublish(redis.port, channel, text);
      if (await arrived === text) return performance.now() - back;
    }
    return Number.NaN;
  })();
  const [readyToCommandMs, readyToMessageMs] = await Promise.all([command, message]);
  return { readyToCommandMs, readyToMessageMs, resubscribed: !Number.isNaN(readyToMessageMs) };
}

async function onePass(redis: RunningRedis, [name, open]: [string, Opener]): Promise<PassFigures> {
  const client = await open(redis.url, errors.get(name)!);
  try {
    const channel = `{shop:drop}:bench:${client.name}:${crypto.randomUUID()}`;
    const sha = await client.loadScript();
    const ping = quantiles(await timeEach(N, () => client.ping()));
    const quietChannel = `${channel}:nobody`;
    const script = quantiles(
      await timeEach(N, () => client.count(sha, "product-1", quietChannel)),
    );
    const opsPerSecond = await throughput(client, sha, quietChannel);
    const inbox = new Inbox();
    await client.subscribe(channel, inbox.push);
    const pubsub = await pubsubLatency(client, channel, inbox);
    const back = await reconnect(redis, client, channel, inbox);
    return {
      pingP50: ping.p50,
      pingP99: ping.p99,
      scriptP50: script.p50,
      scriptP99: script.p99,
      opsPerSecond,
      pubsubP50: pubsub.p50,
      pubsubP99: pubsub.p99,
      ...back,
    };
  } finally {
    await client.close().catch((e) => console.error(`closing ${client.name}: ${describe(e)}`));
  }
}

/** How a command fares: what it returned or threw, and after how long. */
async function outcome(call: () => Promise<unknown>): Promise<string> {
  const start = performance.now();
  try {
    const value = await withDeadline(call(), "the command", 5_000);
    return `resolved ${JSON.stringify(value)} after ${(performance.now() - start).toFixed(0)} ms`;
  } catch (error) {
    return `rejected after ${(performance.now() - start).toFixed(0)} ms: ${describe(error)}`;
  }
}

function describe(error: unknown): string {
  const e = error as Error;
  return `${e.constructor.name}: ${e.message.split(". ")[0]}`;
}

/** Commands sent while Redis is frozen: one every 100 ms for 2.5 s, as a busy shop would. */
const FROZEN_COMMANDS = 25;
const FROZEN_PACE_MS = 100;

/**
 * Freezes Redis (SIGSTOP) while commands keep coming, then thaws it (SIGCONT) after the last
 * command has had 1.5 s, and tells how long each command waited and how it ended.
 */
async function frozen(redis: RunningRedis, client: BenchClient): Promise<string> {
  await redis.signal("SIGSTOP");
  const endings: Promise<{ ms: number; how: string }>[] = [];
  try {
    for (let i = 0; i < FROZEN_COMMANDS; i++) {
      const start = performance.now();
      endings.push(
        client.ping().then(
          () => "answered after SIGCONT",
          (error) => `rejected: ${describe(error)}`,
        ).then((how) => ({ ms: performance.now() - start, how })),
      );
      await new Promise((resolve) => setTimeout(resolve, FROZEN_PACE_MS));
    }
    const settled = Promise.all(endings).then(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise((resolve) => timer = setTimeout(resolve, 1_500));
    await Promise.race([settled, grace]).finally(() => clearTimeout(timer));
  } finally {
    await redis.signal("SIGCONT");
  }
  const results = await withDeadline(Promise.all(endings), "the frozen commands");
  const byHow = Map.groupBy(results, (r) => r.how);
  return [...byHow].map(([how, group]) => {
    const ms = group.map((r) => r.ms);
    return `${group.length}/${FROZEN_COMMANDS} ${how} after ${Math.min(...ms).toFixed(0)}–${
      Math.max(...ms).toFixed(0)
    } ms`;
  }).join("; ");
}

/** What a command does while Redis is frozen (SIGSTOP), just after it dies, and while it is down. */
async function failureModes(redis: RunningRedis, [name, open]: [string, Opener]) {
  const client = await open(redis.url, errors.get(name)!);
  try {
    await withDeadline(client.ready(), `${client.name} ready`);
    const stopped = await frozen(redis, client);
    await withDeadline(client.ready(), `${client.name} ready after SIGCONT`);
    const marker = crypto.randomUUID();
    // ECHO of a fresh marker: a reply to a command given up on would show here instead.
    const afterCont = (await outcome(() => client.echo(marker)))
      .replace(JSON.stringify(marker), "its own ECHO");
    const lost = client.reconnecting();
    const killed = redis.signal("SIGKILL");
    const inFlight = await outcome(() => client.ping());
    await killed;
    await withDeadline(lost, `${client.name} noticing the kill`);
    const down = await outcome(() => client.ping());
    await redis.restart();
    await withDeadline(client.ready(), `${client.name} ready again`);
    return { name: client.name, stopped, afterCont, inFlight, down };
  } finally {
    await client.close().catch((e) => console.error(`closing ${client.name}: ${describe(e)}`));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const warnings: string[] = [];
const originalWarn = console.warn;
console.warn = (...args: unknown[]) => {
  warnings.push(args.map(String).join(" "));
  originalWarn(...args);
};

await using redis = await startRedis();
const passes: PassFigures[][] = MEASURED.map(() => []);
const started = performance.now();
for (let pass = 0; pass < PASSES; pass++) {
  // Each pass starts with the next client, so none always runs first.
  for (let i = 0; i < MEASURED.length; i++) {
    const which = (pass + i) % MEASURED.length;
    passes[which].push(await onePass(redis, MEASURED[which]));
    console.error(`pass ${pass + 1}/${PASSES}: ${MEASURED[which][0]} done`);
  }
}
const modes = [];
for (const tried of TRIED) modes.push(await failureModes(redis, tried));

const rows: [string, (f: PassFigures) => number, number][] = [
  ["PING p50 (µs)", (f) => f.pingP50, 0],
  ["PING p99 (µs)", (f) => f.pingP99, 0],
  ["EVALSHA HINCRBY+PUBLISH p50 (µs)", (f) => f.scriptP50, 0],
  ["EVALSHA HINCRBY+PUBLISH p99 (µs)", (f) => f.scriptP99, 0],
  [`EVALSHA, ${CALLERS} concurrent callers (ops/s)`, (f) => f.opsPerSecond, 0],
  ["publish → subscriber p50 (µs)", (f) => f.pubsubP50, 0],
  ["publish → subscriber p99 (µs)", (f) => f.pubsubP99, 0],
  ["restart ready → first command OK (ms)", (f) => f.readyToCommandMs, 1],
  ["restart ready → subscriber has a message (ms)", (f) => f.readyToMessageMs, 1],
];
const cell = (values: number[], digits: number) => {
  const fmt = (v: number) => v.toLocaleString("en-US", { maximumFractionDigits: digits });
  return `${fmt(median(values))} (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})`;
};
const lines = [
  `| figure (median of ${PASSES} passes, min–max) | ${MEASURED.map(([n]) => n).join(" | ")} |`,
  `| --- |${" --- |".repeat(MEASURED.length)}`,
  ...rows.map(([label, pick, digits]) =>
    `| ${label} | ${passes.map((p) => cell(p.map(pick), digits)).join(" | ")} |`
  ),
  `| resubscribed on its own after the restart | ${
    passes.map((p) => `${p.filter((f) => f.resubscribed).length}/${p.length}`).join(" | ")
  } |`,
  "",
  `| client | Redis frozen (SIGSTOP), ${FROZEN_COMMANDS} PINGs ${FROZEN_PACE_MS} ms apart | ` +
  "next command after SIGCONT | command sent as Redis is SIGKILLed | command while Redis is down |",
  "| --- | --- | --- | --- | --- |",
  ...modes.map((m) => `| ${m.name} | ${m.stopped} | ${m.afterCont} | ${m.inFlight} | ${m.down} |`),
];
console.log(
  `\n${PASSES} passes of N = ${N}, Redis ${redis.url}, ` +
    `${((performance.now() - started) / 1_000).toFixed(0)} s, Deno ${Deno.version.deno}\n`,
);
console.log(lines.join("\n"));
console.log(`\nwarnings printed: ${warnings.length ? warnings.join("; ") : "none"}`);
console.log("\nerror events (connections lost and refused while Redis was down):");
for (const [name, seen] of errors) {
  const list = [...seen].map(([key, count]) => `${key} ×${count}`).join("; ");
  console.log(`- ${name}: ${list || "none"}`);
}
