/** The epoch: a client that followed an earlier life of the store is not left on its state. */
import assert from "node:assert/strict";
import { within } from "./support/within.ts";
import { DEMO_PRODUCT } from "../lib/server/demo_catalog.ts";
import type { RunningServer } from "../lib/server/start_server.ts";
import { eventually, openStatusStream, postCart } from "./support/clients.ts";
import { startTestServer } from "./support/server.ts";
import { pollAtOnce } from "./support/status_clients.ts";

/** The demo product's status message on this server. */
const stateOf = (server: RunningServer, inventoryCount: number, version: number) => ({
  product: DEMO_PRODUCT.id,
  inventoryCount,
  version,
  epoch: server.inventory.epoch,
});

Deno.test("a client resumed from a store that restarted empty gets the new store's state at once", async () => {
  // Issue 10 item 5: with --data :memory:, add once (version 1, count 9), restart with
  // --inventory 5, add once (version 1, count 4): a page that reconnected with Last-Event-ID: 1
  // got nothing and kept showing 9.
  await using first = await startTestServer({ inventory: 10 });
  let lastId: string | undefined;
  {
    await using stream = await openStatusStream(first.url);
    await stream.events.next();
    await postCart(first.url, "add", crypto.randomUUID());
    const event = await stream.events.next();
    assert.equal(JSON.parse(event.data).inventoryCount, 9);
    lastId = event.id;
  }
  assert.equal(lastId, `${first.inventory.epoch}.1`);
  const port = Number(new URL(first.url).port);
  await first.stop();

  await using second = await startTestServer({ port, inventory: 5 });
  assert.notEqual(second.inventory.epoch, first.inventory.epoch, "a new life of the store");
  // A plain since=1 from the first life: the version differs, so it is answered at once.
  assert.deepEqual(await pollAtOnce(second.url, "1"), stateOf(second, 5, 0));
  await postCart(second.url, "add", crypto.randomUUID());
  // Now both lives are at version 1, count 9 there and 4 here: only the epoch tells them apart.
  assert.deepEqual(await pollAtOnce(second.url, lastId), stateOf(second, 4, 1));
  const polling = new AbortController();
  const plain = fetch(new URL("cart/status?since=1", second.url), { signal: polling.signal })
    .catch(() => {});
  await eventually(() => second.app.gauges().longPollWaiters === 1, "a plain since=1 to wait");
  polling.abort();
  await within(plain, "the end of the aborted poll");

  await using resumed = await openStatusStream(second.url, { "last-event-id": lastId });
  await postCart(second.url, "add", crypto.randomUUID());
  const epoch = second.inventory.epoch;
  const data = (inventoryCount: number, version: number) =>
    JSON.stringify(stateOf(second, inventoryCount, version));
  // The current state came first, before the change made after the stream opened.
  assert.deepEqual(await resumed.events.next(), { id: `${epoch}.1`, data: data(4, 1) });
  assert.deepEqual(await resumed.events.next(), { id: `${epoch}.2`, data: data(3, 2) });
});
