/** Topics on an inventory: waiters, subscribers and the catalog's version, as pushes see them. */
import assert from "node:assert/strict";
import { Inventory } from "../lib/inventory/inventory.ts";
import type { Since, StateMessage } from "../lib/realtime/message.ts";
import type { Topic } from "../lib/realtime/topic.ts";
import { Topics } from "../lib/realtime/topics.ts";
import { openMemoryStore } from "../lib/store/memory_store.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { productInfo } from "./support/products.ts";

const session = () => crypto.randomUUID();

/** Adds a waiter to a topic; resolves when it is called, or at once when it would not wait. */
function nextChange(topic: Topic, since?: Since): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>();
  if (!topic.wait(since, resolve)) resolve();
  return promise;
}

/** Topics on a new memory store with products a (5 units) and b (2), closed with the scope. */
async function openTopics(): Promise<
  { inventory: Inventory; topics: Topics; a: Topic } & AsyncDisposable
> {
  const store = openMemoryStore({ holdTtlMs: 60_000, clock: new FakeClock() });
  const inventory = await Inventory.open(store, 60_000);
  await inventory.list({ info: productInfo("a"), total: 5 });
  await inventory.list({ info: productInfo("b"), total: 2 });
  const topics = new Topics(inventory);
  return {
    inventory,
    topics,
    a: topics.product("a")!,
    async [Symbol.asyncDispose]() {
      topics.close();
      await store.close();
    },
  };
}

Deno.test("a product's message carries product, count, version and epoch", async () => {
  await using shop = await openTopics();
  const epoch = shop.inventory.epoch;
  assert.match(epoch, /^[0-9a-f]{8}$/);
  assert.equal(
    shop.a.opening(),
    JSON.stringify({ product: "a", inventoryCount: 5, version: 0, epoch }),
  );
  assert.equal(shop.a.cursor(), `${epoch}.0`);
  assert.equal(shop.topics.product("nope"), undefined);
});

Deno.test("a waiter is released by the next change of its product only", async () => {
  await using shop = await openTopics();
  let released = false;
  const waiting = nextChange(shop.a).then(() => released = true);
  assert.equal(shop.topics.tally.waiters, 1);
  await shop.inventory.add("b", session());
  await Promise.resolve();
  assert.equal(released, false, "another product's change");
  await shop.inventory.add("a", session());
  await waiting;
  assert.equal(JSON.parse(shop.a.opening()).version, 1);
  assert.equal(shop.topics.tally.waiters, 0);
});

Deno.test("a wait answers at once when the client is behind, ahead or in another epoch", async () => {
  await using shop = await openTopics();
  await shop.inventory.add("a", session());
  const epoch = shop.inventory.epoch;
  for (
    const since of [
      { epoch: undefined, version: 0 },
      // A client that saw version 7 of an earlier run must not wait for this one to reach 8.
      { epoch: undefined, version: 7 },
      { epoch: "0", version: 1 },
    ]
  ) {
    assert.equal(shop.a.wait(since, () => assert.fail("it waited")), false);
  }
  assert.equal(shop.topics.tally.waiters, 0);
  // Where the client stands exactly: it waits.
  const waiting = nextChange(shop.a, { epoch, version: 1 });
  assert.equal(shop.topics.tally.waiters, 1);
  await shop.inventory.add("a", session());
  await waiting;
});

Deno.test("a waiter that leaves is not called, and leaving twice counts once", async () => {
  await using shop = await openTopics();
  let called = 0;
  const waiters = Array.from({ length: 100 }, () => () => called++);
  for (const waiter of waiters) assert.equal(shop.a.wait(undefined, waiter), true);
  assert.equal(shop.a.waiterCount, 100);
  assert.ok(waiters.every((waiter) => shop.a.leave(waiter)));
  assert.equal(shop.a.leave(waiters[0]), false);
  assert.equal(shop.a.waiterCount, 0);
  assert.equal(shop.topics.tally.waiters, 0);
  await shop.inventory.add("a", session());
  assert.equal(called, 0);
});

Deno.test("subscribers get every change in order, one shared message each, until they leave", async () => {
  await using shop = await openTopics();
  const first: StateMessage[] = [];
  const second: StateMessage[] = [];
  const leave = shop.a.subscribe((m) => first.push(m));
  shop.a.subscribe((m) => second.push(m));
  const shopper = session();
  await shop.inventory.add("a", shopper);
  assert.equal(first[0], shop.topics.message("a"), "the current message itself");
  await shop.inventory.add("a", session());
  await shop.inventory.remove("a", shopper);
  leave();
  await shop.inventory.add("a", session());
  assert.deepEqual(first.map((m) => m.version), [1, 2, 3]);
  assert.deepEqual(second.map((m) => m.version), [1, 2, 3, 4]);
  assert.ok(first.every((m, i) => m === second[i]), "one object per change");
  assert.equal(first[2].cursor, `${shop.inventory.epoch}.3`);
});

Deno.test("a throwing subscriber does not stop the others", async () => {
  await using shop = await openTopics();
  const errors: unknown[] = [];
  const originalError = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    shop.a.subscribe(() => {
      throw new Error("broken");
    });
    let reached = 0;
    shop.a.subscribe(() => reached++);
    await shop.inventory.add("a", session());
    assert.equal(reached, 1);
    assert.equal(errors.length, 1);
  } finally {
    console.error = originalError;
  }
});

Deno.test("the catalog's version is the sum of (version + 1) and moves with every product", async () => {
  await using shop = await openTopics();
  const catalog = shop.topics.catalog;
  assert.equal(catalog.version, 2);
  const entries: string[] = [];
  catalog.subscribe((m) => entries.push(m.json));
  await shop.inventory.add("b", session());
  assert.equal(catalog.version, 3);
  await shop.inventory.list({ info: productInfo("c"), total: 1 });
  assert.equal(catalog.version, 4, "a new product at version 0 moves it too");
  assert.deepEqual(entries.map((json) => JSON.parse(json).product), ["b", "c"]);
  const opening = JSON.parse(catalog.opening());
  assert.deepEqual(opening.products.map((p: { product: string }) => p.product), ["a", "b", "c"]);
  assert.equal(opening.version, 4);
});

Deno.test("a retired product's last message says so, and its topic closes", async () => {
  await using shop = await openTopics();
  const messages: StateMessage[] = [];
  shop.a.subscribe((m) => messages.push(m));
  const waiting = nextChange(shop.a);
  await shop.inventory.retire("a");
  await waiting;
  assert.equal(messages.length, 1);
  assert.equal(messages[0].last, true);
  assert.equal(JSON.parse(messages[0].json).retired, true);
  assert.equal(shop.a.closed, true);
});

Deno.test("close answers every waiter and later waits answer at once", async () => {
  await using shop = await openTopics();
  const waits = [1, 2, 3].map(() => nextChange(shop.a));
  shop.topics.close();
  assert.equal(shop.topics.tally.waiters, 0);
  await Promise.all(waits);
  assert.equal(shop.a.wait(undefined, () => assert.fail("it waited")), false);
  assert.equal(shop.topics.tally.waiters, 0);
});
