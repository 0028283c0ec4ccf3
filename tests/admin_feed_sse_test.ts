/** GET /admin/feed over real sockets: an add on the shop reaches it, watchers show, leaving cleans up. */
import assert from "node:assert/strict";
import { eventually, postCart } from "./support/clients.ts";
import { openAdminFeed } from "./support/admin_feed.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { startTestServer } from "./support/server.ts";
import { openLongPollFeed, openSseFeed, openWebSocketFeed } from "./support/status_clients.ts";
import { within } from "./support/within.ts";

const TOKEN = "admin-feed-sse-token-01";
const BEARER = { authorization: `Bearer ${TOKEN}` };

Deno.test("an add on the shop is a product event with one more held, then a tick that counts it", async () => {
  await using server = await startTestServer({ adminToken: TOKEN, inventory: 4 });
  await using poll = openLongPollFeed(server.url, 0);
  await using feed = await openAdminFeed(server.url, BEARER);
  assert.equal(feed.response.status, 200);
  const snapshot = (await feed.next("snapshot")).data;
  assert.equal(snapshot.products[0].held, 0);
  assert.deepEqual(snapshot.store, { kind: "memory", reachable: true, lastError: null });
  const waiting = await feed.next("tick", (tick) => tick.watchers.total.longPoll === 1);
  assert.deepEqual(waiting.data.watchers.processes.map((p: { process: string }) => p.process), [
    snapshot.process,
  ]);

  assert.equal((await postCart(server.url, "add", crypto.randomUUID())).status, 200);
  const product = await feed.next("product");
  assert.deepEqual([product.data.held, product.data.inventoryCount, product.data.version], [
    1,
    3,
    1,
  ]);
  const tick = await feed.next("tick", (tick) => tick.holds > 0);
  assert.deepEqual([tick.data.holds, tick.data.releases, tick.data.sales], [1, 0, 0]);
  assert.ok(tick.data.at >= snapshot.activity.start + 3_600_000);
  await poll.waitFor((state) => state.version === 1);
});

Deno.test({
  name: "a WebSocket subscriber shows in the ticks' watchers",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using server = await startTestServer({ adminToken: TOKEN });
    await using socket = await openWebSocketFeed(server.url);
    await using feed = await openAdminFeed(server.url, BEARER);
    const tick = await feed.next("tick", (tick) => tick.watchers.total.websocket === 1);
    assert.deepEqual(tick.data.watchers.total, { websocket: 1, sse: 0, longPoll: 0 });
    assert.equal(socket.messages.length, 1);
  },
});

Deno.test("an event-stream subscriber shows in the ticks' watchers", async () => {
  await using server = await startTestServer({ adminToken: TOKEN });
  await using stream = await openSseFeed(server.url);
  await using feed = await openAdminFeed(server.url, BEARER);
  const tick = await feed.next("tick", (tick) => tick.watchers.total.sse === 1);
  assert.deepEqual(tick.data.watchers.total, { websocket: 0, sse: 1, longPoll: 0 });
  assert.equal(stream.messages.length, 1);
});

Deno.test("the feed refuses a request without the admin token, over a socket too", async () => {
  await using server = await startTestServer({ adminToken: TOKEN });
  const response = await fetch(new URL("admin/feed", server.url), {
    headers: { accept: "text/event-stream" },
  });
  assert.equal(response.status, 401);
  assert.equal(response.headers.get("content-type"), "application/json");
  await response.body?.cancel();
});

Deno.test("a client that goes away leaves no tick timer behind", async () => {
  const clock = new FakeClock();
  await using server = await startTestServer({ adminToken: TOKEN }, { clock });
  const idle = clock.pendingTimers;
  const feed = await openAdminFeed(server.url, BEARER);
  await feed.next("snapshot");
  assert.equal(clock.pendingTimers, idle + 1);
  await feed[Symbol.asyncDispose]();
  await eventually(() => clock.pendingTimers === idle, "the tick timer to go");
});

Deno.test("a graceful stop ends an open feed", async () => {
  const server = await startTestServer({ adminToken: TOKEN });
  await using feed = await openAdminFeed(server.url, BEARER);
  await feed.next("snapshot");
  await within(server.stop(), "the graceful stop");
  await within(feed.ended, "the end of the open feed at the stop");
});
