/** The waiting room over HTTP, in process on the fake clock: each phase's answers, the draw, the admissions. */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import type { App } from "../lib/http/app.ts";
import { Inventory } from "../lib/inventory/inventory.ts";
import { DropQueues } from "../lib/queue/drop_queues.ts";
import type { DropSettings } from "../lib/queue/drops.ts";
import { linesInMemory } from "../lib/queue/line_store.ts";
import type { JoinChallengeJson } from "../lib/queue/join_challenge.ts";
import { altchaPayload, solveChallenge } from "../static/altcha_solver.js";
import { openMemoryStore } from "../lib/store/memory_store.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { productInfo } from "./support/products.ts";
import { createTestApp } from "./support/server.ts";

const DROP = "drop";
const PLAIN = "plain";
const WINDOW_MS = 60_000;
const TO_OPENING_MS = 120_000;

interface Shop extends AsyncDisposable {
  readonly app: App;
  readonly clock: FakeClock;
  readonly drops: DropQueues;
  readonly inventory: Inventory;
  readonly opensAt: string;
  /** Waits until every operation of the drop's line has run, then returns its status. */
  settled(): Promise<Record<string, unknown>>;
}

async function openShop(total: number, settings: Partial<DropSettings> = {}): Promise<Shop> {
  const clock = new FakeClock();
  const opensAt = new Date(clock.now() + TO_OPENING_MS).toISOString();
  const store = openMemoryStore({ holdTtlMs: 600_000, clock });
  const inventory = await Inventory.open(store, 600_000);
  await inventory.list({ info: productInfo(DROP, { opensAt }), total });
  await inventory.list({ info: productInfo(PLAIN), total: 5 });
  const drops = await DropQueues.open(inventory, linesInMemory(), {
    windowMs: WINDOW_MS,
    admitRate: 20,
    admissionTtlMs: 30_000,
    maxTicketsPerClient: 0,
    ...settings,
  }, clock);
  const app = await createTestApp(inventory, { clock, drops });
  return {
    app,
    clock,
    drops,
    inventory,
    opensAt,
    async settled() {
      await drops.control(DROP, {});
      return JSON.parse(JSON.stringify(drops.status(DROP)));
    },
    async [Symbol.asyncDispose]() {
      app.stop();
      await drops.close();
      await store.close();
    },
  };
}

function post(path: string, body: Record<string, string>, session?: string): Request {
  return new Request(`http://localhost${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(session === undefined ? {} : { cookie: `sid=${session}` }),
    },
    body: JSON.stringify(body),
  });
}

function get(path: string, session?: string): Request {
  return new Request(`http://localhost${path}`, {
    headers: session === undefined ? {} : { cookie: `sid=${session}` },
  });
}

async function answer(app: App, request: Request): Promise<[number, Record<string, unknown>]> {
  const response = await app.handle(request);
  return [response.status, await response.json()];
}

const join = (shop: Shop, session: string, product = DROP) =>
  answer(shop.app, post("/queue", { product }, session));
const add = (shop: Shop, session: string, product = DROP) =>
  answer(shop.app, post("/cart", { action: "add", product }, session));
const turn = async (shop: Shop, session: string) =>
  (await answer(shop.app, get(`/queue?product=${DROP}`, session)))[1];

Deno.test("before the window: no queue, no add, the opening and no commitment", async () => {
  await using shop = await openShop(3);
  const session = crypto.randomUUID();
  const status = await shop.settled();
  assert.equal(status.phase, "before");
  assert.equal(status.commitment, null);
  assert.equal(status.opensAt, shop.opensAt);
  assert.deepEqual(await join(shop, session), [409, {
    error: `The queue for "${DROP}" is not open yet`,
    opensAt: shop.opensAt,
  }]);
  const [status409, body] = await add(shop, session);
  assert.equal(status409, 409);
  assert.equal(body.opensAt, shop.opensAt);
  assert.match(String(body.error), /goes on sale at/);
  assert.equal(shop.inventory.get(DROP)!.held, 0);
});

Deno.test("queueing: one ticket per session, no number yet, the commitment published", async () => {
  await using shop = await openShop(3);
  shop.clock.advance(TO_OPENING_MS - WINDOW_MS);
  const status = await shop.settled();
  assert.equal(status.phase, "queueing");
  assert.match(String(status.commitment), /^[0-9a-f]{64}$/);
  assert.equal(status.seed, null);

  const session = crypto.randomUUID();
  const [code, first] = await join(shop, session);
  assert.equal(code, 200);
  assert.equal(first.number, null);
  assert.equal(first.drawAt, shop.opensAt);
  assert.match(String(first.ticket), /^[0-9a-f-]{36}$/);
  assert.deepEqual(await join(shop, session), [200, first], "joining again gives the same ticket");
  assert.deepEqual(await turn(shop, session), {
    product: DROP,
    ticket: first.ticket,
    number: null,
    admitted: false,
    admissionExpiresAt: null,
  });
  assert.equal((await shop.settled()).queued, 1);
  const [drawCode, draw] = await answer(shop.app, get(`/queue/draw?product=${DROP}`));
  assert.deepEqual([drawCode, draw.drawAt], [409, shop.opensAt]);
  assert.equal((await add(shop, session))[0], 409, "no add before the opening");
});

