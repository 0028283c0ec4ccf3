/** When event-stream clients reconnect: a jittered `retry:`, and refusals a standard client retries. */
import assert from "node:assert/strict";
import { EventSource } from "eventsource";
import {
  RECONNECT_RETRY,
  REFUSAL_RETRY,
  refusalStream,
  retryFrame,
  type RetrySpan,
} from "../lib/realtime/sse_wire.ts";
import { eventually, metric, openStatusStream } from "./support/clients.ts";
import { startTestServer } from "./support/server.ts";

/** Longer than any retry the server names, so that a test fails instead of hanging. */
const WAIT_LIMIT_MS = REFUSAL_RETRY.maxMs + 10_000;

/** The reconnection time of a `retry:` frame, in ms. */
function retryOf(frame: Uint8Array): number {
  const match = new TextDecoder().decode(frame).match(/^retry: (\d+)\n\n$/);
  assert.ok(match, "a retry frame");
  return Number(match[1]);
}

function assertWithin(ms: number, span: RetrySpan): void {
  assert.ok(ms >= span.minMs && ms <= span.maxMs, `${ms} ms is outside ${JSON.stringify(span)}`);
}

/** Resolves with the next event of a type on an EventSource; rejects after WAIT_LIMIT_MS. */
function nextEvent(source: EventSource, type: string): Promise<Event> {
  const { promise, resolve, reject } = Promise.withResolvers<Event>();
  const timer = setTimeout(() => {
    source.removeEventListener(type, resolve);
    reject(new Error(`no ${type} event within ${WAIT_LIMIT_MS} ms`));
  }, WAIT_LIMIT_MS);
  source.addEventListener(type, (event) => {
    clearTimeout(timer);
    resolve(event);
  }, { once: true });
  return promise;
}

/** Opens an npm:eventsource client; disposing it closes it. */
function openEventSource(base: string): EventSource & Disposable {
  const source = new EventSource(new URL("cart/status", base));
  return Object.assign(source, { [Symbol.dispose]: () => source.close() });
}

Deno.test("a retry frame's time spans its whole range, and anything else is refused", () => {
  assert.equal(retryOf(retryFrame(() => 0)), RECONNECT_RETRY.minMs);
  assert.equal(retryOf(retryFrame(() => 1 - Number.EPSILON)), RECONNECT_RETRY.maxMs);
  assert.equal(retryOf(retryFrame(() => 0, REFUSAL_RETRY)), REFUSAL_RETRY.minMs);
  assert.equal(retryOf(retryFrame(() => 1 - Number.EPSILON, REFUSAL_RETRY)), REFUSAL_RETRY.maxMs);
  const drawn = Array.from({ length: 200 }, () => retryOf(retryFrame()));
  for (const ms of drawn) assertWithin(ms, RECONNECT_RETRY);
  assert.ok(new Set(drawn).size > 100, "times are jittered, not one for everybody");
  for (const bad of [1, -0.1, NaN]) {
    assert.throws(() => retryFrame(() => bad), RangeError);
  }
});

Deno.test("a refusal is an event stream with a longer retry, that ends", async () => {
  const response = refusalStream();
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const text = await response.text();
  const match = text.match(/^: too many connections\nretry: (\d+)\n\n$/);
  assert.ok(match, text);
  assertWithin(Number(match[1]), REFUSAL_RETRY);
});

Deno.test("an event stream names a jittered retry time before anything else", async () => {
  await using server = await startTestServer();
  await using stream = await openStatusStream(server.url);
  assert.equal((await stream.events.next()).id, `${server.inventory.epoch}.0`);
  assert.equal(stream.retries.pending, 1, "a retry came before the first state");
  assertWithin(await stream.retries.next(), RECONNECT_RETRY);
});

Deno.test({
  name: "an EventSource comes back to a server restarted on the same port",
  async fn() {
    await using first = await startTestServer({ inventory: 10 });
    const port = new URL(first.url).port;
    using source = openEventSource(first.url);
    const firstState = await nextEvent(source, "message") as MessageEvent;
    assert.equal(JSON.parse(firstState.data).inventoryCount, 10);

    const lost = nextEvent(source, "error");
    await first.stop();
    await lost;
    assert.equal(source.readyState, EventSource.CONNECTING, "it will try again");
    await using second = await startTestServer({ inventory: 7, port: Number(port) });
    // The new store is at version 0 too, but of another epoch: the client's Last-Event-ID names
    // the old one, so it is sent the new state on reconnecting.
    const secondState = await nextEvent(source, "message") as MessageEvent;
    const { inventoryCount, version, epoch } = JSON.parse(secondState.data);
    assert.deepEqual({ inventoryCount, version }, { inventoryCount: 7, version: 0 });
    assert.equal(epoch, second.inventory.epoch);
    assert.equal(source.readyState, EventSource.OPEN);
    assert.equal(await metric(second.url, "inventory_sse_subscribers"), 1);
  },
});

Deno.test({
  name: "an EventSource refused at --max-connections retries later and gets in once there is room",
  async fn() {
    await using server = await startTestServer({ maxConnections: 1 });
    const poll = new AbortController();
    const held = fetch(new URL("cart/status", server.url), { signal: poll.signal });
    held.catch(() => {});
    await eventually(
      () => server.app.gauges().longPollWaiters === 1,
      "the long poll to hold the one place",
    );

    using source = openEventSource(server.url);
    await nextEvent(source, "error");
    assert.equal(source.readyState, EventSource.CONNECTING, "refused, not closed for good");
    assert.equal(await metric(server.url, "inventory_connections_refused_total"), 1);

    poll.abort();
    await eventually(() => server.app.gauges().longPollWaiters === 0, "the long poll to leave");
    const state = await nextEvent(source, "message") as MessageEvent;
    const { inventoryCount, version } = JSON.parse(state.data);
    assert.deepEqual({ inventoryCount, version }, { inventoryCount: 10, version: 0 });
    assert.equal(source.readyState, EventSource.OPEN);
    assert.equal(await metric(server.url, "inventory_sse_subscribers"), 1);
  },
});
