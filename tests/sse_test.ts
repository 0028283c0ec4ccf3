/** Server-Sent Events on GET /cart/status over real sockets. */
import assert from "node:assert/strict";
import { DEMO_PRODUCT } from "../lib/server/demo_catalog.ts";
import { SseHub } from "../lib/realtime/sse_hub.ts";
import type { RunningServer } from "../lib/server/start_server.ts";
import { startTestServer } from "./support/server.ts";
import { eventually, metric, openStatusStream, postCart } from "./support/clients.ts";
import { openMemoryShop } from "./support/memory_shop.ts";

/** The demo product's event on this server: its id and data. */
const demoEvent = (server: RunningServer, inventoryCount: number, version: number) => {
  const epoch = server.inventory.epoch;
  return {
    id: `${epoch}.${version}`,
    data: JSON.stringify({ product: DEMO_PRODUCT.id, inventoryCount, version, epoch }),
  };
};

const streams = (server: RunningServer) => server.app.gauges().sseSubscribers;

Deno.test("an event stream starts with the current state, then one event per change", async () => {
  await using server = await startTestServer({ inventory: 4 });
  await using stream = await openStatusStream(server.url);
  assert.equal(stream.response.status, 200);
  assert.equal(stream.response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(stream.response.headers.get("cache-control"), "no-store");
  assert.deepEqual(await stream.events.next(), demoEvent(server, 4, 0));
  await postCart(server.url, "add", crypto.randomUUID());
  assert.deepEqual(await stream.events.next(), demoEvent(server, 3, 1));
  assert.equal(await metric(server.url, "inventory_sse_subscribers"), 1);
});

Deno.test("a stream resumed with a current Last-Event-ID gets no first event", async () => {
  await using server = await startTestServer({ inventory: 4 });
  await postCart(server.url, "add", crypto.randomUUID());
  const epoch = server.inventory.epoch;
  await using stream = await openStatusStream(server.url, { "last-event-id": `${epoch}.1` });
  await eventually(() => streams(server) === 1, "the stream to subscribe");
  await postCart(server.url, "add", crypto.randomUUID());
  assert.equal((await stream.events.next()).id, `${epoch}.2`, "the first event is the next change");
});

for (const stale of ["an old version", "the current version without its epoch"]) {
  Deno.test(`a stream resumed with ${stale} as Last-Event-ID gets the current state first`, async () => {
    await using server = await startTestServer({ inventory: 4 });
    await postCart(server.url, "add", crypto.randomUUID());
    const id = stale === "an old version" ? `${server.inventory.epoch}.0` : "1";
    await using stream = await openStatusStream(server.url, { "last-event-id": id });
    assert.deepEqual(await stream.events.next(), demoEvent(server, 3, 1));
  });
}

Deno.test("a client that leaves is unsubscribed", async () => {
  await using server = await startTestServer();
  const open = await Promise.all(Array.from({ length: 10 }, () => openStatusStream(server.url)));
  await eventually(() => streams(server) === 10, "10 streams");
  await postCart(server.url, "add", crypto.randomUUID());
  const epoch = server.inventory.epoch;
  for (const s of open) {
    assert.equal((await s.events.next()).id, `${epoch}.0`);
    assert.equal((await s.events.next()).id, `${epoch}.1`, "each stream gets the shared frame");
  }
  for (const s of open) await s[Symbol.asyncDispose]();
  await eventually(() => streams(server) === 0, "0 streams");
});

Deno.test("idle streams get a comment heartbeat", async () => {
  await using shop = await openMemoryShop({ pin: 1 });
  const hub = new SseHub(20);
  try {
    const response = hub.accept(new Request("http://localhost/cart/status"), shop.topic("pin"));
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes(": heartbeat\n\n")) text += (await reader.read()).value;
    const epoch = shop.inventory.epoch;
    const first = `{"product":"pin","inventoryCount":1,"version":0,"epoch":"${epoch}"}`;
    assert.ok(text.startsWith(`id: ${epoch}.0\ndata: ${first}\n\n`), text);
    await reader.cancel();
    assert.equal(hub.size, 0);
  } finally {
    hub.close();
  }
});

Deno.test("a stream that is not read gets only the newest state when it reads again", async () => {
  await using shop = await openMemoryShop({ pin: 1000 });
  const hub = new SseHub(60_000);
  try {
    const response = hub.accept(new Request("http://localhost/cart/status"), shop.topic("pin"));
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    for (let i = 0; i < 500; i++) await shop.inventory.add("pin", crypto.randomUUID());
    const last = `id: ${shop.inventory.epoch}.500\n`;
    let text = "";
    while (!text.includes(last)) text += (await reader.read()).value;
    const ids = [...text.matchAll(/^id: [0-9a-f]+\.(\d+)$/gm)].map((m) => Number(m[1]));
    assert.ok(ids.length < 10, `conflated to a few frames, got ${ids.length}`);
    assert.equal(ids.at(-1), 500);
    await reader.cancel();
  } finally {
    hub.close();
  }
});
