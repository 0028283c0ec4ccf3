/** Fan-out over real sockets: one change until every subscriber has it, per transport. */
import { CartChanger } from "./cart_changer.ts";
import { Fleet } from "../tests/support/fleet.ts";
import { type Transport, TRANSPORTS } from "./subscribers.ts";
import { startWorkerServers } from "./worker_servers.ts";

/** BENCH_QUICK=1 (CI) measures small fleets so that the whole run takes seconds. */
const QUICK = Deno.env.get("BENCH_QUICK") === "1";
const SIZES = QUICK ? [10, 100] : [100, 1_000];
const ITERATIONS = QUICK ? 10 : 40;
/** An iteration that takes longer than this failed; the bench reports it instead of hanging. */
const DEADLINE_MS = 10_000;

const LABELS: Record<Transport, string> = { ws: "WebSocket", sse: "SSE", poll: "long poll" };

// The Worker and every socket live until the bench process exits: `deno bench` has no hook that
// runs once after the last iteration, and a bench case that stopped them would run repeatedly.
const servers = await startWorkerServers();
const changers = new Map<URL, CartChanger>([
  [servers.ours, await CartChanger.open(servers.ours)],
  [servers.bare, await CartChanger.open(servers.bare)],
]);

/** One fleet at a time, so that the sockets of one case do not load the next. */
let current: { key: string; fleet: Fleet; version: number } | undefined;

async function fleetFor(base: URL, transport: Transport, n: number) {
  const key = `${base} ${transport} ${n}`;
  if (current?.key === key) return current;
  current?.fleet.close();
  const fleet = new Fleet();
  const report = await fleet.open(base, transport, n);
  if (report.failed > 0) {
    throw new Error(`${report.failed} subscribers failed: ${report.firstError}`);
  }
  current = { key, fleet, version: fleet.newest() };
  return current;
}

/** One change, timed until the last subscriber has it. */
async function fanOut(base: URL, transport: Transport, n: number): Promise<void> {
  const entry = await fleetFor(base, transport, n);
  entry.fleet.arm(entry.version + 1);
  entry.version = await changers.get(base)!.change();
  await entry.fleet.reached(AbortSignal.timeout(DEADLINE_MS));
  if (entry.fleet.lost > 0) throw new Error(`lost subscribers: ${entry.fleet.firstLoss}`);
}

for (const n of SIZES) {
  const group = `fan-out to ${n}`;
  Deno.bench({
    name: `bare Deno server, WebSocket, ${n}`,
    group,
    baseline: true,
    n: ITERATIONS,
    warmup: 3,
    fn: async () => await fanOut(servers.bare, "ws", n),
  });
  for (const transport of TRANSPORTS) {
    Deno.bench({
      name: `${LABELS[transport]}, ${n}`,
      group,
      n: ITERATIONS,
      warmup: 3,
      fn: async () => await fanOut(servers.ours, transport, n),
    });
  }
}
