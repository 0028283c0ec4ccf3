/**
 * Requests handed to the app in process, with no socket: what our layers cost against the handler
 * of bench/bare_server.ts doing the same job. The server's figures (bench/ratios.ts) add Deno's
 * HTTP and the kernel, the same for both.
 *
 * - `POST /cart`: route, size and origin checks, body read under its deadline, form, UUID, store
 *   decision, news, metrics, JSON answer; against reading the body and answering JSON.
 * - long polls: 5,000 waiting (500 in quick mode), one change, until the last is answered;
 *   against the bare handler with its housekeeping, whose long polls follow `request.signal` as
 *   ours do. Each iteration waits 50 ms before its change (not timed).
 */
import { createBareHandler } from "./bare_server.ts";
import { systemClock } from "../lib/time/clock.ts";
import { Inventory } from "../lib/inventory/inventory.ts";
import { openMemoryStore } from "../lib/store/memory_store.ts";
import { createTestApp } from "../tests/support/server.ts";
import { catalogEntries } from "../tests/support/products.ts";

/** Sessions taken in turn, each one's requests alternating add and remove (bench/post_cart.lua). */
const POOL = 64;
const HOLD_TTL_MS = 15 * 60_000;
const FORM = "application/x-www-form-urlencoded";

const store = openMemoryStore({ holdTtlMs: HOLD_TTL_MS, clock: systemClock });
const inventory = await Inventory.open(store, HOLD_TTL_MS);
for (const entry of catalogEntries({ print: 1_000_000 })) await inventory.list(entry);
// In process every add has the one key "unknown": the per-address limit of holds would refuse them.
const app = await createTestApp(inventory, { pollTimeoutMs: 600_000, maxHoldsPerClient: 0 });

/** BENCH_QUICK=1 (CI) opens fewer long polls. */
const POLLS = Deno.env.get("BENCH_QUICK") === "1" ? 500 : 5_000;

const sessions = Array.from({ length: POOL }, () => crypto.randomUUID());
let sent = 0;

/** The next request of the toggle: add, then remove, for each session in turn. */
function nextRequest(): Request {
  const action = Math.floor(sent / POOL) % 2 === 1 ? "remove" : "add";
  const session = sessions[sent % POOL];
  sent++;
  const body = `action=${action}&session=${session}`;
  // With its length declared, as a browser's or wrk's request has it (the body is read in one go).
  return new Request("http://127.0.0.1:8000/cart", {
    method: "POST",
    headers: { "content-type": FORM, "content-length": String(body.length) },
    body,
  });
}

const bare = await createBareHandler();
// With its housekeeping, the long polls follow request.signal as ours do.
const bareKeeping = await createBareHandler({ housekeeping: true });
/** A change of the bare count. */
const BARE_ADD: RequestInit = { method: "POST", body: "action=add" };

const group = "POST /cart in process (toggle of 64 sessions)";

Deno.bench({
  name: "bare handler (bench/bare_server.ts)",
  group,
  baseline: true,
  async fn() {
    const response = await bare.handle(nextRequest());
    if (response.status !== 200) throw new Error(`bare answered ${response.status}`);
  },
});

Deno.bench({
  name: "our app.handle",
  group,
  async fn() {
    const response = await app.handle(nextRequest());
    if (response.status !== 200) throw new Error(`ours answered ${response.status}`);
  },
});

/** Opens `POLLS` long polls, then times one change until the last of them is answered. */
async function answerPolls(
  b: Deno.BenchContext,
  open: () => Promise<Response>,
  waiting: () => number,
  change: () => unknown,
): Promise<void> {
  const polls = Array.from({ length: POLLS }, open);
  if (waiting() !== POLLS) throw new Error(`${waiting()} of ${POLLS} long polls are waiting`);
  // Changes come apart, as in bench/ratios.ts: our poll gate, which spaces the passes of changes
  // that come back to back (docs/architecture.md), has let the last pass go.
  await new Promise((resolve) => setTimeout(resolve, 50));
  b.start();
  await change();
  const answers = await Promise.all(polls);
  b.end();
  if (answers.some((answer) => answer.status !== 200)) throw new Error("a long poll failed");
}

const pollGroup = `${POLLS} long polls answered by one change`;
const shopper = crypto.randomUUID();
let changes = 0;

Deno.bench({
  name: "bare handler, with housekeeping",
  group: pollGroup,
  baseline: true,
  n: 40,
  warmup: 5,
  async fn(b) {
    await answerPolls(
      b,
      () =>
        bareKeeping.handle(
          new Request(`http://127.0.0.1:8000/cart/status?since=${bareKeeping.version}`),
        ),
      () => bareKeeping.waiting,
      () => bareKeeping.handle(new Request("http://127.0.0.1:8000/cart", BARE_ADD)),
    );
  },
});

Deno.bench({
  name: "our app.handle",
  group: pollGroup,
  n: 40,
  warmup: 5,
  async fn(b) {
    const since = `${inventory.epoch}.${inventory.get("print")!.version}`;
    await answerPolls(
      b,
      () => app.handle(new Request(`http://127.0.0.1:8000/cart/status?since=${since}`)),
      () => app.gauges().longPollWaiters,
      () =>
        changes++ % 2 === 0 ? inventory.add("print", shopper) : inventory.remove("print", shopper),
    );
  },
});
