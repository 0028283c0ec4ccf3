/**
 * Does a slow order service hold up the event loop? 50 checkouts wait 2 s each on a fake order
 * service while 5,000 WebSockets watch: `/healthz` latency and a change's time to the last
 * subscriber, against the same figures with no checkout running, as ratios, in one run.
 *
 *     deno run -A bench/checkout_event_loop.ts                  # ~1 min
 *     deno run -A bench/checkout_event_loop.ts --rounds 2 --subscribers 1000
 */
import { parseArgs } from "node:util";
import { withoutSeparator } from "../lib/server/config.ts";
import { postCart } from "../tests/support/clients.ts";
import { Fleet, wallClock } from "../tests/support/fleet.ts";
import { type FakeOrderService, startOrderService } from "../tests/support/order_service.ts";
import { RawHttpConnection } from "../tests/support/raw_http.ts";
import { type ChildServer, spawnServer } from "../tests/support/server.ts";
import { CartChanger } from "./cart_changer.ts";
import { percentile } from "./siege.ts";

const { values } = parseArgs({
  args: withoutSeparator(Deno.args),
  options: {
    rounds: { type: "string", default: "10" },
    subscribers: { type: "string", default: "5000" },
    checkouts: { type: "string", default: "50" },
  },
});
const ROUNDS = Number(values.rounds);
const SUBSCRIBERS = Number(values.subscribers);
const CHECKOUTS = Number(values.checkouts);
if (
  ![ROUNDS, SUBSCRIBERS, CHECKOUTS].every(Number.isSafeInteger) || ROUNDS < 1 || ROUNDS > 20 ||
  SUBSCRIBERS < 1 || SUBSCRIBERS > 10_000 || CHECKOUTS < 1 || CHECKOUTS > 200
) {
  console.error("usage: checkout_event_loop.ts [--rounds 1..20] [--subscribers N] [--checkouts N]");
  Deno.exit(2);
}

