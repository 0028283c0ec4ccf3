/** The cart on a Deno KV store: commits, expiry with an injected clock, restock, a second writer. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ShoppingCart, type StateMessage } from "../lib/inventory/cart.ts";
import type { InventoryChange } from "../lib/store/port.ts";
import { KvStore, MEMORY_PATH } from "../lib/store/kv_store.ts";
import { FakeClock } from "./support/fake_clock.ts";

const TTL_MS = 60_000;

/** A cart on its own store, closed with the scope. */
async function openCart(
  path: string,
  clock: FakeClock,
  total = 10,
): Promise<ShoppingCart & AsyncDisposable> {
  const store = await KvStore.open(path);
  const cart = await ShoppingCart.open(store, { total, holdTtlMs: TTL_MS, clock });
  return Object.assign(cart, {
    async [Symbol.asyncDispose]() {
      cart.close();
      await cart.settled();
      await store.close();
    },
  });
}

/** Resolves with the next state the cart publishes. */
function nextPublished(cart: ShoppingCart): Promise<StateMessage> {
  const { promise, resolve } = Promise.withResolvers<StateMessage>();
  const unsubscribe = cart.subscribe((message) => {
    unsubscribe();
    resolve(message);
  });
  return promise;
}

/** Reads the raw meta entry of a data file, to see whether anything was written. */
async function metaStamp(path: string): Promise<string | null> {
  using kv = await Deno.openKv(path);
  return (await kv.get(["inventory", "meta"])).versionstamp;
}

Deno.test("a new store takes the given total and starts at version 0", async () => {
  await using cart = await openCart(MEMORY_PATH, new FakeClock(), 7);
  assert.deepEqual(cart.current.state, { inventoryCount: 7, version: 0 });
  assert.equal(cart.total, 7);
});

Deno.test("a hold expires on time: the unit is free, the version rises, subscribers hear", async () => {
  const clock = new FakeClock();
  await using cart = await openCart(MEMORY_PATH, clock);
  const session = crypto.randomUUID();
  await cart.add(session);
  assert.deepEqual(cart.current.state, { inventoryCount: 9, version: 1 });

  clock.advance(TTL_MS - 1);
  assert.equal(cart.holds(session), true);
  assert.equal(cart.current.state.version, 1);

  const published = nextPublished(cart);
  clock.advance(1);
  assert.deepEqual((await published).state, { inventoryCount: 10, version: 2 });
  assert.equal(cart.holds(session), false);
});

Deno.test("waiters are answered when a hold expires", async () => {
  const clock = new FakeClock();
  await using cart = await openCart(MEMORY_PATH, clock);
  await cart.add(crypto.randomUUID());
  const waiting = cart.nextChange(1, new AbortController().signal);
  assert.equal(cart.waiterCount, 1);
  clock.advance(TTL_MS);
  assert.deepEqual((await waiting).state, { inventoryCount: 10, version: 2 });
});

Deno.test("an add refreshes the hold without a new version", async () => {
  const clock = new FakeClock();
  await using cart = await openCart(MEMORY_PATH, clock);
  const session = crypto.randomUUID();
  await cart.add(session);
  clock.advance(TTL_MS / 2);
  const again = await cart.add(session);
  assert.deepEqual(again.message.state, { inventoryCount: 9, version: 1 });
  assert.equal(cart.holdExpiresAt(session), clock.now() + TTL_MS);

  clock.advance(TTL_MS / 2);
  assert.equal(cart.holds(session), true, "the first expiry time has passed, the refresh holds");
  const published = nextPublished(cart);
  clock.advance(TTL_MS / 2);
  assert.deepEqual((await published).state, { inventoryCount: 10, version: 2 });
});

Deno.test("holds that expired while no server ran end on the next start", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "inventory.kv");
  const clock = new FakeClock();
  const kept = crypto.randomUUID();
  {
    await using cart = await openCart(path, clock);
    await cart.add(crypto.randomUUID());
    clock.advance(TTL_MS / 2);
    await cart.add(kept);
    assert.deepEqual(cart.current.state, { inventoryCount: 8, version: 2 });
  }
  clock.advance(TTL_MS / 2);
  {
    await using cart = await openCart(path, clock);
    assert.deepEqual(cart.current.state, { inventoryCount: 9, version: 3 });
    assert.equal(cart.holds(kept), true);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a restock below what is held keeps the holds and sells nothing until above", async () => {
  await using cart = await openCart(MEMORY_PATH, new FakeClock(), 3);
  const sessions = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
  for (const session of sessions) await cart.add(session);

  const lowered = await cart.restock(1);
  assert.deepEqual(lowered.message.state, { inventoryCount: 0, version: 4 });
  assert.equal(lowered.held, 3);
  assert.ok(sessions.every((session) => cart.holds(session)));
  assert.equal((await cart.add(crypto.randomUUID())).ok, false);

  await cart.remove(sessions[0]);
  await cart.remove(sessions[1]);
  assert.deepEqual(cart.current.state, { inventoryCount: 0, version: 6 });
  await cart.remove(sessions[2]);
  assert.deepEqual(cart.current.state, { inventoryCount: 1, version: 7 });

  const same = await cart.restock(1);
  assert.equal(same.message.state.version, 7, "the same total is no change");
});

