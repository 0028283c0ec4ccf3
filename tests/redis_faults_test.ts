/**
 * A fleet on a real redis-server through its faults: Redis killed and restarted on its
 * append-only file, Redis frozen and thawed, one server process killed.
 */
import assert from "node:assert/strict";
import { within } from "./support/within.ts";
import { eventually, postCart } from "./support/clients.ts";
import { closeFeeds, startFleet } from "./support/redis_fleet.ts";
import { redisMissing, startRedis } from "./support/redis_server.ts";
import { readStoredTruth, sendToRedis } from "./support/redis_truth.ts";
import { RedisKeys } from "../lib/store/redis_keys.ts";
import { openRedisStore } from "../lib/store/redis_store.ts";
import { systemClock } from "../lib/time/clock.ts";
import { startOrderService } from "./support/order_service.ts";
import { type ChildServer, DEMO } from "./support/server.ts";
import { openLongPollFeed, openSseFeed, openWebSocketFeed } from "./support/status_clients.ts";

/** Shoppers posting at once in the load, and the rounds each takes. */
const WORKERS = 12;
const ROUNDS = 20;

async function readyStatus(server: ChildServer): Promise<number> {
  const response = await fetch(new URL("readyz", server.url));
  await response.body?.cancel();
  return response.status;
}

/** What the shoppers were told: the holds and the sales each acknowledged. */
interface Acknowledged {
  holds: Set<string>;
  sales: Map<string, string>;
  /** Checkouts that met the outage after their hold was acknowledged. */
  heldOrSold: Set<string>;
  unavailable: number;
}

Deno.test({
  name: "Redis killed mid-load and restarted on its AOF: no acknowledged hold or sale is lost",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    // The load comes from one address: the per-address limit of holds is not its subject.
    await using fleet = await startFleet(redis.url, 3, [
      "--inventory",
      "1000",
      "--max-holds-per-client",
      "0",
    ]);
    const feeds = await Promise.all(fleet.map((server) => openWebSocketFeed(server.url)));
    const acked: Acknowledged = {
      holds: new Set(),
      sales: new Map(),
      heldOrSold: new Set(),
      unavailable: 0,
    };
    const { promise: halfway, resolve: reachHalfway } = Promise.withResolvers<void>();
    const { promise: refusedOnce, resolve: refuse } = Promise.withResolvers<void>();
    const { promise: restarted, resolve: markRestarted } = Promise.withResolvers<void>();
    let answered = 0;
    const note = () => {
      if (++answered === (WORKERS * ROUNDS) / 2) reachHalfway();
    };
    // Each shopper adds on one process and checks every third unit out on another.
    const shop = async (worker: number) => {
      for (let round = 0; round < ROUNDS; round++) {
        const session = crypto.randomUUID();
        const server = fleet[(worker + round) % fleet.length];
        const added = await postCart(server.url, "add", session);
        note();
        if (added.status === 503) {
          acked.unavailable++;
          refuse();
          // A refused shopper comes back once Redis is back, like a page after Retry-After.
          await restarted;
          continue;
        }
        assert.equal(added.status, 200, JSON.stringify(added.body));
        acked.holds.add(session);
        if (round % 3 !== 0) continue;
        const other = fleet[(worker + round + 1) % fleet.length];
        const sale = await postCart(other.url, "checkout", session);
        if (sale.status === 503) {
          // Held for sure; sold too, if Redis took the sale before it went.
          acked.holds.delete(session);
          acked.heldOrSold.add(session);
          acked.unavailable++;
          refuse();
          await restarted;
          continue;
        }
        assert.equal(sale.status, 200, JSON.stringify(sale.body));
        acked.holds.delete(session);
        acked.sales.set(session, sale.body.orderId!);
      }
    };
    try {
      const load = Promise.all(Array.from({ length: WORKERS }, (_, i) => shop(i)));
      await within(halfway, "half the shoppers' answers", 20_000);
      await within(redis.signal("SIGKILL"), "the exit of the killed redis-server");
      await within(refusedOnce, "a post refused while Redis is down");
      await within(redis.restart(), "redis-server's restart", 15_000);
      markRestarted();
      await within(load, "every shopper's last answer", 30_000);
      assert.ok(acked.unavailable > 0, "some posts met the outage");

      const truth = await readStoredTruth(redis.url, DEMO);
      for (const session of acked.holds) {
        assert.ok(truth.holders.includes(session), `acknowledged hold ${session} survived`);
      }
      for (const [session, order] of acked.sales) {
        assert.equal(truth.sales.get(session), order, `acknowledged sale ${session} survived`);
      }
      for (const session of acked.heldOrSold) {
        assert.ok(truth.holders.includes(session) || truth.sales.has(session), session);
      }
      assert.equal(truth.sold, truth.sales.size, "one unit per sale, none twice");
      // Every process reconnected, and every page ends on what Redis holds.
      for (const server of fleet) {
        await eventually(async () => await readyStatus(server) === 200, "ready again");
      }
      const expected = { inventoryCount: truth.inventoryCount, version: truth.version };
      for (const feed of feeds) {
        assert.deepEqual(await feed.waitFor((state) => state.version === truth.version), expected);
      }
      const sold = await postCart(fleet[1].url, "checkout", [...acked.sales.keys()][0]);
      assert.equal(sold.body.orderId, [...acked.sales.values()][0], "a sale is answered again");
    } finally {
      await closeFeeds(feeds);
    }
  },
});

