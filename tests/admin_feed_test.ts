/**
 * GET /admin/feed in process: auth, the snapshot, product events and ticks on a fake clock, the
 * limit of open feeds, and what a feed that leaves, stops reading or is stopped leaves behind.
 */
import assert from "node:assert/strict";
import type { App } from "../lib/http/app.ts";
import { MAX_ADMIN_FEEDS } from "../lib/admin/admin_feed.ts";
import { Inventory } from "../lib/inventory/inventory.ts";
import { openMemoryStore } from "../lib/store/memory_store.ts";
import { type AdminFeedClient, readAdminFeed } from "./support/admin_feed.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { openOutageStore } from "./support/outage_store.ts";
import { within } from "./support/within.ts";
import { catalogEntries, productInfo } from "./support/products.ts";
import { DropQueues } from "../lib/queue/drop_queues.ts";
import { linesInMemory } from "../lib/queue/line_store.ts";
import { createTestApp } from "./support/server.ts";

const TOKEN = "admin-feed-token-0001";
const HOLD_TTL_MS = 15 * 60_000;
/** Half a second into a second, so that ticks fall on the next whole seconds. */
const START = Date.UTC(2026, 0, 1, 12) + 500;
const EVENT_STREAM = { accept: "text/event-stream" };
const BEARER = { authorization: `Bearer ${TOKEN}` };

/** The app with an admin token on a store in memory with two products, and its fake clock. */
async function openShop(overrides = {}) {
  const clock = new FakeClock(START);
  const store = openMemoryStore({ holdTtlMs: HOLD_TTL_MS, clock });
  const inventory = await Inventory.open(store, HOLD_TTL_MS);
  for (const entry of catalogEntries({ pin: 3, cap: 5 })) await inventory.list(entry);
  const app = await createTestApp(inventory, { adminToken: TOKEN, clock, ...overrides });
  return {
    clock,
    inventory,
    app,
    async [Symbol.asyncDispose]() {
      app.stop();
      await store.close();
    },
  };
}

function feedRequest(headers: Record<string, string> = { ...EVENT_STREAM, ...BEARER }): Request {
  return new Request("http://127.0.0.1:8000/admin/feed", { headers });
}

async function openFeed(app: App): Promise<AdminFeedClient> {
  const response = await app.handle(feedRequest());
  assert.equal(response.status, 200);
  return readAdminFeed(response);
}

async function add(app: App, product: string, session = crypto.randomUUID()): Promise<void> {
  const response = await app.handle(
    new Request("http://127.0.0.1:8000/cart", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ action: "add", session, product }),
    }),
  );
  assert.equal(response.status, 200, await response.text());
}

Deno.test("the feed wants the admin token and an event stream", async () => {
  await using shop = await openShop();
  const missing = await shop.app.handle(feedRequest(EVENT_STREAM));
  assert.equal(missing.status, 401);
  assert.match(missing.headers.get("www-authenticate") ?? "", /^Bearer/);
  assert.equal(typeof (await missing.json()).error, "string");
  const wrong = await shop.app.handle(
    feedRequest({ ...EVENT_STREAM, authorization: `Bearer ${TOKEN}x` }),
  );
  assert.equal(wrong.status, 403);
  await wrong.body?.cancel();
  const plain = await shop.app.handle(feedRequest(BEARER));
  assert.equal(plain.status, 406);
  await plain.body?.cancel();

  const response = await shop.app.handle(feedRequest());
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(response.headers.get("cache-control"), "no-store");
  await using feed = readAdminFeed(response);
  await feed.next("snapshot");
  assert.equal(feed.events[0].name, "snapshot", "the snapshot comes first");
});

Deno.test("without an admin token the feed does not exist", async () => {
  await using shop = await openShop({ adminToken: undefined });
  const response = await shop.app.handle(feedRequest());
  assert.equal(response.status, 404);
  await response.body?.cancel();
});

