/** The order log: every checkout outcome once per change of status, kept where the shop is, listed by GET /admin/orders. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { signedHeaders } from "../lib/orders/order_webhook.ts";
import { type OrderLog, orderLogInMemory } from "../lib/inventory/order_log.ts";
import { openKvOrderLog } from "../lib/store/kv_order_log.ts";
import { openRedisStore } from "../lib/store/redis_store.ts";
import { systemClock } from "../lib/time/clock.ts";
import { postCart } from "./support/clients.ts";
import { FakeClock } from "./support/fake_clock.ts";
import {
  type FakeOrderService,
  startOrderService,
  webhookSecret,
} from "./support/order_service.ts";
import { redisMissing, startRedis } from "./support/redis_server.ts";
import { sendToRedis } from "./support/redis_truth.ts";
import { createTestApp, DEMO, startTestServer } from "./support/server.ts";
import { openMemoryShop } from "./support/memory_shop.ts";
import { OrderHistory } from "../lib/inventory/order_history.ts";
import { StoreUnavailableError } from "../lib/inventory/store_port.ts";
import { openAdminFeed, readAdminFeed } from "./support/admin_feed.ts";
import { startFleet } from "./support/redis_fleet.ts";

const SECRET = webhookSecret("order-log-secret-0123456789");
const TOKEN = "orders-token-for-tests-0001";
const PAYMENT_MS = 15 * 60_000;
const TIME = "2026-12-06T03:00:00.000Z";

/** The last orders as `GET /admin/orders` lists them, with the bearer token. */
async function listedOrders(url: string): Promise<Record<string, unknown>[]> {
  const response = await fetch(new URL("admin/orders", url), {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  assert.equal(response.status, 200);
  return (await response.json()).orders;
}

/** Each entry's order id and status (and reason, where there is one), newest first. */
async function listedSteps(url: string): Promise<string[][]> {
  return (await listedOrders(url)).map((entry) =>
    [entry.orderId, entry.status, entry.reason].filter((field) => field !== undefined) as string[]
  );
}

/**
 * Adds a unit for a new shopper and checks it out; answers the checkout's status, and its order id
 * as the order service was sent it (a refusal's answer names none) or, in demo mode, as answered.
 */
async function buy(
  url: string,
  service?: FakeOrderService,
): Promise<{ status: number; orderId: string; session: string }> {
  const session = crypto.randomUUID();
  const added = await postCart(url, "add", session);
  assert.equal(added.status, 200, JSON.stringify(added.body));
  const calls = service?.requests.length ?? 0;
  const answer = await postCart(url, "checkout", session);
  const orderId = service === undefined
    ? String(answer.body.orderId)
    : JSON.parse((await service.arrived(calls)).body).orderId;
  return { status: answer.status, orderId, session };
}

/** Posts the order service's signed callback, as the service would. */
async function callback(url: string, orderId: string, how: "paid" | "cancelled") {
  const body = "{}";
  const response = await fetch(new URL(`orders/${orderId}/${how}`, url), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...signedHeaders(SECRET, `${orderId}.${how}`, body, Date.now()),
    },
    body,
  });
  await response.body?.cancel();
  return response.status;
}

Deno.test("sold, refused, 202 then paid or cancelled, and expired are listed in order, each change once", async () => {
  const clock = new FakeClock();
  await using service = await startOrderService({ secret: SECRET });
  await using server = await startTestServer({
    orderWebhook: { url: service.url, secret: SECRET },
    adminToken: TOKEN,
    paymentTimeoutMs: PAYMENT_MS,
  }, { clock });
  const toPay = (index: number) =>
    service.reply(index, {
      status: 202,
      body: JSON.stringify({ paymentUrl: `https://pay.example/${index}` }),
    });

  const unauthorized = await fetch(new URL("admin/orders", server.url));
  await unauthorized.body?.cancel();
  assert.equal(unauthorized.status, 401);
  assert.deepEqual(await listedOrders(server.url), []);

  const sold = await buy(server.url, service); // request 0: the fake's 201
  assert.equal(sold.status, 200);
  service.reply(1, { status: 422, body: JSON.stringify({ error: "Card declined" }) });
  const refused = await buy(server.url, service);
  assert.equal(refused.status, 402);
  // The shopper tries again: the service refuses the same order again, not a change.
  assert.equal((await postCart(server.url, "checkout", refused.session)).status, 402);
  toPay(3);
  const paid = await buy(server.url, service);
  assert.equal(paid.status, 202);
  assert.equal(await callback(server.url, paid.orderId, "paid"), 200);
  // Asked again, and the shopper's next checkout: the same answers, nothing new to list.
  assert.equal(await callback(server.url, paid.orderId, "paid"), 200);
  assert.equal((await postCart(server.url, "checkout", paid.session)).status, 200);
  toPay(4);
  const cancelled = await buy(server.url, service);
  assert.equal(await callback(server.url, cancelled.orderId, "cancelled"), 200);
  toPay(5);
  const expired = await buy(server.url, service);
  const payBy = new Date(clock.now() + PAYMENT_MS).toISOString();
  clock.advance(PAYMENT_MS);
  // The expiry writes its ending before it tells the service (request 6: `order.expired`).
  assert.equal(JSON.parse((await service.arrived(6)).body).type, "order.expired");

  assert.deepEqual(await listedSteps(server.url), [
    [expired.orderId, "expired", `not paid by ${payBy}`],
    [expired.orderId, "awaiting payment"],
    [cancelled.orderId, "cancelled"],
    [cancelled.orderId, "awaiting payment"],
    [paid.orderId, "paid"],
    [paid.orderId, "awaiting payment"],
    [refused.orderId, "refused", "Card declined"],
    [sold.orderId, "sold"],
  ]);
  const [newest] = await listedOrders(server.url);
  assert.deepEqual(Object.keys(newest), ["seq", "time", "product", "orderId", "status", "reason"]);
  assert.equal(newest.product, DEMO);
  assert.equal(newest.time, new Date(clock.now()).toISOString());
});