Deno.test({
  name: "Redis frozen: writes get 503 with Retry-After, pages stay connected; thawed, all resumes",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    await using fleet = await startFleet(redis.url, 2, ["--inventory", "10"]);
    const feeds = [
      await openWebSocketFeed(fleet[1].url),
      await openSseFeed(fleet[1].url),
      openLongPollFeed(fleet[1].url, 0),
    ];
    try {
      await redis.signal("SIGSTOP");
      const refused = await postCart(fleet[0].url, "add", crypto.randomUUID());
      assert.equal(refused.status, 503);
      assert.match(refused.body.error!, /cannot be reached/);
      const retryAfter = Number(refused.headers.get("retry-after"));
      assert.ok(retryAfter >= 1 && retryAfter <= 5, `Retry-After ${retryAfter}`);
      assert.equal(await readyStatus(fleet[0]), 503);
      const health = await (await fetch(new URL("healthz", fleet[0].url))).json();
      assert.equal(health.store.reachable, false, JSON.stringify(health));
      // The other process finds out by its own periodic check.
      await eventually(async () => await readyStatus(fleet[1]) === 503, "the other to see it");

      await redis.signal("SIGCONT");
      await eventually(async () => await readyStatus(fleet[0]) === 200, "ready after thawing");
      const added = await postCart(fleet[0].url, "add", crypto.randomUUID());
      assert.equal(added.status, 200, JSON.stringify(added.body));
      // The refused add was already on its way to Redis, and ran when Redis thawed: a 503 says
      // only that the outcome is unknown. Every page ends on what Redis holds.
      const truth = await readStoredTruth(redis.url, DEMO);
      const expected = { inventoryCount: truth.inventoryCount, version: truth.version };
      for (const feed of feeds) {
        assert.deepEqual(await feed.waitFor((state) => state.version === truth.version), expected);
        assert.ok(feed.messages.length > 0);
      }
      assert.equal(
        await Promise.race([feeds[0].waitForEnd(), Promise.resolve("open")]),
        "open",
        "the WebSocket stayed connected through the freeze",
      );
    } finally {
      await redis.signal("SIGCONT");
      await closeFeeds(feeds);
    }
  },
});

Deno.test({
  name: "a server process killed: the others keep serving and the holds made through it stay",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    await using fleet = await startFleet(redis.url, 3, ["--inventory", "10"]);
    const [doomed, left, right] = fleet;
    const buyer = crypto.randomUUID();
    const leaver = crypto.randomUUID();
    assert.equal((await postCart(doomed.url, "add", buyer)).status, 200);
    assert.equal((await postCart(doomed.url, "add", leaver)).status, 200);
    await using feed = await openWebSocketFeed(right.url);
    await feed.waitFor((state) => state.version === 2);
    doomed.process.kill("SIGKILL");
    await within(doomed.status, "the exit of the killed process");

    const cart = await fetch(new URL("cart", left.url), { headers: { cookie: `sid=${buyer}` } });
    const { items } = await cart.json();
    assert.deepEqual(items.map((item: { product: string }) => item.product), [DEMO]);
    const sale = await postCart(left.url, "checkout", buyer);
    assert.equal(sale.status, 200, JSON.stringify(sale.body));
    assert.equal((await postCart(right.url, "remove", leaver)).status, 200);
    assert.equal((await postCart(right.url, "add", crypto.randomUUID())).status, 200);
    // Sale (total 9, held 1), remove (held 0), add (held 1): 8 left at version 5.
    assert.deepEqual(await feed.waitFor((state) => state.version === 5), {
      inventoryCount: 8,
      version: 5,
    });
  },
});