/** How long the fake order service takes over each answer. */
const ANSWER_MS = 2_000;
/** Measuring stops this long before the first answer is due, so that no sale falls inside. */
const MARGIN_MS = 250;
/** The baseline's window: about as long as the slow one. */
const BASELINE_MS = ANSWER_MS - MARGIN_MS;
const HEALTH_PROBE_MS = 10;
/** A pause between two measured changes, so that each one's push is over before the next. */
const CHANGE_GAP_MS = 20;
const SECRET = `whsec_${btoa("bench-secret-0123456789")}`;
/** The whole run ends by then, whatever happens. */
const whole = AbortSignal.timeout(180_000);
whole.addEventListener("abort", () => {
  console.error("the bench took longer than 180 s; giving up");
  Deno.exit(1);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What one window measured, in ms. */
interface Samples {
  health: number[];
  lastSubscriber: number[];
}

/** The running parts a window measures with. */
interface Rig {
  readonly service: FakeOrderService;
  readonly server: ChildServer;
  readonly fleet: Fleet;
  readonly changer: CartChanger;
  readonly probe: RawHttpConnection;
  /** The newest version any answer or subscriber has shown. */
  version: number;
}

/** Probes `/healthz` and makes changes one at a time until the window closes. */
async function measure(rig: Rig, until: number): Promise<Samples> {
  const samples: Samples = { health: [], lastSubscriber: [] };
  const probing = (async () => {
    while (performance.now() < until) {
      const started = performance.now();
      const { status } = await rig.probe.send("GET", "/healthz");
      if (status !== 200) throw new Error(`/healthz answered ${status}`);
      samples.health.push(performance.now() - started);
      await sleep(HEALTH_PROBE_MS);
    }
  })();
  while (performance.now() < until) {
    rig.fleet.arm(rig.version + 1);
    const sent = wallClock();
    rig.version = Math.max(rig.version, await rig.changer.change());
    const reached = await rig.fleet.reached(AbortSignal.any([whole, AbortSignal.timeout(10_000)]));
    samples.lastSubscriber.push(reached - sent);
    await sleep(CHANGE_GAP_MS);
  }
  await probing;
  return samples;
}

/** Holds a unit for each of N shoppers, checks them all out at once, and measures meanwhile. */
async function measureDuringCheckouts(rig: Rig): Promise<Samples> {
  const { service, server, fleet } = rig;
  const sessions = Array.from({ length: CHECKOUTS }, () => crypto.randomUUID());
  for (const session of sessions) {
    rig.version = Math.max(rig.version, (await postCart(server.url, "add", session)).body.version);
  }
  fleet.arm(rig.version);
  await fleet.reached(whole);
  const first = service.requests.length;
  const checkouts = sessions.map((session) => postCart(server.url, "checkout", session));
  await service.arrived(first);
  const firstAt = performance.now();
  await service.arrived(first + CHECKOUTS - 1);
  const samples = await measure(rig, firstAt + ANSWER_MS - MARGIN_MS);
  const answers = await Promise.all(checkouts);
  const notSold = answers.filter((answer) => answer.status !== 200);
  if (notSold.length > 0) {
    throw new Error(`${notSold.length} checkouts failed: ${notSold[0].status}`);
  }
  // Every page has the last sale before the next window starts.
  rig.version = Math.max(rig.version, ...answers.map((answer) => answer.body.version));
  fleet.arm(rig.version);
  await fleet.reached(whole);
  return samples;
}

/** Starts everything, measures both kinds of window in turn, and reports. */
async function run(): Promise<string> {
  await using service = await startOrderService({
    secret: SECRET,
    otherwise: { status: 201, body: '{"status":"booked"}', delayMs: ANSWER_MS },
  });
  await using server = await spawnServer([
    // Every checkout comes from one address: the per-address limit of holds would refuse them.
    "--max-holds-per-client",
    "0",
    "--inventory",
    String(ROUNDS * CHECKOUTS + 10),
    "--order-webhook",
    service.url,
    "--webhook-secret",
    SECRET,
    "--webhook-timeout",
    "10",
  ]);
  const base = new URL(server.url);
  const fleet = new Fleet();
  try {
    const opened = await fleet.open(base, "ws", SUBSCRIBERS, 256, whole);
    if (opened.opened !== SUBSCRIBERS) {
      throw new Error(`${opened.failed} subscribers failed to open: ${opened.firstError}`);
    }
    console.log(`${SUBSCRIBERS} WebSockets open in ${Math.round(opened.ms)} ms`);
    const changer = await CartChanger.open(base);
    const probe = await RawHttpConnection.open(base);
    const rig: Rig = { service, server, fleet, changer, probe, version: fleet.newest() };

    const idle: Samples = { health: [], lastSubscriber: [] };
    const busy: Samples = { health: [], lastSubscriber: [] };
    for (let round = 0; round < ROUNDS; round++) {
      // Which window goes first alternates, so that neither always follows the other's pushes.
      let quiet: Samples, slow: Samples;
      if (round % 2 === 0) {
        quiet = await measure(rig, performance.now() + BASELINE_MS);
        slow = await measureDuringCheckouts(rig);
      } else {
        slow = await measureDuringCheckouts(rig);
        quiet = await measure(rig, performance.now() + BASELINE_MS);
      }
      for (const [all, one] of [[idle, quiet], [busy, slow]]) {
        all.health.push(...one.health);
        all.lastSubscriber.push(...one.lastSubscriber);
      }
      const changes = `${quiet.lastSubscriber.length} + ${slow.lastSubscriber.length} changes`;
      const probes = `${quiet.health.length} + ${slow.health.length} probes`;
      console.log(`round ${round + 1}: ${changes}, ${probes}`);
    }
    await changer.release();
    changer.close();
    probe.close();

    const sorted = (values: number[]) => new Float64Array(values).sort();
    const ms = (value: number) => `${value.toFixed(1)} ms`;
    const rows: string[][] = [];
    const figures = [["GET /healthz", "health"], ["change → last subscriber", "lastSubscriber"]];
    for (const [name, key] of figures as [string, keyof Samples][]) {
      const quiet = sorted(idle[key]);
      const slow = sorted(busy[key]);
      for (const p of [0.5, 0.99]) {
        const a = percentile(quiet, p);
        const b = percentile(slow, p);
        rows.push([`${name} p${p * 100}`, ms(a), ms(b), `${(b / a).toFixed(2)}×`]);
      }
      rows.push([`${name} samples`, String(quiet.length), String(slow.length), ""]);
    }
    const sold = service.booked.size;
    return (
      [
        "",
        `| figure | no checkout | ${CHECKOUTS} checkouts waiting ${ANSWER_MS / 1000} s | ratio |`,
        "| --- | --- | --- | --- |",
        ...rows.map((row) => `| ${row.join(" | ")} |`),
        "",
        `${SUBSCRIBERS} WebSockets, ${ROUNDS} rounds; ${sold} units sold by ${service.requests.length} ` +
        `order calls; ${fleet.lost} subscribers lost, ${fleet.duplicates} duplicated updates.`,
      ].join("\n")
    );
  } finally {
    fleet.close();
  }
}

console.log(await run());
// Client sockets still closing would keep the process alive; everything is reported by now.
Deno.exit(0);