Deno.test("the snapshot has the process, the products, the watchers, the store and the last hour", async () => {
  await using shop = await openShop();
  await add(shop.app, "pin");
  await add(shop.app, "pin");
  shop.clock.advance(1_000);
  await add(shop.app, "cap");
  shop.clock.advance(1_000);

  await using feed = await openFeed(shop.app);
  const { data } = await feed.next("snapshot");
  assert.match(data.process, /^pid-\d+-[0-9a-f]{6}$/);
  assert.equal(data.startedAt, START);
  assert.equal(data.restartsWithProcess, true);
  assert.deepEqual(
    data.products.map((p: Record<string, unknown>) => [p.id, p.total, p.held, p.sold, p.version]),
    [["pin", 3, 2, 0, 2], ["cap", 5, 1, 0, 1]],
  );
  assert.equal(data.products[0].inventoryCount, 1);
  assert.equal(data.products[0].retired, false);
  assert.deepEqual(data.watchers, {
    processes: [{ process: data.process, websocket: 0, sse: 0, longPoll: 0, at: START + 2_000 }],
    total: { websocket: 0, sse: 0, longPoll: 0 },
  });
  assert.deepEqual(data.store, { kind: "memory", reachable: true, lastError: null });

  const { activity } = data;
  const now = START + 2_000;
  assert.equal(activity.stepMs, 1_000);
  assert.equal(activity.start, Math.floor(now / 1_000) * 1_000 - 3_600_000);
  for (const series of ["holds", "releases", "sales", "watchers"]) {
    assert.equal(activity[series].length, 3_600, series);
  }
  assert.deepEqual(activity.holds.slice(-2), [2, 1]);
  assert.equal(activity.holds.reduce((a: number, b: number) => a + b), 3);
  assert.equal(activity.releases.reduce((a: number, b: number) => a + b), 0);
  assert.equal(activity.watchers.every((sample: unknown) => sample === null), true);
});

Deno.test("a change is a product event at once; the tick after its second counts it", async () => {
  await using shop = await openShop();
  await using feed = await openFeed(shop.app);
  const snapshot = (await feed.next("snapshot")).data;
  const session = crypto.randomUUID();
  await add(shop.app, "pin", session);
  const product = await feed.next("product");
  assert.deepEqual([product.data.id, product.data.held, product.data.version], ["pin", 1, 1]);

  shop.clock.advance(500);
  const tick = await feed.next("tick");
  const second = START - 500;
  assert.equal(tick.data.at, second);
  assert.equal(tick.data.at, snapshot.activity.start + 3_600_000, "the tick follows the history");
  assert.deepEqual([tick.data.holds, tick.data.releases, tick.data.sales], [1, 0, 0]);
  assert.deepEqual(tick.data.watchers.total, { websocket: 0, sse: 0, longPoll: 0 });
  assert.deepEqual(tick.data.store, { kind: "memory", reachable: true, lastError: null });

  const removed = await shop.app.handle(
    new Request("http://127.0.0.1:8000/cart", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ action: "remove", session, product: "pin" }),
    }),
  );
  assert.equal(removed.status, 200);
  await removed.body?.cancel();
  await feed.next("product", (data) => data.held === 0);
  shop.clock.advance(1_000);
  const next = await feed.next("tick", (data) => data.at === second + 1_000);
  assert.deepEqual([next.data.holds, next.data.releases, next.data.sales], [0, 1, 0]);
});

