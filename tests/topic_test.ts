/** Topics over real sockets: each product's feed, the catalog feed, and a retired product's end. */
import { formatPrice } from "../lib/inventory/product.ts";
import assert from "node:assert/strict";
import { within } from "./support/within.ts";
import { isDeepStrictEqual } from "node:util";
import type { RunningServer } from "../lib/server/start_server.ts";
import { CATALOG_FEED, eventually, openStatusStream, productFeed } from "./support/clients.ts";
import { catalogEntries, productInfo } from "./support/products.ts";
import { startTestServer } from "./support/server.ts";
import {
  openLongPollFeed,
  openSseFeed,
  openWebSocketFeed,
  pollAtOnce,
  type StateFeed,
  type StatusMessage,
} from "./support/status_clients.ts";

const wsOptions = { sanitizeOps: false, sanitizeResources: false }; // deno#22387

/** Three products; the catalog's version starts at 3 (each product counts its version plus one). */
const TOTALS = { print: 5, tote: 7, pin: 3 };

// The changes come from one address: the per-address limit of holds is not the subject here.
const startCatalogServer = () =>
  startTestServer(
    { maxHoldsPerClient: 0 },
    { catalog: { entries: catalogEntries(TOTALS), media: new Map() } },
  );

/** A product's status message on this server. */
const stateOf = (server: RunningServer, id: string, inventoryCount: number, version: number) => ({
  product: id,
  inventoryCount,
  version,
  epoch: server.inventory.epoch,
});

/** A product's entry in the catalog feed on this server. */
const entryOf = (server: RunningServer, id: string, inventoryCount: number, version: number) => {
  const { name, price, image } = productInfo(id);
  return {
    ...stateOf(server, id, inventoryCount, version),
    name,
    price,
    priceText: formatPrice(price),
    image,
    limitText: "one per shopper",
  };
};

/** The catalog feed's snapshot on this server, every product at its version. */
const snapshotOf = (
  server: RunningServer,
  version: number,
  entries: ReturnType<typeof entryOf>[],
) => ({ epoch: server.inventory.epoch, version, products: entries });

const waiters = (server: RunningServer) => server.app.gauges().longPollWaiters;

/** Waits until every feed has a message like `expected`. */
const allGet = (feeds: StateFeed[], expected: object) =>
  Promise.all(
    feeds.map((feed) => feed.waitForMessage((message) => isDeepStrictEqual(message, expected))),
  );

/** A WebSocket, an event stream and a long poll (waiting at `since`) on one feed. */
async function openThree(server: RunningServer, path: string, since: string): Promise<StateFeed[]> {
  return [
    await openWebSocketFeed(server.url, {}, path),
    await openSseFeed(server.url, path),
    openLongPollFeed(server.url, since, path),
  ];
}

async function closeAll(feeds: StateFeed[]): Promise<void> {
  for (const feed of feeds) await feed[Symbol.asyncDispose]();
}

Deno.test({
  name: "a change of a product reaches its subscribers only, over WebSocket, SSE and long polling",
  ...wsOptions,
  async fn() {
    await using server = await startCatalogServer();
    const start = `${server.inventory.epoch}.0`;
    const print = await openThree(server, productFeed("print"), start);
    const tote = await openThree(server, productFeed("tote"), start);
    try {
      await eventually(() => waiters(server) === 2, "both long polls to wait");
      await server.inventory.add("print", crypto.randomUUID());
      await allGet(print, stateOf(server, "print", 4, 1));
      await server.inventory.add("tote", crypto.randomUUID());
      await allGet(tote, stateOf(server, "tote", 6, 1));
      await server.inventory.add("print", crypto.randomUUID());
      await allGet(print, stateOf(server, "print", 3, 2));
      // A leak of tote's change would have come before print's second one on the same connection;
      // one of print's first change, before tote's.
      const [printSocket, printStream, printPoll] = print.map((feed) => feed.messages);
      const printStates = [0, 1, 2].map((v) => stateOf(server, "print", 5 - v, v));
      assert.deepEqual(printSocket, printStates);
      assert.deepEqual(printStream, printStates);
      assert.deepEqual(printPoll, printStates.slice(1));
      const [toteSocket, toteStream, totePoll] = tote.map((feed) => feed.messages);
      const toteStates = [0, 1].map((v) => stateOf(server, "tote", 7 - v, v));
      assert.deepEqual(toteSocket, toteStates);
      assert.deepEqual(toteStream, toteStates);
      assert.deepEqual(totePoll, toteStates.slice(1));
    } finally {
      await closeAll([...print, ...tote]);
    }
  },
});