Deno.test("the draw numbers the window's tickets by HMAC, anyone can check it, later ones follow", async () => {
  await using shop = await openShop(2);
  shop.clock.advance(TO_OPENING_MS - WINDOW_MS);
  const sessions = Array.from({ length: 6 }, () => crypto.randomUUID());
  const tickets: string[] = [];
  for (const session of sessions) tickets.push(String((await join(shop, session))[1].ticket));
  shop.clock.advance(WINDOW_MS);
  const status = await shop.settled();
  assert.equal(status.phase, "open");

  const [code, draw] = await answer(shop.app, get(`/queue/draw?product=${DROP}`));
  assert.equal(code, 200);
  const seed = Buffer.from(String(draw.seed), "hex");
  assert.equal(draw.seed, status.seed);
  assert.equal(createHash("sha256").update(seed).digest("hex"), draw.commitment);
  const mac = (ticket: string) => createHmac("sha256", seed).update(ticket).digest("hex");
  const order = [...tickets].sort((a, b) => mac(a) < mac(b) ? -1 : 1);
  const sha = (text: string) => createHash("sha256").update(text).digest("hex");
  assert.deepEqual(draw.order, order.map(sha));
  assert.deepEqual(draw.macs, order.map(mac), "each ticket's HMAC, ascending");
  for (const [i, session] of sessions.entries()) {
    assert.equal((await turn(shop, session)).number, order.indexOf(tickets[i]) + 1);
  }

  const late = crypto.randomUUID();
  const [, lateTicket] = await join(shop, late);
  assert.equal(lateTicket.number, 7);
  const [, again] = await answer(shop.app, get(`/queue/draw?product=${DROP}`));
  assert.equal((again.order as string[]).at(-1), sha(String(lateTicket.ticket)));
});

Deno.test("admissions follow the numbers against the free units; an add uses one; expiry moves on", async () => {
  await using shop = await openShop(2, { admitRate: 20, admissionTtlMs: 30_000 });
  shop.clock.advance(TO_OPENING_MS - WINDOW_MS);
  const sessions = Array.from({ length: 5 }, () => crypto.randomUUID());
  for (const session of sessions) await join(shop, session);
  shop.clock.advance(WINDOW_MS);
  let status = await shop.settled();
  assert.equal(status.servingUpTo, 2, "two units, two admissions");
  const byNumber = new Map<number, string>();
  for (const session of sessions) byNumber.set(Number((await turn(shop, session)).number), session);

  const third = byNumber.get(3)!;
  const [refusedCode, refused] = await add(shop, third);
  assert.deepEqual([refusedCode, refused.error], [
    409,
    "It is not your turn yet: join the queue and wait for your number",
  ]);
  const first = byNumber.get(1)!;
  const admission = await turn(shop, first);
  assert.equal(admission.admitted, true);
  assert.equal(admission.admissionExpiresAt, new Date(shop.clock.now() + 30_000).toISOString());
  assert.equal((await add(shop, first))[0], 200);
  assert.equal((await turn(shop, first)).admitted, false, "the add used the admission");
  assert.equal((await add(shop, first))[0], 200, "adding again keeps the hold");
  status = await shop.settled();
  assert.deepEqual([status.servingUpTo, status.free, status.held], [2, 1, 1]);

  // Number 2 never adds: its admission ends and number 3 gets the unit's turn.
  shop.clock.advance(30_000);
  status = await shop.settled();
  assert.equal(status.servingUpTo, 3);
  assert.equal((await turn(shop, byNumber.get(2)!)).admitted, false);
  assert.equal((await add(shop, byNumber.get(2)!))[0], 409);
  assert.equal((await add(shop, third))[0], 200);

  // Both units held, none free: nobody else is admitted until one comes back.
  shop.clock.advance(30_000);
  assert.equal((await shop.settled()).servingUpTo, 3);
  await answer(shop.app, post("/cart", { action: "remove", product: DROP }, first));
  assert.equal((await shop.settled()).servingUpTo, 4, "a unit put back admits the next");
});

Deno.test("the admit rate caps admissions a second, and the owner's rate and pause take over", async () => {
  await using shop = await openShop(10, { admitRate: 2 });
  shop.clock.advance(TO_OPENING_MS - WINDOW_MS);
  for (let i = 0; i < 8; i++) await join(shop, crypto.randomUUID());
  shop.clock.advance(WINDOW_MS);
  assert.equal((await shop.settled()).servingUpTo, 2);
  shop.clock.advance(999);
  assert.equal((await shop.settled()).servingUpTo, 2);
  shop.clock.advance(1);
  assert.equal((await shop.settled()).servingUpTo, 4);
  await shop.drops.control(DROP, { paused: true });
  shop.clock.advance(5_000);
  const paused = await shop.settled();
  assert.deepEqual([paused.servingUpTo, paused.paused], [4, true]);
  await shop.drops.control(DROP, { paused: false, admitRate: 3 });
  const resumed = await shop.settled();
  assert.deepEqual([resumed.servingUpTo, resumed.admitRate], [7, 3]);
});

