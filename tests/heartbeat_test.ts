/** Heartbeats: dead WebSocket peers are dropped, live silent ones kept; non-reading streams end. */
import assert from "node:assert/strict";
import { DEMO, startTestServer } from "./support/server.ts";
import { openRawWebSocket } from "./support/raw_websocket.ts";
import {
  eventually,
  metric,
  openStatusSocket,
  openStatusStream,
  postCart,
} from "./support/clients.ts";
import { RawHttpConnection } from "./support/raw_http.ts";

/** Blocks this process's event loop, and so the in-process server's, like a long GC or a busy CPU. */
function stallEventLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Busy on purpose.
  }
}

Deno.test({
  name: "a WebSocket peer that answers no ping is closed; silent live ones survive a stall",
  sanitizeOps: false, // deno#22387
  sanitizeResources: false,
  async fn() {
    const timeoutMs = 2_000;
    await using server = await startTestServer({ websocketTimeoutMs: timeoutMs });
    // Deno's WebSocket answers pings by itself, as browsers do, though these never send a thing.
    const live = await Promise.all(Array.from({ length: 20 }, () => openStatusSocket(server.url)));
    for (const subscriber of live) await subscriber.states.next();
    // A bare TCP client that never reads: it cannot answer a ping, like a peer that is gone.
    const dead = await openRawWebSocket(server.url, "/cart/status");
    try {
      await eventually(() => server.app.gauges().websocketSubscribers === 21, "21 subscribers");
      // Longer than the whole timeout: every ping deadline passes while nothing can run.
      stallEventLoop(timeoutMs + 500);

      let timer: ReturnType<typeof setTimeout> | undefined;
      const { closeCode } = await Promise.race([
        dead.readUntil(() => false),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error("the dead peer was not closed")),
            5 * timeoutMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      assert.equal(closeCode, 1001);
      await eventually(
        () => server.app.gauges().websocketSubscribers === 20,
        "the dead peer to go",
      );
      await postCart(server.url, "add", crypto.randomUUID());
      for (const subscriber of live) {
        assert.deepEqual(await subscriber.states.next(), { inventoryCount: 9, version: 1 });
        assert.equal(subscriber.socket.readyState, WebSocket.OPEN);
      }
    } finally {
      dead.conn.close();
      for (const subscriber of live) await subscriber[Symbol.asyncDispose]();
    }
  },
});

Deno.test("a reading event stream gets heartbeat comments and stays open", async () => {
  await using server = await startTestServer({ sseHeartbeatMs: 20 });
  await using stream = await openStatusStream(server.url);
  await stream.events.next();
  for (let i = 0; i < 5; i++) assert.equal(await stream.comments.next(), "heartbeat");
  assert.equal(server.app.gauges().sseSubscribers, 1);
  assert.equal(await metric(server.url, "inventory_sse_slow_closed_total"), 0);
});

Deno.test("an event stream that stops reading is ended and counted once its buffers fill", async () => {
  await using server = await startTestServer({ inventory: 1, sseHeartbeatMs: 50 });
  const reader = await RawHttpConnection.open(server.url);
  try {
    await reader.write("GET /cart/status HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n");
    await eventually(() => server.app.gauges().sseSubscribers === 1, "the stream to open");
    // ~50-byte frames: enough changes to fill loopback's socket buffers, so the stream stalls.
    const shopper = crypto.randomUUID();
    for (let i = 0; i < 1_000_000 && server.app.gauges().sseSubscribers === 1; i++) {
      await server.inventory.add(DEMO, shopper);
      await server.inventory.remove(DEMO, shopper);
      if (i % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    assert.equal(server.app.gauges().sseSubscribers, 0, "the stream was ended");
    assert.equal(await metric(server.url, "inventory_sse_slow_closed_total"), 1);
  } finally {
    reader.close();
  }
});