Deno.test({
  name: "the catalog feed opens with every product, then sends one entry per change of any",
  ...wsOptions,
  async fn() {
    await using server = await startCatalogServer();
    const opening = snapshotOf(server, 3, [
      entryOf(server, "print", 5, 0),
      entryOf(server, "tote", 7, 0),
      entryOf(server, "pin", 3, 0),
    ]);
    // The long poll stands at a version the catalog never had, so it is answered at once.
    const feeds = await openThree(server, CATALOG_FEED, "0");
    try {
      await allGet(feeds, opening);
      const changes: [string, ReturnType<typeof entryOf>][] = [
        ["print", entryOf(server, "print", 4, 1)],
        ["tote", entryOf(server, "tote", 6, 1)],
        ["print", entryOf(server, "print", 3, 2)],
      ];
      const [socket, stream, poll] = feeds;
      for (const [id, entry] of changes) {
        await server.inventory.add(id, crypto.randomUUID());
        await allGet([socket, stream], entry);
      }
      const entries = changes.map(([, entry]) => entry);
      assert.deepEqual(socket.messages, [opening, ...entries]);
      assert.deepEqual(stream.messages, [opening, ...entries]);
      // A long poll is answered with the whole catalog each time, never an older one.
      const last = snapshotOf(server, 6, [
        entryOf(server, "print", 3, 2),
        entryOf(server, "tote", 6, 1),
        entryOf(server, "pin", 3, 0),
      ]);
      await allGet([poll], last);
      const versions = poll.messages.map((message) => message.version);
      assert.ok(versions.every((v, i) => i === 0 || v > versions[i - 1]), `${versions}`);
      assert.ok(poll.messages.every((message) => Array.isArray(message.products)));
    } finally {
      await closeAll(feeds);
    }
  },
});

Deno.test("a catalog stream resumed at the current cursor skips the snapshot; another gets it", async () => {
  await using server = await startCatalogServer();
  const epoch = server.inventory.epoch;
  const headers = { "last-event-id": `${epoch}.3` };
  await using current = await openStatusStream(server.url, headers, CATALOG_FEED);
  await eventually(() => server.app.gauges().sseSubscribers === 1, "the stream to subscribe");
  await server.inventory.add("pin", crypto.randomUUID());
  assert.deepEqual(await current.events.next(), {
    id: `${epoch}.4`,
    data: JSON.stringify(entryOf(server, "pin", 2, 1)),
  });
  // The same id is behind now: that stream gets the whole catalog first.
  await using behind = await openStatusStream(server.url, headers, CATALOG_FEED);
  const first = await behind.events.next();
  assert.equal(first.id, `${epoch}.4`);
  assert.deepEqual(
    JSON.parse(first.data),
    snapshotOf(server, 4, [
      entryOf(server, "print", 5, 0),
      entryOf(server, "tote", 7, 0),
      entryOf(server, "pin", 2, 1),
    ]),
  );
});

Deno.test("a catalog long poll with since=<epoch>.<v> answers at once when behind, else waits", async () => {
  await using server = await startCatalogServer();
  const epoch = server.inventory.epoch;
  await server.inventory.add("tote", crypto.randomUUID());
  const poll = (since: string) =>
    fetch(new URL(`${CATALOG_FEED}?since=${since}`, server.url)).then((r) => r.json());
  const now = snapshotOf(server, 4, [
    entryOf(server, "print", 5, 0),
    entryOf(server, "tote", 6, 1),
    entryOf(server, "pin", 3, 0),
  ]);
  assert.deepEqual(await pollAtOnce(server.url, `${epoch}.3`, CATALOG_FEED), now);
  assert.equal(waiters(server), 0);
  const waiting = poll(`${epoch}.4`);
  await eventually(() => waiters(server) === 1, "the poll at the current cursor to wait");
  await server.inventory.add("pin", crypto.randomUUID());
  const answer: StatusMessage = await within(waiting, "the answer of the waiting catalog poll");
  assert.equal(answer.version, 5);
});

Deno.test({
  name: "a retired product's subscribers get its last state, then WebSockets close (1001), " +
    "streams end and polls are answered",
  ...wsOptions,
  async fn() {
    await using server = await startCatalogServer();
    await server.inventory.add("tote", crypto.randomUUID());
    const at = `${server.inventory.epoch}.1`;
    const [socket, stream, poll] = await openThree(server, productFeed("tote"), at);
    await using catalog = await openWebSocketFeed(server.url, {}, CATALOG_FEED);
    await using print = await openWebSocketFeed(server.url, {}, productFeed("print"));
    try {
      await eventually(() => waiters(server) === 1, "the long poll to wait");
      await server.inventory.retire("tote");
      // Its holds end with it: all 7 are counted again, at version 2.
      const last = { ...stateOf(server, "tote", 7, 2), retired: true };
      assert.equal(await socket.waitForEnd(), "socket closed with 1001");
      assert.deepEqual(socket.messages.at(-1), last);
      assert.equal(await stream.waitForEnd(), "stream ended");
      assert.deepEqual(stream.messages.at(-1), last);
      assert.equal(await poll.waitForEnd(), "poll answered 410", "the next poll finds it gone");
      assert.deepEqual(poll.messages, [last]);
      await catalog.waitForMessage((message) => message.product === "tote" && !!message.retired);
      const response = await fetch(new URL(productFeed("tote"), server.url));
      assert.equal(response.status, 410);
      await response.body?.cancel();
      assert.deepEqual(print.messages, [stateOf(server, "print", 5, 0)], "others go on");
    } finally {
      await closeAll([socket, stream, poll]);
    }
  },
});