Deno.test("a failed checkout is listed with its reason: no answer in time (504), or only 5xx (502)", async () => {
  await using service = await startOrderService({ secret: SECRET, otherwise: { status: 503 } });
  await using server = await startTestServer({
    orderWebhook: { url: service.url, secret: SECRET },
    adminToken: TOKEN,
    webhookTimeoutMs: 300,
  });
  service.reply(0, "hang");
  const timedOut = await buy(server.url, service);
  assert.equal(timedOut.status, 504);
  const failing = await buy(server.url, service);
  assert.equal(failing.status, 502);
  const listed = await listedOrders(server.url);
  assert.deepEqual(listed.map((entry) => [entry.status, entry.reason]), [
    ["failed", "the order service answered 503"],
    ["failed", "the order service did not answer in time"],
  ]);
});

Deno.test("on Deno KV the last orders survive a restart, and the numbering goes on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "order_log_test_" });
  const dataPath = join(dir, "inventory.kv");
  try {
    await using service = await startOrderService({ secret: SECRET });
    const settings = {
      orderWebhook: { url: service.url, secret: SECRET },
      adminToken: TOKEN,
      dataPath,
    };
    const first = await startTestServer(settings);
    const sold = await buy(first.url, service);
    service.reply(1, { status: 409, body: "Out of stock at the warehouse" });
    const refused = await buy(first.url, service);
    const before = await listedOrders(first.url);
    await first.stop();

    await using again = await startTestServer(settings);
    assert.deepEqual(await listedOrders(again.url), before);
    assert.deepEqual((await listedSteps(again.url)).slice(0, 2), [
      [refused.orderId, "refused", "Out of stock at the warehouse"],
      [sold.orderId, "sold"],
    ]);
    await buy(again.url, service);
    assert.deepEqual((await listedOrders(again.url)).map((entry) => entry.seq), [3, 2, 1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Checks an engine's log: the last 100, newest first; a repeated status dropped, a change kept. */
async function checkLog(log: OrderLog): Promise<void> {
  for (let i = 1; i <= 105; i++) {
    const entry = await log.append({ time: TIME, product: "a", orderId: `o${i}`, status: "sold" });
    assert.equal(entry?.seq, i);
  }
  const entries = await log.recent();
  assert.equal(entries.length, 100);
  assert.deepEqual([entries[0].seq, entries[99].seq], [105, 6]);
  assert.equal(await log.latest(), 105);
  assert.equal(
    await log.append({ time: TIME, product: "a", orderId: "o105", status: "sold" }),
    undefined,
  );
  const refund = { time: TIME, product: "a", orderId: "o104", status: "cancelled" } as const;
  assert.deepEqual(await log.append({ ...refund, reason: 'a "quoted" reason, é' }), {
    seq: 106,
    ...refund,
    reason: 'a "quoted" reason, é',
  });
  assert.equal(await log.append(refund), undefined, "the order's newest entry has that status");
  // A drop's opening: many checkouts end at once, each entry numbered once; a repeat among them
  // (two processes ending one payment) is appended once.
  const rush = await Promise.all([
    ...Array.from(
      { length: 50 },
      (_, i) => log.append({ time: TIME, product: "a", orderId: `r${i}`, status: "sold" }),
    ),
    log.append({ time: TIME, product: "a", orderId: "r0", status: "sold" }),
  ]);
  assert.deepEqual(
    rush.map((entry) => entry?.seq).filter((seq) => seq !== undefined).sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => 107 + i),
  );
  assert.equal((await log.recent()).filter((entry) => entry.orderId === "r0").length, 1);
}

Deno.test("every engine keeps the last 100 entries and drops a repeated status", async (t) => {
  await t.step("memory", () => checkLog(orderLogInMemory()));
  await t.step("Deno KV", async () => {
    const dir = await Deno.makeTempDir({ prefix: "order_log_kv_" });
    const path = join(dir, "inventory.kv");
    const log = await openKvOrderLog(path);
    // A second process on the same file: each sees the other's entries.
    const other = await openKvOrderLog(path);
    try {
      await checkLog(log);
      const sold = { time: TIME, product: "a", status: "sold" } as const;
      assert.equal(await other.append({ ...sold, orderId: "r7" }), undefined);
      assert.equal((await other.append({ ...sold, orderId: "k1" }))?.seq, 157);
      assert.equal(await log.append({ ...sold, orderId: "k1" }), undefined);
      assert.equal((await log.append({ ...sold, orderId: "k2" }))?.seq, 158);
      assert.equal(await other.append({ ...sold, orderId: "k2" }), undefined);
      assert.deepEqual(await other.recent(), await log.recent());
    } finally {
      await other.close();
      await log.close();
    }
    // The file holds no more than the 100, whatever it has seen.
    const kv = await Deno.openKv(path);
    let stored = 0;
    for await (const _ of kv.list({ prefix: ["order_log", "entry"] })) stored++;
    kv.close();
    await Deno.remove(dir, { recursive: true });
    assert.equal(stored, 100);
  });
  await t.step({
    name: "Redis",
    ignore: redisMissing,
    async fn() {
      await using redis = await startRedis();
      const store = await openRedisStore({
        url: redis.url,
        holdTtlMs: 60_000,
        checkoutTimeoutMs: 5_000,
        clock: systemClock,
        log: () => {},
      });
      try {
        await checkLog(store.orderLog());
      } finally {
        await store.close();
      }
      assert.equal(await sendToRedis(redis.url, ["LLEN", "inv:{orders}:log"]), 100);
    },
  });
});

Deno.test({
  name:
    "on Redis an order made through one process is listed, and pushed to the dashboard's feed, by another",
  ignore: redisMissing,
  sanitizeOps: false, // deno#22387
  sanitizeResources: false,
  async fn() {
    await using redis = await startRedis();
    await using fleet = await startFleet(redis.url, 2, ["--admin-token", TOKEN]);
    const [one, two] = fleet;
    await using feed = await openAdminFeed(two.url, { authorization: `Bearer ${TOKEN}` });
    assert.deepEqual((await feed.next("snapshot")).data.orders, []);

    const sold = await buy(one.url);
    assert.equal(sold.status, 200);
    // Found by the other process's look at the log, at its next tick (once a second).
    const pushed = await feed.next("order", (entry) => entry.orderId === sold.orderId);
    assert.equal(pushed.data.status, "sold");
    assert.deepEqual(await listedSteps(two.url), [[sold.orderId, "sold"]]);
    assert.deepEqual(await listedOrders(two.url), await listedOrders(one.url));
  },
});

Deno.test("an order log that cannot be written costs its entry and a log line, never the checkout or the feed", async () => {
  await using shop = await openMemoryShop({ print: 3 });
  const lines: string[] = [];
  const away = () => Promise.reject(new StoreUnavailableError("Redis cannot be reached"));
  const broken: OrderLog = {
    append: away,
    recent: away,
    latest: away,
    close: () => Promise.resolve(),
  };
  const orders = new OrderHistory(broken, { clock: systemClock, log: (line) => lines.push(line) });
  const app = await createTestApp(shop.inventory, { adminToken: TOKEN, orders });
  try {
    const cart = (action: string, session: string) =>
      app.handle(
        new Request("http://localhost/cart", {
          method: "POST",
          headers: { "content-type": "application/json", origin: "http://localhost" },
          body: JSON.stringify({ action, session, product: "print" }),
        }),
      );
    const session = crypto.randomUUID();
    assert.equal((await cart("add", session)).status, 200);
    const sold = await cart("checkout", session);
    assert.equal(sold.status, 200);
    const { orderId } = await sold.json();
    assert.equal(shop.inventory.get("print")?.sold, 1);
    assert.deepEqual(lines, [
      `Order log: order ${orderId} sold not recorded: StoreUnavailableError: Redis cannot be reached`,
    ]);
    const listed = await app.handle(
      new Request("http://localhost/admin/orders", {
        headers: { authorization: `Bearer ${TOKEN}` },
      }),
    );
    assert.equal(listed.status, 503);
    await listed.body?.cancel();
    // The dashboard's feed opens all the same; its orders come once the log can be read.
    await using feed = readAdminFeed(
      await app.handle(
        new Request("http://localhost/admin/feed", {
          headers: { authorization: `Bearer ${TOKEN}`, accept: "text/event-stream" },
        }),
      ),
    );
    assert.deepEqual((await feed.next("snapshot")).data.orders, []);
  } finally {
    app.stop();
  }
});
