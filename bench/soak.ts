/**
 * Soak test (not part of `deno task test`): minutes of churn against a child server, then checks
 * that waiters, subscribers and descriptors return to their idle level and RSS to within 10%.
 *
 *     deno run -A bench/soak.ts                      # 10 minutes, 200 concurrent clients
 *     deno run -A bench/soak.ts --duration 60 --warmup 15 --clients 100
 */
import { withoutSeparator } from "../lib/server/config.ts";
import { parseArgs } from "node:util";
import { spawnServer } from "../tests/support/server.ts";
import { metric, openStatusSocket, openStatusStream, postCart } from "../tests/support/clients.ts";
import { openRawWebSocket } from "../tests/support/raw_websocket.ts";
import { RawHttpConnection } from "../tests/support/raw_http.ts";

const { values } = parseArgs({
  args: withoutSeparator(Deno.args),
  options: {
    duration: { type: "string", default: "600" },
    warmup: { type: "string", default: "30" },
    clients: { type: "string", default: "200" },
  },
});
const durationMs = Number(values.duration) * 1000;
const warmupMs = Number(values.warmup) * 1000;
const clients = Number(values.clients);
if (!(durationMs > 0 && warmupMs > 0 && clients > 0 && clients <= 5_000)) {
  console.error("usage: soak.ts [--duration S] [--warmup S] [--clients N (1..5000)]");
  Deno.exit(2);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pause = () => sleep(Math.random() * 2_000);

/** What a client does once; each returns when it is done and has let go of its connection. */
const ACTIONS: Record<string, (base: string) => Promise<void>> = {
  "websocket held, then closed": async (base) => {
    await using socket = await openStatusSocket(base);
    await socket.states.next();
    await pause();
  },
  "event stream held, then aborted": async (base) => {
    await using stream = await openStatusStream(base);
    await stream.events.next();
    await pause();
  },
  "long poll abandoned mid-wait": async (base) => {
    const controller = new AbortController();
    const poll = fetch(new URL("cart/status", base), { signal: controller.signal })
      .then((r) => r.body?.cancel());
    await pause();
    controller.abort();
    await poll.catch(() => {});
  },
  "long poll answered": async (base) => {
    const response = await fetch(new URL("cart/status?since=0", base));
    await response.body?.cancel();
  },
  "websocket that never reads": async (base) => {
    const raw = await openRawWebSocket(base, "/cart/status");
    await pause();
    raw.conn.close();
  },
  "event stream that never reads": async (base) => {
    const raw = await RawHttpConnection.open(base);
    await raw.write("GET /cart/status HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n");
    await pause();
    raw.close();
  },
  "cart add and remove": async (base) => {
    const session = crypto.randomUUID();
    for (const action of ["add", "remove"] as const) {
      await postCart(base, action, session);
      await sleep(Math.random() * 200);
    }
  },
};

const counts = new Map<string, { done: number; failed: number }>();

/** Runs `clients` workers, each doing random actions back to back, until the deadline. */
async function churn(base: string, forMs: number): Promise<void> {
  const deadline = Date.now() + forMs;
  const names = Object.keys(ACTIONS);
  await Promise.all(Array.from({ length: clients }, async () => {
    while (Date.now() < deadline) {
      const name = names[Math.floor(Math.random() * names.length)];
      const count = counts.get(name) ?? { done: 0, failed: 0 };
      counts.set(name, count);
      try {
        await ACTIONS[name](base);
        count.done++;
      } catch {
        count.failed++;
      }
    }
  }));
}

/** What the server holds when no client is connected. */
interface Idle {
  rssKiB: number;
  descriptors: number;
  waiters: number;
  websockets: number;
  lagging: number;
  streams: number;
  connections: number;
}

async function idleState(base: string, pid: number): Promise<Idle> {
  // Subscribers and waiters leave as their clients' closes arrive: wait for them, bounded.
  const until = Date.now() + 30_000;
  while (await metric(base, "inventory_connections") > 0 && Date.now() < until) await sleep(100);
  // Let the allocator and the garbage collector settle before reading RSS.
  await sleep(5_000);
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return {
    rssKiB: Number(status.match(/VmRSS:\s+(\d+)/)![1]),
    descriptors: [...Deno.readDirSync(`/proc/${pid}/fd`)].length,
    waiters: await metric(base, "inventory_long_poll_waiters"),
    websockets: await metric(base, "inventory_websocket_subscribers"),
    lagging: await metric(base, "inventory_websocket_lagging"),
    streams: await metric(base, "inventory_sse_subscribers"),
    connections: await metric(base, "inventory_connections"),
  };
}

// Every shopper comes from one address: the per-address limit of holds would refuse them.
await using server = await spawnServer(["--inventory", "1000000", "--max-holds-per-client", "0"]);
const pid = server.process.pid;
console.log(`soak: server ${server.url} (pid ${pid}), ${clients} clients`);

await churn(server.url, warmupMs);
const warm = await idleState(server.url, pid);
console.log(`after ${warmupMs / 1000} s warm-up:`, warm);

const started = Date.now();
await churn(server.url, durationMs);
const churnedMs = Date.now() - started;
const end = await idleState(server.url, pid);
console.log(`after ${Math.round(churnedMs / 1000)} s of churn:`, end);

console.log("\n| action | done | failed |\n| --- | ---: | ---: |");
for (const [name, { done, failed }] of counts) console.log(`| ${name} | ${done} | ${failed} |`);

const rssRatio = end.rssKiB / warm.rssKiB;
const checks: [string, boolean][] = [
  ["waiters back to 0", end.waiters === 0],
  ["WebSocket subscribers back to 0", end.websockets === 0 && end.lagging === 0],
  ["event streams back to 0", end.streams === 0],
  // Give or take the few idle keep-alive connections this script's own fetch pool holds; a leak
  // would grow with the thousands of actions above.
  ["descriptors back to the warm-up level (±4)", end.descriptors <= warm.descriptors + 4],
  [`RSS within 10% of warm-up (${(rssRatio * 100 - 100).toFixed(1)}%)`, rssRatio <= 1.1],
  ["server still running", (await fetch(new URL("healthz", server.url))).ok],
];
console.log("");
for (const [what, ok] of checks) console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
if (checks.some(([, ok]) => !ok)) Deno.exitCode = 1;
