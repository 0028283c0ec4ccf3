/** Paying on the order service's page: 202, the callbacks, the expiry, over real sockets. */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Config } from "../lib/server/config.ts";
import type { ServerOptions } from "../lib/server/start_server.ts";
import { postCart } from "./support/clients.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { startOrderService, webhookSecret } from "./support/order_service.ts";
import { type FakePaymentService, startPaymentService } from "./support/payment_service.ts";
import { DEMO, holds, spawnServer, startTestServer } from "./support/server.ts";
import { within } from "./support/within.ts";
import { redisMissing, startRedis } from "./support/redis_server.ts";
import { PAYMENT_RETENTION_MS } from "../lib/inventory/payment_book.ts";
import {
  EXPIRED_CALL_FIRST_RETRY_MS,
  EXPIRED_CALL_MAX_RETRY_MS,
  PAYMENT_SWEEP_MS,
} from "../lib/inventory/payments.ts";

const SECRET = webhookSecret("payment-secret-0123456789");
const TTL_MS = 60_000;
const PAYMENT_MS = 15 * 60_000;

/** Starts a shop whose order service is the fake, its log kept in `lines`. */
async function startShop(
  service: FakePaymentService,
  lines: string[],
  overrides: Partial<Config> = {},
  options: ServerOptions = {},
) {
  const server = await startTestServer({
    orderWebhook: { url: service.url, secret: SECRET },
    holdTtlMs: TTL_MS,
    paymentTimeoutMs: PAYMENT_MS,
    ...overrides,
  }, { log: (line) => lines.push(line), ...options });
  service.shopUrl = server.url;
  return server;
}

