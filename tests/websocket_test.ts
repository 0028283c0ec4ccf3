/** WebSocket push on GET /cart/status, and the /echo socket, over real sockets. */
import assert from "node:assert/strict";
import { within } from "./support/within.ts";
import { startTestServer } from "./support/server.ts";
import { eventually, metric, openStatusSocket, postCart } from "./support/clients.ts";
import { DEMO_PRODUCT } from "../lib/server/demo_catalog.ts";
import { openWebSocketFeed } from "./support/status_clients.ts";

const wsOptions = { sanitizeOps: false, sanitizeResources: false }; // deno#22387

Deno.test({
  name: "a WebSocket gets the current state on open, then every change",
  ...wsOptions,
  async fn() {
    await using server = await startTestServer({ inventory: 3 });
    await using subscriber = await openStatusSocket(server.url);
    assert.deepEqual(await subscriber.states.next(), { inventoryCount: 3, version: 0 });
    const shopper = crypto.randomUUID();
    await postCart(server.url, "add", shopper);
    assert.deepEqual(await subscriber.states.next(), { inventoryCount: 2, version: 1 });
    await postCart(server.url, "remove", shopper);
    assert.deepEqual(await subscriber.states.next(), { inventoryCount: 3, version: 2 });
    assert.equal(await metric(server.url, "inventory_websocket_subscribers"), 1);
  },
});

Deno.test({
  name: "a WebSocket message names its product and the store's epoch",
  ...wsOptions,
  async fn() {
    await using server = await startTestServer({ inventory: 3 });
    await using feed = await openWebSocketFeed(server.url);
    const epoch = server.inventory.epoch;
    const first = await feed.waitForMessage(() => true);
    assert.deepEqual(first, { product: DEMO_PRODUCT.id, inventoryCount: 3, version: 0, epoch });
  },
});

Deno.test({
  name: "every subscriber hears every change, and a closed one is forgotten",
  ...wsOptions,
  async fn() {
    // The changes come from one address: the per-address limit of holds is not the subject here.
    await using server = await startTestServer({ inventory: 10, maxHoldsPerClient: 0 });
    const subscribers = await Promise.all(
      Array.from({ length: 20 }, () => openStatusSocket(server.url)),
    );
    for (const s of subscribers) assert.equal((await s.states.next()).version, 0);
    for (let i = 0; i < 5; i++) {
      await postCart(server.url, "add", crypto.randomUUID());
    }
    for (const s of subscribers) {
      const versions = [];
      for (let i = 0; i < 5; i++) versions.push((await s.states.next()).version);
      assert.deepEqual(versions, [1, 2, 3, 4, 5]);
    }
    for (const s of subscribers) await s[Symbol.asyncDispose]();
    await eventually(
      () => server.app.gauges().websocketSubscribers === 0,
      "subscribers to be forgotten",
    );
  },
});

Deno.test({
  name:
    "a WebSocket upgrade from another origin is refused with 403 on /echo, taken on a status feed",
  async fn() {
    await using server = await startTestServer();
    const upgrade = (path: string) =>
      fetch(new URL(path, server.url), {
        headers: {
          upgrade: "websocket",
          connection: "Upgrade",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
          "sec-websocket-version": "13",
          origin: "http://evil.example",
        },
      });
    const echo = await upgrade("echo");
    assert.equal(echo.status, 403);
    assert.match((await echo.json()).error, /Cross-origin/);
    // A status feed only reads public counts: any page may follow it (docs/embed.md).
    const status = await upgrade("cart/status");
    assert.equal(status.status, 101);
    await status.body?.cancel();
  },
});

Deno.test({
  name: "/echo greets and echoes every message",
  ...wsOptions,
  async fn() {
    await using server = await startTestServer();
    const url = new URL("echo", server.url);
    url.protocol = "ws:";
    const socket = new WebSocket(url);
    const messages: string[] = [];
    const { promise: three, resolve } = Promise.withResolvers<void>();
    socket.onmessage = (e) => {
      messages.push(e.data);
      if (messages.length === 3) resolve();
    };
    socket.onopen = () => {
      socket.send("hello");
      socket.send("again");
    };
    await within(three, "the greeting and two echoes");
    assert.deepEqual(messages, ["connected!", "hello", "again"]);
    const closed = new Promise((r) => socket.onclose = r);
    socket.close();
    await within(closed, "the close of the echo socket");
  },
});

Deno.test({
  name:
    "an /echo socket counts toward --max-connections, and the server's stop closes it with 1001",
  ...wsOptions,
  async fn() {
    await using server = await startTestServer({ maxConnections: 1 });
    const url = new URL("echo", server.url);
    url.protocol = "ws:";
    const socket = new WebSocket(url);
    const greeted = new Promise((resolve) => socket.onmessage = resolve);
    const closed = new Promise<CloseEvent>((resolve) => socket.onclose = resolve);
    await greeted;
    assert.equal(server.app.gauges().connections, 1);

    const refusedPoll = await fetch(new URL("cart/status", server.url));
    assert.equal(refusedPoll.status, 503);
    await refusedPoll.body?.cancel();
    const second = new WebSocket(url);
    const refused = await new Promise<string>((resolve) => {
      second.onopen = () => resolve("open");
      second.onerror = () => resolve("refused");
    });
    assert.equal(refused, "refused");
    assert.equal(await metric(server.url, "inventory_connections_refused_total"), 2);

    await server.stop();
    const { code } = await closed;
    assert.equal(code, 1001);
    assert.equal(server.app.gauges().connections, 0);
  },
});

Deno.test("/echo without an upgrade answers 426", async () => {
  await using server = await startTestServer();
  const response = await fetch(new URL("echo", server.url));
  assert.equal(response.status, 426);
  await response.body?.cancel();
});
