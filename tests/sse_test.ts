/** Server-Sent Events on GET /cart/status over real sockets. */
import assert from "node:assert/strict";
import { ShoppingCart } from "../lib/inventory/cart.ts";
import { SseHub } from "../lib/realtime/sse_hub.ts";
import { startTestServer } from "./support/server.ts";
import { eventually, metric, openStatusStream, postCart } from "./support/clients.ts";

Deno.test("an event stream starts with the current state, then one event per change", async () => {
  await using server = await startTestServer({ inventory: 4 });
  await using stream = await openStatusStream(server.url);
  assert.equal(stream.response.status, 200);
  assert.equal(stream.response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(stream.response.headers.get("cache-control"), "no-store");
  assert.deepEqual(await stream.events.next(), {
    id: "0",
    data: '{"inventoryCount":4,"version":0}',
  });
  await postCart(server.url, "add", crypto.randomUUID());
  assert.deepEqual(await stream.events.next(), {
    id: "1",
    data: '{"inventoryCount":3,"version":1}',
  });
  assert.equal(await metric(server.url, "inventory_sse_subscribers"), 1);
});

Deno.test("a stream resumed with a current Last-Event-ID gets no first event", async () => {
  await using server = await startTestServer({ inventory: 4 });
  await postCart(server.url, "add", crypto.randomUUID());
  await using stream = await openStatusStream(server.url, { "last-event-id": "1" });
  await eventually(() => server.app.sseSubscribers === 1, "the stream to subscribe");
  await postCart(server.url, "add", crypto.randomUUID());
  assert.equal((await stream.events.next()).id, "2", "the first event is the next change");
});

Deno.test("a stream resumed with an old Last-Event-ID gets the current state first", async () => {
  await using server = await startTestServer({ inventory: 4 });
  await postCart(server.url, "add", crypto.randomUUID());
  await using stream = await openStatusStream(server.url, { "last-event-id": "0" });
  assert.equal((await stream.events.next()).id, "1");
});

Deno.test("a client that leaves is unsubscribed", async () => {
  await using server = await startTestServer();
  const streams = await Promise.all(Array.from({ length: 10 }, () => openStatusStream(server.url)));
  await eventually(() => server.app.sseSubscribers === 10, "10 streams");
  await postCart(server.url, "add", crypto.randomUUID());
  for (const s of streams) {
    assert.equal((await s.events.next()).id, "0");
    assert.equal((await s.events.next()).id, "1", "each stream gets the shared frame");
  }
  for (const s of streams) await s[Symbol.asyncDispose]();
  await eventually(() => server.app.sseSubscribers === 0, "0 streams");
});

Deno.test("idle streams get a comment heartbeat", async () => {
  const cart = new ShoppingCart(1);
  const hub = new SseHub(cart, 20);
  try {
    const response = hub.accept(new Request("http://localhost/cart/status"));
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes(": heartbeat\n\n")) text += (await reader.read()).value;
    assert.match(text, /^retry: \d+\n\nid: 0\ndata: \{"inventoryCount":1,"version":0\}\n\n/);
    await reader.cancel();
    assert.equal(hub.size, 0);
  } finally {
    hub.close();
  }
});

Deno.test("a stream that is not read gets only the newest state when it reads again", async () => {
  const cart = new ShoppingCart(1000);
  const hub = new SseHub(cart, 60_000);
  try {
    const response = hub.accept(new Request("http://localhost/cart/status"));
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    for (let i = 0; i < 500; i++) await cart.add(crypto.randomUUID());
    let text = "";
    while (!text.includes("id: 500\n")) text += (await reader.read()).value;
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    assert.ok(ids.length < 10, `conflated to a few frames, got ${ids.length}`);
    assert.equal(ids.at(-1), 500);
    await reader.cancel();
  } finally {
    hub.close();
  }
});
