/**
 * SIGTERM under load: every waiter answered, every socket closed, exit 0 inside main.ts's deadline;
 * and a subscriber that arrives while the stop runs cannot hold it up.
 */
import assert from "node:assert/strict";
import { within } from "./support/within.ts";
import { SseHub } from "../lib/realtime/sse_hub.ts";
import { Topic } from "../lib/realtime/topic.ts";
import { DEFAULT_WEBSOCKET_HUB_OPTIONS, WebSocketHub } from "../lib/realtime/websocket_hub.ts";
import { DEMO, spawnServer, startTestServer } from "./support/server.ts";
import { eventually, metric, openStatusSocket, openStatusStream } from "./support/clients.ts";

// The 5,000 (a few seconds here); STOP_SUBSCRIBERS=N tries another load and prints the time.
const SUBSCRIBERS = Number(Deno.env.get("STOP_SUBSCRIBERS") ?? 5_000);

Deno.test({
  name: `SIGTERM with ${SUBSCRIBERS} subscribers answers them all and exits 0`,
  sanitizeOps: false, // deno#22387
  sanitizeResources: false,
  async fn() {
    await using child = await spawnServer(["--inventory", "7"]);
    const third = Math.floor(SUBSCRIBERS / 3);
    const polls = Array.from({ length: SUBSCRIBERS - 2 * third }, async () => {
      const response = await fetch(new URL("cart/status", child.url));
      const { product, inventoryCount, version } = await response.json();
      return [response.status, product, inventoryCount, version];
    });
    const sockets = [];
    const streams = [];
    // In batches, so that the connects do not all queue on the listener at once.
    for (let i = 0; i < third; i += 100) {
      const n = Math.min(100, third - i);
      sockets.push(
        ...await Promise.all(Array.from({ length: n }, () => openStatusSocket(child.url))),
      );
      streams.push(
        ...await Promise.all(Array.from({ length: n }, () => openStatusStream(child.url))),
      );
    }
    await eventually(
      async () => await metric(child.url, "inventory_connections") === SUBSCRIBERS,
      `${SUBSCRIBERS} connections`,
      30_000,
    );

    const started = performance.now();
    child.process.kill("SIGTERM");
    const answers = await Promise.all(polls);
    for (const answer of answers) {
      assert.deepEqual(answer, [200, DEMO, 7, 0]);
    }
    for (const socket of sockets) assert.equal((await socket.closed).code, 1001);
    await Promise.all(streams.map((stream) => stream.ended));
    const status = await child.status;
    // main.ts exits 1 when stopping takes longer than its 4 s deadline, so 0 means in time.
    assert.equal(status.code, 0, child.output());
    assert.match(child.output(), /SIGTERM: stopping[\s\S]*stopped/);
    assert.doesNotMatch(child.output(), /Uncaught|unhandled|error/i);
    if (Deno.env.get("STOP_SUBSCRIBERS")) {
      console.log(`stopped with ${SUBSCRIBERS} in ${Math.round(performance.now() - started)} ms`);
    }
  },
});

/** A topic that stays open: only the hub's own latch can end what it accepts. */
const openTopic = () =>
  new Topic("poster", () => '{"version":0}', () => ({ epoch: "e1", version: 0 }), { waiters: 0 });

Deno.test("an event stream accepted after its hub closed gets the state and ends at once", async () => {
  const hub = new SseHub(60_000);
  hub.close();
  // A status request that was already in the handler when the stop began.
  const request = new Request("http://x/cart/status", { headers: { accept: "text/event-stream" } });
  const response = hub.accept(request, openTopic());
  assert.equal(hub.size, 0, "the late stream was kept");
  assert.equal(
    await within(response.text(), "the end of the stream"),
    'id: e1.0\ndata: {"version":0}\n\n',
  );
});

Deno.test({
  name: "a WebSocket accepted after its hub closed is closed with 1001 as soon as it opens",
  sanitizeOps: false, // deno#22387
  sanitizeResources: false,
  async fn() {
    const hub = new WebSocketHub({ ...DEFAULT_WEBSOCKET_HUB_OPTIONS, timeoutMs: 0 });
    hub.close();
    const topic = openTopic();
    await using server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen: () => {} },
      (request) => hub.accept(request, topic),
    );
    const socket = new WebSocket(`ws://127.0.0.1:${server.addr.port}/cart/status`);
    const messages: string[] = [];
    socket.onmessage = (event) => messages.push(event.data);
    const closed = new Promise<CloseEvent>((resolve) => socket.onclose = resolve);
    const { code, reason } = await within(closed, "the close of the late socket");
    assert.deepEqual([code, reason], [1001, "server stopping"]);
    assert.deepEqual(messages, [], "a closed hub sends nothing");
    assert.equal(hub.size + hub.opening, 0);
  },
});

Deno.test("once the app stops, a late long poll and a late stream are answered at once", async () => {
  await using server = await startTestServer();
  server.app.stop();
  const since = `${server.inventory.epoch}.0`;
  const poll = await within(
    server.app.handle(new Request(`${server.url}cart/status?since=${since}`)),
    "the answer to the late poll",
  );
  assert.equal(poll.status, 200);
  assert.equal((await poll.json()).version, 0);
  const stream = await server.app.handle(
    new Request(`${server.url}catalog/status`, { headers: { accept: "text/event-stream" } }),
  );
  assert.match(
    await within(stream.text(), "the end of the late stream"),
    /^retry: \d+\n\nid: .*\ndata: /,
  );
  assert.equal(server.app.gauges().connections, 0);
});