Deno.test("a refused add writes nothing", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "inventory.kv");
  {
    await using cart = await openCart(path, new FakeClock(), 1);
    await cart.add(crypto.randomUUID());
    const before = await metaStamp(path);
    const refused = await cart.add(crypto.randomUUID());
    assert.equal(refused.ok, false);
    assert.equal(await metaStamp(path), before);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("two carts on one file: a stale one re-reads and never oversells", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "inventory.kv");
  const clock = new FakeClock();
  {
    await using first = await openCart(path, clock, 2);
    await using second = await openCart(path, clock, 2);
    const a = crypto.randomUUID();
    assert.equal((await first.add(a)).ok, true);
    assert.equal((await first.add(crypto.randomUUID())).ok, true);

    // The second cart still believes both units are free; the store refuses its commit.
    assert.equal(second.current.state.inventoryCount, 2);
    const refused = await second.add(crypto.randomUUID());
    assert.equal(refused.ok, false);
    assert.deepEqual(refused.message.state, { inventoryCount: 0, version: 2 });

    // It also learns of a hold it never saw, and removes it.
    const removed = await second.remove(a);
    assert.deepEqual(removed.message.state, { inventoryCount: 1, version: 3 });
    const taken = await first.add(crypto.randomUUID());
    assert.deepEqual(taken.message.state, { inventoryCount: 0, version: 4 });
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("operations that arrive together share a commit, each answered with its own state", async () => {
  const store = await KvStore.open(MEMORY_PATH);
  const commits: InventoryChange[] = [];
  const commit = store.commit.bind(store);
  store.commit = (change, stamp) => {
    commits.push(change);
    return commit(change, stamp);
  };
  const cart = await ShoppingCart.open(store, {
    total: 10,
    holdTtlMs: TTL_MS,
    clock: new FakeClock(),
  });
  const published: number[] = [];
  cart.subscribe((message) => published.push(message.state.version));
  commits.length = 0;

  const results = await Promise.all(
    Array.from({ length: 20 }, () => cart.add(crypto.randomUUID())),
  );
  const sold = results.filter((result) => result.ok);
  assert.equal(sold.length, 10);
  assert.deepEqual(sold.map((result) => result.message.state.version), [
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
  ]);
  assert.deepEqual(sold.map((result) => result.message.state.inventoryCount), [
    9,
    8,
    7,
    6,
    5,
    4,
    3,
    2,
    1,
    0,
  ]);
  for (const result of results.filter((result) => !result.ok)) {
    assert.deepEqual(result.message.state, { inventoryCount: 0, version: 10 });
  }
  assert.ok(commits.length < 10, `${commits.length} commits for 10 sales`);
  assert.equal(commits.reduce((puts, change) => puts + change.put.length, 0), 10);
  assert.equal(published.at(-1), 10, "subscribers end on the latest state");
  assert.ok(published.length <= commits.length, "told once per commit");

  cart.close();
  await cart.settled();
  await store.close();
});

Deno.test("a failed commit answers an error and changes nothing", async () => {
  const store = await KvStore.open(MEMORY_PATH);
  const cart = await ShoppingCart.open(store, {
    total: 10,
    holdTtlMs: TTL_MS,
    clock: new FakeClock(),
  });
  const commit = store.commit.bind(store);
  store.commit = () => Promise.reject(new Error("disk full"));
  await assert.rejects(cart.add(crypto.randomUUID()), /disk full/);
  assert.deepEqual(cart.current.state, { inventoryCount: 10, version: 0 });
  store.commit = commit;
  const next = await cart.add(crypto.randomUUID());
  assert.deepEqual(next.message.state, { inventoryCount: 9, version: 1 });
  cart.close();
  await store.close();
});

Deno.test("a cart in memory (no store) keeps holds until removed", async () => {
  const cart = new ShoppingCart(2);
  const session = crypto.randomUUID();
  await cart.add(session);
  await cart.add(session);
  assert.deepEqual(cart.current.state, { inventoryCount: 1, version: 1 });
  assert.equal(cart.holdExpiresAt(session), Infinity);
  cart.close();
});

Deno.test("a cart in memory with a lifetime expires holds on its clock too", async () => {
  const clock = new FakeClock();
  const cart = new ShoppingCart(2, { holdTtlMs: TTL_MS, clock });
  const session = crypto.randomUUID();
  await cart.add(session);
  const published = nextPublished(cart);
  clock.advance(TTL_MS);
  assert.deepEqual((await published).state, { inventoryCount: 2, version: 2 });
  assert.equal(clock.pendingTimers, 0, "no timer is left without a hold");
  await cart.add(session);
  assert.equal(clock.pendingTimers, 1);
  cart.close();
  assert.equal(clock.pendingTimers, 0, "closing stops expiry");
});
