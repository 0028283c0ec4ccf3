/** Long polling on GET /cart/status over real sockets. */
import assert from "node:assert/strict";
import type { RunningServer } from "../lib/server/start_server.ts";
import { DEMO_PRODUCT } from "../lib/server/demo_catalog.ts";
import { startTestServer } from "./support/server.ts";
import { eventually, metric, postCart } from "./support/clients.ts";
import { pollAtOnce } from "./support/status_clients.ts";
import { longPollResponse } from "../lib/realtime/long_poll.ts";
import { DeadlineQueue } from "../lib/time/deadline_queue.ts";
import { PollGate } from "../lib/realtime/poll_gate.ts";
import { versionedTopic } from "./support/versioned_topic.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { within } from "./support/within.ts";

/** GET /cart/status: a poll that should be answered at once, or soon after a change. */
const status = (base: string, query = "", init: RequestInit = {}) =>
  within(
    fetch(new URL(`cart/status${query}`, base), init),
    `an answer to GET /cart/status${query}`,
  );

/** The demo product's status message on this server. */
const stateMessage = (server: RunningServer, inventoryCount: number, version: number) => ({
  product: DEMO_PRODUCT.id,
  inventoryCount,
  version,
  epoch: server.inventory.epoch,
});

const waiters = (server: RunningServer) => server.app.gauges().longPollWaiters;

Deno.test("a long poll without since is released by the next change", async () => {
  await using server = await startTestServer({ inventory: 5 });
  const polling = status(server.url);
  await eventually(() => waiters(server) === 1, "the waiter");
  await postCart(server.url, "add", crypto.randomUUID());
  const response = await polling;
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("cache-control"), "no-store");
  assert.deepEqual(await response.json(), stateMessage(server, 4, 1));
});

Deno.test("since below the current version answers at once; since equal waits", async () => {
  await using server = await startTestServer({ inventory: 5 });
  await postCart(server.url, "add", crypto.randomUUID());
  assert.deepEqual(await (await status(server.url, "?since=0")).json(), stateMessage(server, 4, 1));
  assert.equal(waiters(server), 0);
  const polling = status(server.url, "?since=1");
  await eventually(() => waiters(server) === 1, "the waiter");
  await postCart(server.url, "add", crypto.randomUUID());
  assert.deepEqual(await (await polling).json(), stateMessage(server, 3, 2));
});

Deno.test("since=<epoch>.<version>: the current cursor waits; another version or epoch answers at once", async () => {
  await using server = await startTestServer({ inventory: 5 });
  await postCart(server.url, "add", crypto.randomUUID());
  const epoch = server.inventory.epoch;
  assert.deepEqual(await pollAtOnce(server.url, `${epoch}.0`), stateMessage(server, 4, 1));
  // The same version in another life of the store is not the same state.
  const otherEpoch = epoch === "00000000" ? "11111111" : "00000000";
  assert.deepEqual(await pollAtOnce(server.url, `${otherEpoch}.1`), stateMessage(server, 4, 1));
  assert.equal(waiters(server), 0);
  const polling = status(server.url, `?since=${epoch}.1`);
  await eventually(() => waiters(server) === 1, "the waiter");
  await postCart(server.url, "add", crypto.randomUUID());
  assert.deepEqual(await (await polling).json(), stateMessage(server, 3, 2));
});

Deno.test("a client re-polling with since never misses a change made between polls", async () => {
  await using server = await startTestServer({ inventory: 5 });
  const first = await (await status(server.url, "?since=99")).json();
  await postCart(server.url, "add", crypto.randomUUID());
  const next = await (await status(server.url, `?since=${first.epoch}.${first.version}`)).json();
  assert.deepEqual(next, stateMessage(server, 4, 1));
});

Deno.test("a poll with nothing to report answers the current state after the poll timeout", async () => {
  await using server = await startTestServer({ pollTimeoutMs: 50 });
  const response = await status(server.url, "?since=0");
  assert.deepEqual(await response.json(), stateMessage(server, 10, 0));
  assert.equal(waiters(server), 0);
});

