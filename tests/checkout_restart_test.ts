/** A SIGKILL mid-checkout: the next start resumes it with the same order, so it ends exactly once. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEMO_PRODUCT } from "../lib/server/demo_catalog.ts";
import { eventually, metric, postCart } from "./support/clients.ts";
import { type OrderReply, startOrderService } from "./support/order_service.ts";
import { type ChildServer, spawnServer } from "./support/server.ts";
import { openWebSocketFeed } from "./support/status_clients.ts";

const DEMO = DEMO_PRODUCT.id;
const SECRET = `whsec_${btoa("order-secret-0123456789")}`;
const SOLD = `inventory_sold_units{product="${DEMO}"}`;
const COUNT = `inventory_available_units{product="${DEMO}"}`;

/** Kills a child with SIGKILL, the way a crash ends it: no stop, no settling. */
async function kill(child: ChildServer): Promise<void> {
  child.process.kill("SIGKILL");
  assert.equal((await child.status).signal, "SIGKILL");
}

/**
 * Holds a unit, starts its checkout against a fake that hangs on it, kills the server while the
 * call is in flight, has the fake answer `reply` (the caller is gone), and starts the server again.
 */
async function killMidCheckout(reply: OrderReply, folder: string) {
  const service = await startOrderService({ secret: SECRET });
  const answer = Promise.withResolvers<OrderReply>();
  service.reply(0, answer.promise);
  const flags = [
    "--data",
    join(folder, "inventory.kv"),
    "--order-webhook",
    service.url,
    "--webhook-secret",
    SECRET,
    "--webhook-timeout",
    "30",
  ];
  const session = crypto.randomUUID();
  const first = await spawnServer(flags);
  try {
    await postCart(first.url, "add", session);
    const checkout = postCart(first.url, "checkout", session).catch((error) => error);
    const call = await service.arrived(0);
    await kill(first);
    assert.ok(await checkout instanceof TypeError, "the shopper's request died with the server");
    answer.resolve(reply);
    const orderId = call.headers.get("idempotency-key")!;
    return { service, flags, session, orderId, next: await spawnServer(flags) };
  } catch (error) {
    await first[Symbol.asyncDispose]();
    await service.close();
    throw error;
  }
}

Deno.test({
  name: "SIGKILL mid-checkout, the service booked it: the next start sells it, exactly once",
  sanitizeOps: false, // deno#22387
  sanitizeResources: false,
  async fn() {
    const folder = await Deno.makeTempDir();
    const { service, flags, session, orderId, next } = await killMidCheckout(
      { status: 201, body: '{"status":"booked"}' },
      folder,
    );
    try {
      await using second = next;
      const resumed = await service.arrived(1);
      assert.equal(resumed.headers.get("idempotency-key"), orderId);
      assert.equal(resumed.body, service.requests[0].body);
      assert.equal(resumed.signatureValid, true);
      {
        await using feed = await openWebSocketFeed(second.url);
        assert.deepEqual(await feed.waitFor((state) => state.version === 2), {
          inventoryCount: 9,
          version: 2,
        });
      }
      assert.equal(await metric(second.url, SOLD), 1);
      await eventually(
        () =>
          second.output().includes("Checkout: resumed 1 left in flight: 1 sold, 0 kept as holds"),
        "the start to log the resumed checkout",
      );
      await kill(second);

      // The sale outlives this start too: the same answer again, and no new call.
      await using third = await spawnServer(flags);
      const again = await postCart(third.url, "checkout", session);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual(again.body, {
        product: DEMO,
        inventoryCount: 9,
        version: 2,
        inCart: false,
        orderId,
      });
      assert.equal(await metric(third.url, SOLD), 1);
      assert.equal(await metric(third.url, COUNT), 9);
      assert.equal(service.requests.length, 2);
      assert.deepEqual([...service.booked.keys()], [orderId], "booked once");
    } finally {
      await service.close();
      await Deno.remove(folder, { recursive: true });
    }
  },
});

Deno.test({
  name: "SIGKILL mid-checkout, the service refused it: the next start leaves the hold, not a sale",
  sanitizeOps: false, // deno#22387
  sanitizeResources: false,
  async fn() {
    const folder = await Deno.makeTempDir();
    const { service, session, orderId, next } = await killMidCheckout(
      { status: 422, body: '{"error":"card declined"}' },
      folder,
    );
    try {
      await using second = next;
      const resumed = await service.arrived(1);
      assert.equal(resumed.headers.get("idempotency-key"), orderId);
      assert.equal(resumed.replayed, true);

      // The resumed checkout ends (409 while it runs); then the shopper's own try is refused too.
      let answer;
      await eventually(async () => {
        answer = await postCart(second.url, "checkout", session);
        return answer.status !== 409;
      }, "the resumed checkout to end");
      assert.equal(answer!.status, 402);
      assert.deepEqual(answer!.body, { error: "card declined" });
      await eventually(
        () =>
          second.output().includes("Checkout: resumed 1 left in flight: 0 sold, 1 kept as holds"),
        "the start to log the resumed checkout",
      );
      assert.equal(service.requests[2].headers.get("idempotency-key"), orderId);
      assert.equal(service.booked.size, 0);
      assert.equal(await metric(second.url, SOLD), 0);
      assert.equal(await metric(second.url, COUNT), 9, "the unit is still held");
      const cart = await fetch(new URL("cart", second.url), {
        headers: { cookie: `sid=${session}` },
      });
      assert.deepEqual((await cart.json()).items.map((item: { product: string }) => item.product), [
        DEMO,
      ]);
      assert.equal((await postCart(second.url, "remove", session)).status, 200, "not pinned");
      assert.equal(await metric(second.url, COUNT), 10);
    } finally {
      await service.close();
      await Deno.remove(folder, { recursive: true });
    }
  },
});