Deno.test("a drop's status is in the snapshot, and each change of it is a drop event", async () => {
  const clock = new FakeClock(START);
  const store = openMemoryStore({ holdTtlMs: HOLD_TTL_MS, clock });
  const inventory = await Inventory.open(store, HOLD_TTL_MS);
  const opensAt = new Date(START + 60_000).toISOString();
  await inventory.list({ info: productInfo("drop", { opensAt }), total: 3 });
  for (const entry of catalogEntries({ pin: 3 })) await inventory.list(entry);
  const drops = await DropQueues.open(inventory, linesInMemory(), {
    windowMs: 120_000,
    admitRate: 20,
    admissionTtlMs: 60_000,
    maxTicketsPerClient: 0,
  }, clock);
  const app = await createTestApp(inventory, { adminToken: TOKEN, clock, drops });
  try {
    await using feed = await openFeed(app);
    const snapshot = (await feed.next("snapshot")).data;
    assert.deepEqual(snapshot.drops.map((d: { product: string }) => d.product), ["drop"]);
    assert.equal(snapshot.products.find((p: { id: string }) => p.id === "drop").opensAt, opensAt);
    const before = snapshot.drops[0];
    assert.deepEqual([before.admitRate, before.paused], [20, false]);

    const control = await app.handle(
      new Request("http://127.0.0.1:8000/admin/products/drop/queue", {
        method: "POST",
        headers: { ...BEARER, "content-type": "application/json" },
        body: JSON.stringify({ admitRate: 3, paused: true }),
      }),
    );
    assert.equal(control.status, 200);
    const answered = await control.json();
    const event = await feed.next("drop", (data) => data.paused === true);
    assert.deepEqual(event.data, answered, "the feed tells what /queue/status tells");
    assert.equal(event.data.admitRate, 3);

    // A restock changes the drop's free units: a drop event says so too.
    await inventory.restock("drop", 7);
    await feed.next("drop", (data) => data.free === 7 && data.version > event.data.version);
  } finally {
    app.stop();
    await drops.close();
    await store.close();
  }
});

Deno.test("a store that cannot be reached shows in the tick, and the ticks go on", async () => {
  const clock = new FakeClock(START);
  const store = openOutageStore(HOLD_TTL_MS);
  const inventory = await Inventory.open(store, HOLD_TTL_MS);
  const app = await createTestApp(inventory, { adminToken: TOKEN, clock });
  try {
    await using feed = await openFeed(app);
    // A tick finds room only in a feed whose client has read what came before it.
    await feed.next("snapshot");
    store.cutOff();
    clock.advance(500);
    const tick = await feed.next("tick");
    assert.equal(tick.data.store.reachable, false);
    assert.equal(tick.data.store.lastError, "The test cut the store off");
    store.restore();
    clock.advance(1_000);
    await feed.next("tick", (data) => data.store.reachable);
  } finally {
    app.stop();
    await store.close();
  }
});

Deno.test("a feed that leaves takes its timer and its place with it", async () => {
  await using shop = await openShop();
  const idle = shop.clock.pendingTimers;
  const feeds = [];
  for (let i = 0; i < MAX_ADMIN_FEEDS; i++) feeds.push(await openFeed(shop.app));
  assert.equal(shop.clock.pendingTimers, idle + 1, "one tick timer for every feed");
  const refused = await shop.app.handle(feedRequest());
  assert.equal(refused.status, 503);
  assert.ok(Number(refused.headers.get("retry-after")) > 0);
  assert.match((await refused.json()).error, /At most 20 admin feeds/);

  for (const feed of feeds) await feed[Symbol.asyncDispose]();
  assert.equal(shop.clock.pendingTimers, idle, "no timer is left");
  shop.clock.advance(10_000);
  const again = [];
  for (let i = 0; i < MAX_ADMIN_FEEDS; i++) again.push(await openFeed(shop.app));
  for (const feed of again) await feed[Symbol.asyncDispose]();
  assert.equal(shop.clock.pendingTimers, idle);
});

Deno.test("a feed that stops reading is ended after a heartbeat's time", async () => {
  await using shop = await openShop({ sseHeartbeatMs: 3_000 });
  const idle = shop.clock.pendingTimers;
  const response = await shop.app.handle(feedRequest());
  assert.equal(shop.clock.pendingTimers, idle + 1);
  shop.clock.advance(3_000);
  assert.equal(shop.clock.pendingTimers, idle, "the ended feed's timer is gone");
  await within(assert.rejects(response.text()), "the end of the feed that stopped reading");
});

Deno.test("stopping the app ends every feed, and refuses new ones", async () => {
  await using shop = await openShop();
  await using feed = await openFeed(shop.app);
  await feed.next("snapshot");
  const idle = shop.clock.pendingTimers;
  shop.app.stop();
  await within(feed.ended, "the end of the feed at the stop");
  assert.equal(shop.clock.pendingTimers, idle - 1);
  const late = await shop.app.handle(feedRequest());
  assert.equal(late.status, 503);
  await late.body?.cancel();
});