/** A log that keeps its lines and tells a test when a line it waits for is written. */
function watchedLog() {
  const lines: string[] = [];
  const waiting: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  return {
    lines,
    log(line: string) {
      lines.push(line);
      for (const waiter of waiting.filter(({ pattern }) => pattern.test(line))) {
        waiting.splice(waiting.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    },
    /** Resolves with the next line written that matches. */
    next(pattern: RegExp): Promise<string> {
      const { promise, resolve } = Promise.withResolvers<string>();
      waiting.push({ pattern, resolve });
      return promise;
    },
  };
}

function stock(server: { inventory: { get(id: string): unknown } }) {
  const { total, held, sold } = server.inventory.get(DEMO) as Record<string, number>;
  return { total, held, sold };
}

/** Adds and checks out; answers the 202's body. */
async function checkoutToPay(url: string, session: string) {
  await postCart(url, "add", session);
  const answer = await postCart(url, "checkout", session);
  assert.equal(answer.status, 202, JSON.stringify(answer.body));
  return answer.body as unknown as {
    product: string;
    orderId: string;
    paymentUrl: string;
    payBy: string;
  };
}

Deno.test("a 202 awaits payment: the hold neither expires nor goes; paid sells it, once", async () => {
  const clock = new FakeClock();
  const lines: string[] = [];
  await using service = await startPaymentService(SECRET);
  await using server = await startShop(service, lines, {}, { clock });
  const session = crypto.randomUUID();
  const answer = await checkoutToPay(server.url, session);
  assert.deepEqual(Object.keys(answer).sort(), ["orderId", "payBy", "paymentUrl", "product"]);
  assert.equal(answer.product, DEMO);
  assert.equal(answer.paymentUrl, service.url.replace("/orders", `/pay/${answer.orderId}`));
  assert.equal(answer.payBy, new Date(clock.now() + PAYMENT_MS).toISOString());
  // The cart shows it held until the payment's time runs out.
  const cart = await fetch(new URL("cart", server.url), { headers: { cookie: `sid=${session}` } });
  assert.deepEqual(await cart.json(), { items: [{ product: DEMO, expiresAt: answer.payBy }] });
  const call = await service.called("checkout");
  assert.equal(call.signatureValid, true);
  assert.equal(call.headers.get("idempotency-key"), answer.orderId);
  assert.equal(call.headers.get("webhook-id"), answer.orderId);

  // Past the hold's own time: it stays, pinned, while the shopper pays.
  clock.advance(TTL_MS + 1_000);
  const other = await postCart(server.url, "add", crypto.randomUUID());
  assert.equal(other.status, 200, JSON.stringify(other.body));
  assert.equal(await holds(server, session), true);
  const removed = await postCart(server.url, "remove", session);
  assert.equal(removed.status, 409);
  // Buy now again (the shopper left the payment page): sent back to the same page, same time.
  const back = await postCart(server.url, "checkout", session);
  assert.equal(back.status, 202);
  assert.deepEqual(back.body, answer);

  const paid = await service.callback(answer.orderId, "paid");
  assert.equal(paid.status, 200);
  assert.deepEqual({ ...paid.body, version: undefined }, {
    orderId: answer.orderId,
    status: "paid",
    product: DEMO,
    inventoryCount: 8,
    version: undefined,
  });
  assert.deepEqual(stock(server), { total: 9, held: 1, sold: 1 });
  // The same callback again: the same answer, nothing more sold.
  assert.deepEqual(await service.callback(answer.orderId, "paid"), paid);
  assert.deepEqual(stock(server), { total: 9, held: 1, sold: 1 });
  // Cancelling a paid order is a conflict; so is it in the shopper's next checkout, a sale.
  const cancelled = await service.callback(answer.orderId, "cancelled");
  assert.equal(cancelled.status, 409);
  assert.equal(cancelled.body.status, "paid");
  const again = await postCart(server.url, "checkout", session);
  assert.equal(again.status, 200);
  assert.equal(again.body.orderId, answer.orderId);
  // The expiry's timer finds nothing to do (the other shopper's hold has ended meanwhile).
  clock.advance(PAYMENT_MS);
  assert.deepEqual(stock(server), { total: 9, held: 0, sold: 1 });
  assert.equal(service.calls.length, 1);
});

Deno.test("cancelled puts the unit back, once; paid afterwards is 409; unknown orders 404", async () => {
  const lines: string[] = [];
  await using service = await startPaymentService(SECRET);
  await using server = await startShop(service, lines);
  const session = crypto.randomUUID();
  const { orderId } = await checkoutToPay(server.url, session);
  assert.deepEqual(stock(server), { total: 10, held: 1, sold: 0 });

  const cancelled = await service.callback(orderId, "cancelled");
  assert.deepEqual(cancelled, { status: 200, body: { orderId, status: "cancelled" } });
  assert.deepEqual(stock(server), { total: 10, held: 0, sold: 0 });
  assert.equal(await holds(server, session), false);
  assert.deepEqual(await service.callback(orderId, "cancelled"), cancelled);
  const paid = await service.callback(orderId, "paid");
  assert.equal(paid.status, 409);
  assert.equal(paid.body.status, "cancelled");
  assert.deepEqual(stock(server), { total: 10, held: 0, sold: 0 });

  assert.equal((await service.callback(crypto.randomUUID(), "paid")).status, 404);
  assert.equal((await service.callback(crypto.randomUUID(), "cancelled")).status, 404);
});

Deno.test("forged and stale callbacks are 401, logged without the secret, and change nothing", async () => {
  const lines: string[] = [];
  await using service = await startPaymentService(SECRET);
  await using server = await startShop(service, lines);
  const session = crypto.randomUUID();
  const { orderId } = await checkoutToPay(server.url, session);
  const before = stock(server);

  const wrongSecret = webhookSecret("not-the-shops-secret-0000");
  const refusals = [
    await service.callback(orderId, "paid", { secret: wrongSecret }),
    await service.callback(orderId, "cancelled", { secret: wrongSecret }),
    // Signed with the right secret, six minutes ago: a replay.
    await service.callback(orderId, "paid", { at: Date.now() - 6 * 60_000 }),
    // From six minutes ahead.
    await service.callback(orderId, "paid", { at: Date.now() + 6 * 60_000 }),
  ];
  for (const refusal of refusals) {
    assert.deepEqual(refusal, { status: 401, body: { error: "bad signature" } });
  }
  // A body changed after signing.
  const response = await fetch(new URL(`orders/${orderId}/paid`, server.url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  assert.equal(response.status, 401);
  await response.body?.cancel();
  assert.deepEqual(stock(server), before);
  assert.equal(await holds(server, session), true);

  // The first refusal is logged at once; the rest of the minute's only counted (a flood).
  const logged = lines.filter((line) => line.startsWith("Order service callback refused (401)"));
  assert.equal(logged.length, 1, lines.join("\n"));
  assert.ok(logged[0].includes(orderId));
  assert.ok(logged[0].includes("No matching signature found"), logged[0]);
  for (const line of lines) {
    assert.ok(!line.includes(SECRET.slice(6)) && !line.includes(wrongSecret.slice(6)), line);
  }
  // A signed body that is not a JSON object is refused as such.
  assert.equal((await service.callback(orderId, "paid", { body: "[]" })).status, 400);
  assert.equal((await service.callback(orderId, "paid")).status, 200);
});

Deno.test("a payment's time runs out: the unit goes back, the service is told, paid is 409", async () => {
  const clock = new FakeClock();
  const lines: string[] = [];
  await using service = await startPaymentService(SECRET);
  await using server = await startShop(service, lines, {}, { clock });
  const session = crypto.randomUUID();
  const { orderId, payBy } = await checkoutToPay(server.url, session);

  clock.advance(PAYMENT_MS - 1);
  assert.equal(await holds(server, session), true);
  clock.advance(1);
  const expired = await within(service.called("order.expired"), "the order.expired call");
  assert.equal(expired.signatureValid, true);
  assert.equal(expired.headers.get("webhook-id"), `${orderId}.expired`);
  assert.equal(expired.body.type, "order.expired");
  assert.deepEqual(expired.body.data, { orderId, product: DEMO, session, payBy });
  assert.deepEqual(stock(server), { total: 10, held: 0, sold: 0 });
  assert.equal(await holds(server, session), false);

  const paid = await service.callback(orderId, "paid");
  assert.equal(paid.status, 409);
  assert.equal(paid.body.status, "expired");
  assert.equal((await service.callback(orderId, "cancelled")).status, 409);
  assert.deepEqual(stock(server), { total: 10, held: 0, sold: 0 });
  assert.ok(
    lines.some((line) => line.includes(`order ${orderId}`) && line.includes("payment expired")),
    lines.join("\n"),
  );
});

Deno.test("a checkout that did not sell is logged with its order, the service's status and reason", async () => {
  const lines: string[] = [];
  await using service = await startPaymentService(SECRET);
  // A service that refuses: the fake answers 422 to a path it does not serve.
  await using server = await startShop(service, lines, {
    orderWebhook: { url: service.url.replace("/orders", "/nowhere/x"), secret: SECRET },
  });
  const session = crypto.randomUUID();
  await postCart(server.url, "add", session);
  const refused = await postCart(server.url, "checkout", session);
  assert.equal(refused.status, 402);
  const line = lines.find((line) => line.startsWith("Checkout not sold: order "));
  assert.ok(line !== undefined, lines.join("\n"));
  assert.match(
    line,
    /, answered 402, order service status 422, reason: "no order desk at \/nowhere\/x"$/,
  );
});

Deno.test("a restart on Deno KV keeps a hold awaiting payment and its time", async () => {
  const clock = new FakeClock();
  const dir = await Deno.makeTempDir({ prefix: "payment_test_" });
  const dataPath = join(dir, "inventory.kv");
  const lines: string[] = [];
  await using service = await startPaymentService(SECRET);
  const session = crypto.randomUUID();
  const first = await startShop(service, lines, { dataPath }, { clock });
  const { orderId } = await checkoutToPay(first.url, session);
  await first.stop();

  clock.advance(TTL_MS + 1_000);
  {
    await using again = await startShop(service, lines, { dataPath }, { clock });
    assert.equal(await holds(again, session), true, "the hold still awaits payment");
    assert.deepEqual(stock(again), { total: 10, held: 1, sold: 0 });
    assert.equal((await postCart(again.url, "remove", session)).status, 409);
    // Its deadline came back with it: it ends when it would have.
    clock.advance(PAYMENT_MS - TTL_MS - 1_000);
    await within(service.called("order.expired"), "the order.expired call after the restart");
    assert.deepEqual(stock(again), { total: 10, held: 0, sold: 0 });
  }
  {
    await using third = await startShop(service, lines, { dataPath }, { clock });
    assert.equal((await service.callback(orderId, "paid")).status, 409, "expired for good");
    assert.deepEqual(stock(third), { total: 10, held: 0, sold: 0 });
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "on Redis a restart keeps a hold awaiting payment; of two processes one expires it, once",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    const lines: string[] = [];
    await using service = await startPaymentService(SECRET);
    const onRedis = { redis: redis.url, paymentTimeoutMs: 2_000 };
    const session = crypto.randomUUID();
    const first = await startShop(service, lines, onRedis);
    const { orderId } = await checkoutToPay(first.url, session);
    await first.stop();

    // Two processes start on the same Redis: each finds the payment, and its time.
    await using one = await startShop(service, lines, onRedis);
    await using two = await startShop(service, lines, onRedis);
    assert.equal(await holds(one, session), true, "the hold still awaits payment");
    assert.equal((await postCart(two.url, "remove", session)).status, 409);

    // Paid through one process, another order sells and is seen on the other.
    const buyer = crypto.randomUUID();
    const bought = await checkoutToPay(one.url, buyer);
    service.shopUrl = two.url;
    assert.equal((await service.callback(bought.orderId, "paid")).status, 200);
    await within(
      (async () => {
        for (let i = 0; i < 100 && one.inventory.get(DEMO)!.sold !== 1; i++) {
          await new Promise<void>((resolve) => {
            const stop = one.inventory.onChange(() => {
              stop();
              resolve();
            });
          });
        }
      })(),
      "the sale reaching the other process",
    );

    await within(service.called("order.expired"), "the order.expired call", 10_000);
    // Both stop once their expiries in flight have ended: one told the service, not two.
    await one.stop();
    await two.stop();
    const expired = service.calls.filter((call) => call.type === "order.expired");
    assert.equal(expired.length, 1);
    assert.equal((expired[0].body.data as { orderId: string }).orderId, orderId);
    assert.equal(lines.filter((line) => line.includes("payment expired")).length, 1);
  },
});

Deno.test("an order service that refuses our signature (a wrong secret on its side) is named in the log", async () => {
  const lines: string[] = [];
  await using service = await startOrderService({
    secret: webhookSecret("the-services-other-secret"),
    otherwise: { status: 401, body: JSON.stringify({ error: "bad signature" }) },
  });
  await using server = await startTestServer({
    orderWebhook: { url: service.url, secret: SECRET },
  }, { log: (line) => lines.push(line) });
  const session = crypto.randomUUID();
  await postCart(server.url, "add", session);
  const refused = await postCart(server.url, "checkout", session);
  assert.equal(refused.status, 402);
  assert.equal((await service.arrived(0)).signatureValid, false);
  const line = lines.find((line) => line.startsWith("Checkout not sold: order "));
  assert.match(
    line ?? lines.join("\n"),
    /answered 402, order service status 401, reason: "bad signature" \(does the order service have the same --webhook-secret\?\)$/,
  );
  for (const line of lines) assert.ok(!line.includes(SECRET.slice(6)), line);
});

Deno.test({
  name:
    "SIGKILL while a hold awaits payment on Deno KV: the next start keeps it, and paid sells it once",
  sanitizeOps: false, // deno#22387
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "payment_kill_test_" });
    await using service = await startPaymentService(SECRET);
    const flags = ["--data", join(dir, "inventory.kv"), "--order-webhook", service.url];
    const env = { WEBHOOK_SECRET: SECRET };
    const session = crypto.randomUUID();
    const first = await spawnServer(flags, env);
    const { orderId } = await checkoutToPay(first.url, session);
    first.process.kill("SIGKILL");
    assert.equal((await first.status).signal, "SIGKILL");

    await using next = await spawnServer(flags, env);
    service.shopUrl = next.url;
    assert.equal(
      (await postCart(next.url, "remove", session)).status,
      409,
      "still awaiting payment",
    );
    const paid = await service.callback(orderId, "paid");
    assert.equal(paid.status, 200);
    assert.equal(paid.body.inventoryCount, 9);
    assert.deepEqual(await service.callback(orderId, "paid"), paid);
    // One unit sold, none held: a checkout of the same session answers that sale.
    const again = await postCart(next.url, "checkout", session);
    assert.deepEqual([again.status, again.body.orderId], [200, orderId]);
    assert.equal(next.output().includes(SECRET.slice(6)), false, "no secret in the log");
    await next[Symbol.asyncDispose]();
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("the order service down when a payment expires: the expired call is tried again and arrives once it is up", async () => {
  const clock = new FakeClock();
  const watched = watchedLog();
  await using service = await startPaymentService(SECRET);
  service.down = true;
  // Each try gives up soon: the retries that matter are the ones after it, on the shop's clock.
  await using server = await startShop(service, watched.lines, { webhookTimeoutMs: 300 }, {
    clock,
    log: watched.log,
  });
  const { orderId } = await checkoutToPay(server.url, crypto.randomUUID());
  const failed = watched.next(/not told that order .+ expired: no 2xx \(try 1\); trying again/);
  clock.advance(PAYMENT_MS);
  await within(failed, "the first try's failure");
  assert.deepEqual(stock(server), { total: 10, held: 0, sold: 0 }, "the unit went back at once");
  assert.ok(service.calls.some((call) => call.type === "order.expired" && call.status === 503));

  service.down = false;
  const told = service.answered("order.expired", 204);
  clock.advance(EXPIRED_CALL_FIRST_RETRY_MS);
  const call = await within(told, "the order.expired call once the service is up");
  assert.equal(call.headers.get("webhook-id"), `${orderId}.expired`);
  assert.equal(call.signatureValid, true);
  // Made: never again, through every later retry time and sweep.
  clock.advance(EXPIRED_CALL_MAX_RETRY_MS);
  clock.advance(PAYMENT_SWEEP_MS);
  await server.stop();
  const expired = service.calls.filter((call) => call.type === "order.expired");
  assert.equal(expired.filter((call) => call.status === 204).length, 1);
  assert.equal(expired.at(-1), call, "no call after the one answered 2xx");
});

Deno.test("a restart while the expired call is owed: the next start makes it, once", async () => {
  const clock = new FakeClock();
  const dir = await Deno.makeTempDir({ prefix: "payment_test_" });
  const dataPath = join(dir, "inventory.kv");
  const watched = watchedLog();
  await using service = await startPaymentService(SECRET);
  service.down = true;
  const overrides = { dataPath, webhookTimeoutMs: 300 };
  const options = { clock, log: watched.log };
  const first = await startShop(service, watched.lines, overrides, options);
  const { orderId } = await checkoutToPay(first.url, crypto.randomUUID());
  const failed = watched.next(/not told that order .+ expired: no 2xx \(try 1\)/);
  clock.advance(PAYMENT_MS);
  await within(failed, "the first try's failure");
  await first.stop();

  service.down = false;
  const told = service.answered("order.expired", 204);
  {
    await using again = await startShop(service, watched.lines, overrides, options);
    clock.advance(EXPIRED_CALL_FIRST_RETRY_MS);
    const call = await within(told, "the owed order.expired call after the restart");
    assert.equal((call.body.data as { orderId: string }).orderId, orderId);
    assert.equal((await service.callback(orderId, "paid")).status, 409, "expired for good");
    assert.deepEqual(stock(again), { total: 10, held: 0, sold: 0 });
    clock.advance(EXPIRED_CALL_MAX_RETRY_MS);
    clock.advance(PAYMENT_SWEEP_MS);
  }
  {
    // A third start finds nothing owed.
    await using third = await startShop(service, watched.lines, overrides, options);
    clock.advance(EXPIRED_CALL_MAX_RETRY_MS);
    await third.stop();
  }
  const expired = service.calls.filter((call) => call.type === "order.expired");
  assert.equal(expired.filter((call) => call.status === 204).length, 1);
  assert.equal(expired.at(-1)?.status, 204, "no call after the one answered 2xx");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("an ended payment is answered for its retention, then forgotten (404)", async () => {
  const clock = new FakeClock();
  const lines: string[] = [];
  await using service = await startPaymentService(SECRET);
  await using server = await startShop(service, lines, {}, { clock });
  const { orderId } = await checkoutToPay(server.url, crypto.randomUUID());
  const cancelled = await service.callback(orderId, "cancelled");
  assert.equal(cancelled.status, 200);
  // The order service's retries of its callback get the same answer for the retention...
  clock.advance(PAYMENT_RETENTION_MS - 1);
  assert.deepEqual(await service.callback(orderId, "cancelled"), cancelled);
  // ...then the shop has forgotten the order.
  clock.advance(1);
  assert.equal((await service.callback(orderId, "cancelled")).status, 404);
  assert.equal((await service.callback(orderId, "paid")).status, 404);
});

Deno.test("a callback sent before the checkout's 202 reached the shop is answered 503, to retry; then it sells", async () => {
  const lines: string[] = [];
  await using service = await startPaymentService(SECRET);
  service.paysBeforeAnswering = true;
  await using server = await startShop(service, lines);
  const session = crypto.randomUUID();
  const { orderId } = await checkoutToPay(server.url, session);
  assert.deepEqual(service.earlyAnswers, [{ status: 503, retryAfter: "1" }]);
  assert.deepEqual(stock(server), { total: 10, held: 1, sold: 0 }, "nothing changed then");
  // The sender's retry finds the payment.
  const paid = await service.callback(orderId, "paid");
  assert.equal(paid.status, 200);
  assert.deepEqual(stock(server), { total: 9, held: 0, sold: 1 });
});

Deno.test({
  name:
    "on Redis with the service down at the expiry, one process makes each try; another start makes the call owed, once",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    await using service = await startPaymentService(SECRET);
    service.down = true;
    const onRedis = { redis: redis.url, paymentTimeoutMs: 1_000, webhookTimeoutMs: 300 };
    const logs = [watchedLog(), watchedLog(), watchedLog()];
    await using one = await startShop(service, [], onRedis, { log: logs[0].log });
    await using two = await startShop(service, [], onRedis, { log: logs[1].log });
    const failed = /not told that order .+ expired: no 2xx \(try 1\)/;
    const firstFailure = Promise.race([
      logs[0].next(failed).then(() => one),
      logs[1].next(failed).then(() => two),
    ]);
    const { orderId } = await checkoutToPay(one.url, crypto.randomUUID());
    const trying = await within(firstFailure, "the first try's failure", 10_000);
    // The process making the tries stops; the other does not look again for a minute, but a
    // process that starts looks at once.
    await trying.stop();
    service.down = false;
    const told = service.answered("order.expired", 204);
    await using three = await startShop(service, [], onRedis, { log: logs[2].log });
    const call = await within(told, "the owed order.expired call from the new process", 15_000);
    assert.equal((call.body.data as { orderId: string }).orderId, orderId);
    await one.stop();
    await two.stop();
    await three.stop();
    // One process expired it (one line), the tries went on elsewhere, and one call was answered.
    const lines = logs.flatMap((log) => log.lines);
    assert.equal(lines.filter((line) => line.includes("payment expired")).length, 1);
    assert.equal(lines.filter((line) => failed.test(line)).length, 1, lines.join("\n"));
    const expired = service.calls.filter((call) => call.type === "order.expired");
    assert.equal(expired.filter((call) => call.status === 204).length, 1);
    assert.equal(expired.at(-1), call, "no call after the one answered 2xx");
  },
});