Deno.test({
  name: "a checkout whose process was killed mid-call is taken over by another once its lease ends",
  ignore: redisMissing,
  async fn() {
    const secret = `whsec_${btoa("fleet-webhook-secret-0001")}`;
    await using redis = await startRedis();
    await using service = await startOrderService({ secret });
    service.reply(0, "hang");
    await using fleet = await startFleet(redis.url, 2, [
      "--inventory",
      "3",
      "--order-webhook",
      service.url,
      "--webhook-secret",
      secret,
      "--webhook-timeout",
      "1",
    ]);
    const [doomed, survivor] = fleet;
    const session = crypto.randomUUID();
    assert.equal((await postCart(doomed.url, "add", session)).status, 200);
    const inFlight = postCart(doomed.url, "checkout", session).catch(() => "killed");
    const first = await within(service.arrived(0), "the checkout's call to the order service");
    doomed.process.kill("SIGKILL");
    await within(doomed.status, "the exit of the killed process");
    assert.equal(await within(inFlight, "the end of the killed process's checkout"), "killed");

    // Within the lease the checkout is still the dead process's; then the survivor takes it over.
    const early = await postCart(survivor.url, "checkout", session);
    assert.deepEqual([early.status, early.body.error], [409, "checkout in progress"]);
    assert.equal((await postCart(survivor.url, "remove", session)).status, 409);
    let sale = early;
    await eventually(
      async () => {
        sale = await postCart(survivor.url, "checkout", session);
        return sale.status !== 409;
      },
      "the lease to end",
      10_000,
    );
    assert.equal(sale.status, 200, JSON.stringify(sale.body));
    const key = first.headers.get("idempotency-key");
    assert.equal(sale.body.orderId, key, "the same order, so the service books it once");
    assert.deepEqual(
      service.requests.map((request) => request.headers.get("idempotency-key")),
      [key, key],
    );
    const truth = await readStoredTruth(redis.url, DEMO);
    assert.deepEqual([truth.sold, truth.holders.length], [1, 0]);
  },
});

Deno.test({
  name: "a change no process heard (its message lost) reaches every page by the periodic check",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    await using fleet = await startFleet(redis.url, 2, ["--inventory", "10"]);
    const feeds = await Promise.all(fleet.map((server) => openWebSocketFeed(server.url)));
    try {
      // The library's own restock, published on a channel no process listens to.
      const keys = new RedisKeys("inv").product(DEMO);
      await sendToRedis(redis.url, [
        "FCALL",
        "inventory_restock",
        "4",
        keys.record,
        keys.holds,
        keys.expiry,
        keys.sales,
        "nobody-listens",
        "7",
      ]);
      for (const feed of feeds) {
        assert.deepEqual(await feed.waitFor((state) => state.version === 1), {
          inventoryCount: 7,
          version: 1,
        });
      }
    } finally {
      await closeFeeds(feeds);
    }
  },
});

Deno.test({
  name: "subscriptions cut by Redis and a library it lost: every page still ends on each change",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    await using fleet = await startFleet(redis.url, 2, ["--inventory", "10"]);
    await using feed = await openSseFeed(fleet[1].url);
    await sendToRedis(redis.url, ["CLIENT", "KILL", "TYPE", "pubsub"]);
    await sendToRedis(redis.url, ["FUNCTION", "FLUSH"]);
    const added = await postCart(fleet[0].url, "add", crypto.randomUUID());
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.deepEqual(await feed.waitFor((state) => state.version === 1), {
      inventoryCount: 9,
      version: 1,
    });
    const again = await postCart(fleet[1].url, "add", crypto.randomUUID());
    assert.equal(again.status, 200);
    assert.deepEqual(await feed.waitFor((state) => state.version === 2), {
      inventoryCount: 8,
      version: 2,
    });
  },
});

Deno.test({
  name:
    "this process busy past the deadline (its event loop blocked 1.1–2 s): the commands Redis answered meanwhile succeed, not 503",
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
      const lines = store.lines();
      for (let round = 0; round < 5; round++) {
        const sent = Array.from({ length: 50 }, (_, i) => lines.send(["ECHO", `${round}.${i}`]));
        // Synchronous work this long (a push to every page, a draw) holds the loop: the answers
        // wait unread in the socket while the commands' deadlines pass.
        const busyUntil = Date.now() + 1_100 + round * 200;
        while (Date.now() < busyUntil) crypto.getRandomValues(new Uint8Array(64));
        assert.deepEqual(await Promise.all(sent), sent.map((_, i) => `${round}.${i}`));
      }
      assert.equal(store.health().reachable, true);
    } finally {
      await store.close();
    }
  },
});