// "1.5" is a cursor (epoch "1", version 5), not a malformed version.
const malformed = [
  "?since=-1",
  "?since=abc",
  "?since=x.1",
  "?since=1.",
  "?since=.1",
  "?since=a.b.1",
  "?since=",
  "?since=1&since=2",
];
for (const query of malformed) {
  Deno.test(`a long poll with ${query} answers 400`, async () => {
    await using server = await startTestServer();
    const response = await status(server.url, query);
    assert.equal(response.status, 400);
    assert.match((await response.json()).error, /since/);
    assert.equal(waiters(server), 0);
  });
}

Deno.test("200 long polls whose clients leave leave 0 waiters", async () => {
  await using server = await startTestServer();
  const controllers = Array.from({ length: 200 }, () => new AbortController());
  const polls = controllers.map((c) =>
    status(server.url, "", { signal: c.signal }).catch(() => {})
  );
  await eventually(
    async () => await metric(server.url, "inventory_long_poll_waiters") === 200,
    "200 waiters",
  );
  for (const c of controllers) c.abort();
  await within(Promise.all(polls), "the end of 200 polls whose clients left");
  await eventually(
    async () => await metric(server.url, "inventory_long_poll_waiters") === 0,
    "0 waiters",
  );
});

/** A product's topic whose version the test sets, its gate, and a 25 s deadline queue on a clock. */
function pollRig() {
  const { state, topic } = versionedTopic();
  const clock = new FakeClock(0);
  const deadlines = new DeadlineQueue(25_000, clock);
  const polls = { open: 0 };
  const poll = (signal = new AbortController().signal) =>
    longPollResponse(
      topic,
      new PollGate(topic),
      deadlines,
      new Request("http://x/cart/status", { signal }),
      undefined,
      polls,
    );
  return { state, topic, clock, deadlines, polls, poll };
}

Deno.test("1,000 polls whose clients leave leave no waiter, no deadline and no timer", async () => {
  const { topic, clock, deadlines, polls, poll } = pollRig();
  const clients = Array.from({ length: 1000 }, () => new AbortController());
  const answers = clients.map((client) => poll(client.signal));
  assert.deepEqual(
    [topic.waiterCount, deadlines.size, clock.pendingTimers, polls.open],
    [1000, 1000, 1, 1000],
  );
  for (const client of clients) client.abort();
  assert.equal(topic.waiterCount, 0, "the waiters leave at once");
  const left = await within(Promise.all(answers), "the answers to 1,000 polls whose clients left");
  for (const answer of left) await answer.body?.cancel();
  assert.deepEqual([deadlines.size, clock.pendingTimers, polls.open], [0, 0, 0]);
});

Deno.test("a poll times out at its own deadline with the current state, and leaves nothing", async () => {
  const { state, topic, clock, deadlines, poll } = pollRig();
  const first = poll();
  clock.advance(10_000);
  const second = poll();
  state.version = 1; // The state moved without a change reaching the topic: the answer reads it.
  clock.advance(15_000);
  assert.deepEqual(await (await within(first, "the first poll's answer at its deadline")).json(), {
    version: 1,
  });
  assert.deepEqual([topic.waiterCount, deadlines.size], [1, 1], "the second one waits on");
  clock.advance(10_000);
  assert.deepEqual(
    await (await within(second, "the second poll's answer at its deadline")).json(),
    {
      version: 1,
    },
  );
  assert.deepEqual([topic.waiterCount, deadlines.size, clock.pendingTimers], [0, 0, 0]);
});

Deno.test("a poll released by a change or a close leaves its deadline at once", async () => {
  const { topic, clock, deadlines, poll } = pollRig();
  const changed = poll();
  topic.publish({ product: "print", version: 1, cursor: "e1.1", json: "{}", last: false });
  await (await within(changed, "the answer of a poll released by a change")).body?.cancel();
  assert.deepEqual([deadlines.size, clock.pendingTimers], [0, 0]);
  const closed = poll();
  topic.close();
  await (await within(closed, "the answer of a poll released by the close")).body?.cancel();
  assert.deepEqual([topic.waiterCount, deadlines.size, clock.pendingTimers], [0, 0, 0]);
});

Deno.test("other methods on /cart/status answer 405", async () => {
  await using server = await startTestServer();
  const response = await status(server.url, "", { method: "POST" });
  assert.equal(response.status, 405);
  assert.equal(response.headers.get("allow"), "GET, OPTIONS", "a preflight is answered");
  await response.body?.cancel();
});