Deno.test("sold out closes the queue and says so", async () => {
  await using shop = await openShop(1);
  shop.clock.advance(TO_OPENING_MS - WINDOW_MS);
  const buyer = crypto.randomUUID();
  await join(shop, buyer);
  shop.clock.advance(WINDOW_MS);
  await shop.settled();
  assert.equal((await add(shop, buyer))[0], 200);
  const held = await shop.settled();
  assert.deepEqual([held.phase, held.free, held.held], ["open", 0, 1], "a hold may come back");
  assert.equal(
    (await answer(shop.app, post("/cart", { action: "checkout", product: DROP }, buyer)))[0],
    200,
  );
  assert.equal((await shop.settled()).phase, "soldOut");
  const [code, body] = await join(shop, crypto.randomUUID());
  assert.deepEqual([code, body.error], [409, `"${DROP}" is sold out`]);
});

Deno.test("bad queue requests get clear errors and change nothing", async () => {
  await using shop = await openShop(3, { maxTicketsPerClient: 2 });
  shop.clock.advance(TO_OPENING_MS - WINDOW_MS);
  const session = crypto.randomUUID();
  assert.deepEqual(await join(shop, session, PLAIN), [409, {
    error: `"${PLAIN}" has no waiting room: add it to the cart`,
  }]);
  assert.deepEqual(await join(shop, session, "nothing"), [404, {
    error: 'No product "nothing" is on sale',
  }]);
  assert.deepEqual(
    await answer(shop.app, post("/queue", { product: DROP, session: "not-a-uuid" })),
    [400, {
      error: "Session must be a UUID",
    }],
  );
  assert.deepEqual(await answer(shop.app, post("/queue", { product: DROP })), [400, {
    error: "Session is missing",
  }]);
  assert.deepEqual(await answer(shop.app, get(`/queue?product=${PLAIN}`, session)), [404, {
    error: `"${PLAIN}" has no waiting room`,
  }]);
  assert.deepEqual(await answer(shop.app, get(`/queue/status?product=${PLAIN}`)), [404, {
    error: `"${PLAIN}" has no waiting room`,
  }]);
  // Every in-process request comes from one address: its third ticket is one too many.
  assert.equal((await join(shop, crypto.randomUUID()))[0], 200);
  assert.equal((await join(shop, crypto.randomUUID()))[0], 200);
  assert.deepEqual(await join(shop, crypto.randomUUID()), [429, {
    error: "Too many tickets for this drop from your address",
  }]);
  assert.equal((await shop.settled()).queued, 2);
  assert.equal((await add(shop, session, PLAIN))[0], 200, "a product without a drop sells as ever");
});

Deno.test("with --queue-challenge a new ticket needs a solved challenge; the one a session has does not", async () => {
  const clock = new FakeClock();
  const opensAt = new Date(clock.now() + TO_OPENING_MS).toISOString();
  const store = openMemoryStore({ holdTtlMs: 600_000, clock });
  const inventory = await Inventory.open(store, 600_000);
  await inventory.list({ info: productInfo(DROP, { opensAt }), total: 1 });
  const drops = await DropQueues.open(inventory, linesInMemory(), {
    windowMs: WINDOW_MS,
    admitRate: 20,
    admissionTtlMs: 30_000,
    maxTicketsPerClient: 0,
  }, clock);
  const app = await createTestApp(inventory, { clock, drops, queueChallenge: 2_000 });
  try {
    clock.advance(TO_OPENING_MS - WINDOW_MS);
    const session = crypto.randomUUID();
    const [refusedCode, refused] = await answer(app, post("/queue", { product: DROP }, session));
    assert.deepEqual([refusedCode, refused.error], [
      403,
      "The browser check is missing or wrong: solve a new one and join again",
    ]);
    const [code, challenge] = await answer(app, get("/queue/challenge"));
    assert.equal(code, 200);
    assert.equal(challenge.maxnumber, 2_000);
    const solution = await solveChallenge(challenge as unknown as JoinChallengeJson);
    assert.notEqual(solution, null);
    const altcha = altchaPayload(challenge as unknown as JoinChallengeJson, solution!);
    const [joinedCode, joined] = await answer(
      app,
      post("/queue", { product: DROP, altcha }, session),
    );
    assert.equal(joinedCode, 200);
    assert.deepEqual(await answer(app, post("/queue", { product: DROP }, session)), [200, joined]);
    const other = crypto.randomUUID();
    const [replayCode] = await answer(app, post("/queue", { product: DROP, altcha }, other));
    assert.equal(replayCode, 403, "a solution serves once");
    assert.equal(drops.status(DROP)!.queued, 1);
  } finally {
    app.stop();
    await drops.close();
    await store.close();
  }
});

Deno.test("without --queue-challenge there is no challenge to fetch", async () => {
  await using shop = await openShop(1);
  assert.deepEqual(await answer(shop.app, get("/queue/challenge")), [404, {
    error: "Joining needs no challenge",
  }]);
});
