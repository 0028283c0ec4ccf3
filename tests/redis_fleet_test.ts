/** Three server processes on one real redis-server serve one shop: one stock, every change everywhere. */
import assert from "node:assert/strict";
import { CATALOG_FEED, postCart, productFeed } from "./support/clients.ts";
import { startOrderService } from "./support/order_service.ts";
import { closeFeeds, startFleet } from "./support/redis_fleet.ts";
import { redisMissing, startRedis } from "./support/redis_server.ts";
import { DEMO } from "./support/server.ts";
import {
  openLongPollFeed,
  openSseFeed,
  openWebSocketFeed,
  type StateFeed,
} from "./support/status_clients.ts";

const ADMIN_TOKEN = "fleet-admin-token-0001";
const SECRET = `whsec_${btoa("fleet-webhook-secret-0001")}`;

/** Opens a WebSocket, an SSE and a long-poll feed on a server. */
async function openAllFeeds(base: string, since: number): Promise<StateFeed[]> {
  return [await openWebSocketFeed(base), await openSseFeed(base), openLongPollFeed(base, since)];
}

Deno.test({
  name: "three processes racing 300 adds for 10 units sell exactly 10, each at its own version",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    // The 300 adds come from one address: the per-address limit of holds is not what races here.
    await using fleet = await startFleet(redis.url, 3, [
      "--inventory",
      "10",
      "--max-holds-per-client",
      "0",
    ]);
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, i) => postCart(fleet[i % 3].url, "add", crypto.randomUUID())),
    );
    const statuses = answers.map((answer) => answer.status);
    assert.equal(statuses.filter((status) => status === 200).length, 10, String(statuses));
    assert.equal(statuses.filter((status) => status === 409).length, 290, String(statuses));
    assert.deepEqual(
      answers.filter((a) => a.status === 200).map((a) => a.body.version).sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    for (const server of fleet) {
      const late = await postCart(server.url, "add", crypto.randomUUID());
      assert.equal(late.status, 409);
      assert.deepEqual(
        [late.body.error, late.body.inventoryCount, late.body.version],
        ["sold out", 0, 10],
      );
    }
  },
});

Deno.test({
  name:
    "a change made through one process reaches WebSocket, SSE and long-poll pages of the others",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    await using fleet = await startFleet(redis.url, 3, ["--inventory", "10"]);
    const feeds = [
      ...await openAllFeeds(fleet[1].url, 0),
      ...await openAllFeeds(fleet[2].url, 0),
    ];
    try {
      const added = await postCart(fleet[0].url, "add", crypto.randomUUID());
      assert.equal(added.status, 200);
      for (const feed of feeds) {
        assert.deepEqual(await feed.waitFor((state) => state.version === 1), {
          inventoryCount: 9,
          version: 1,
        });
      }
    } finally {
      await closeFeeds(feeds);
    }
  },
});

Deno.test({
  name: "a hold's expiry and a restock reach the pages of all three processes",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    await using fleet = await startFleet(redis.url, 3, [
      "--inventory",
      "10",
      "--hold-ttl",
      "1",
      "--admin-token",
      ADMIN_TOKEN,
    ]);
    const feeds = await Promise.all(fleet.map((server) => openWebSocketFeed(server.url)));
    try {
      assert.equal((await postCart(fleet[0].url, "add", crypto.randomUUID())).status, 200);
      // The hold ends by Redis's clock a second later, swept by whichever process comes first.
      for (const feed of feeds) {
        assert.deepEqual(await feed.waitFor((state) => state.version === 2), {
          inventoryCount: 10,
          version: 2,
        });
      }
      const restock = await fetch(new URL("admin/inventory", fleet[1].url), {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ total: 25 }),
      });
      assert.equal(restock.status, 200, await restock.text());
      for (const feed of feeds) {
        assert.deepEqual(await feed.waitFor((state) => state.version === 3), {
          inventoryCount: 25,
          version: 3,
        });
      }
    } finally {
      await closeFeeds(feeds);
    }
  },
});

Deno.test({
  name: "one hold checked out through three processes at once is sold once, with one order",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    await using service = await startOrderService({ secret: SECRET });
    // The first call is held open until every process has answered, so the three overlap.
    const { promise: release, resolve: answer } = Promise.withResolvers<{ status: number }>();
    service.reply(0, release);
    await using fleet = await startFleet(redis.url, 3, [
      "--inventory",
      "5",
      "--order-webhook",
      service.url,
      "--webhook-secret",
      SECRET,
    ]);
    const session = crypto.randomUUID();
    assert.equal((await postCart(fleet[2].url, "add", session)).status, 200);
    const first = postCart(fleet[0].url, "checkout", session);
    await service.arrived(0);
    const others = await Promise.all(
      [fleet[1], fleet[2]].map((server) => postCart(server.url, "checkout", session)),
    );
    for (const other of others) {
      assert.equal(other.status, 409, JSON.stringify(other.body));
      assert.equal(other.body.error, "checkout in progress");
    }
    answer({ status: 201 });
    const sale = await first;
    assert.equal(sale.status, 200, JSON.stringify(sale.body));
    const again = await postCart(fleet[1].url, "checkout", session);
    assert.deepEqual([again.status, again.body.orderId], [200, sale.body.orderId]);
    assert.equal(service.requests.length, 1);
    assert.equal(service.booked.size, 1);
    // Every process ends on the sale: 4 left of a total of 4, at version 2 (hold, sale).
    for (const server of fleet) {
      const now = await (await fetch(new URL("cart/status?since=0", server.url))).json();
      assert.deepEqual([now.product, now.inventoryCount, now.version], [DEMO, 4, 2]);
    }
  },
});

Deno.test({
  name: "a product listed and retired through one process appears and goes on the others' pages",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    await using fleet = await startFleet(redis.url, 2, ["--admin-token", ADMIN_TOKEN]);
    const [writer, reader] = fleet;
    const admin = (method: string, body?: unknown) =>
      fetch(new URL("admin/products/moon-pin", writer.url), {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    await using catalog = await openWebSocketFeed(reader.url, {}, CATALOG_FEED);
    const listed = await admin("PUT", {
      name: "Moon pin",
      price: { amount: "9.00", currency: "EUR" },
      total: 3,
    });
    assert.equal(listed.status, 201, await listed.text());
    const entry = await catalog.waitForMessage((message) => message.product === "moon-pin");
    assert.deepEqual([entry.name, entry.inventoryCount], ["Moon pin", 3]);
    const page = await fetch(new URL("products/moon-pin", reader.url));
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Moon pin/);

    await using feed = await openWebSocketFeed(reader.url, {}, productFeed("moon-pin"));
    const shopper = crypto.randomUUID();
    assert.equal((await postCart(reader.url, "add", shopper, "moon-pin")).status, 200);
    const retired = await admin("DELETE");
    assert.equal(retired.status, 200, await retired.text());
    const last = await feed.waitForMessage((message) => message.retired === true);
    assert.equal(last.inventoryCount, 3, "the retirement ended the hold");
    const gone = await fetch(new URL("products/moon-pin", reader.url));
    await gone.body?.cancel();
    assert.equal(gone.status, 410);
    assert.equal((await postCart(reader.url, "add", shopper, "moon-pin")).status, 404);
  },
});
