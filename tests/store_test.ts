/**
 * The store contract on every engine (memory, Deno KV in memory and on a file, Redis) under the
 * Inventory: versions, idempotence, sold out, restock, retiring, listeners, hold expiry, which adding again does not move.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Inventory } from "../lib/inventory/inventory.ts";
import { inventoryCountOf, type ProductState } from "../lib/inventory/ledger.ts";
import { DEMO_PRODUCT } from "../lib/server/demo_catalog.ts";
import { openKvStore } from "../lib/store/kv_store.ts";
import { openMemoryStore } from "../lib/store/memory_store.ts";
import type { InventoryStore, StoreOutcome } from "../lib/inventory/store_port.ts";
import { openRedisStore } from "../lib/store/redis_store.ts";
import { systemClock } from "../lib/time/clock.ts";
import { redisMissing, startRedis } from "./support/redis_server.ts";
import { nextChange } from "./support/changes.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { productInfo } from "./support/products.ts";
import { WAIT_MS, within } from "./support/within.ts";

const TTL_MS = 60_000;
/**
 * The hold life of the expiry tests on an engine whose holds run on the real clock (Redis's
 * `TIME`): short, so they wait about a second, long enough that a busy machine still checks
 * between two of its steps.
 */
const REAL_TTL_MS = 2_000;
/** How long past a time a real-clock test waits for what is due then to have happened. */
const REAL_MARGIN_MS = 500;
const session = () => crypto.randomUUID();

/** A store an engine opened, and how time passes for its holds. */
interface OpenedStore {
  store: InventoryStore;
  /** Lets time pass for its holds: a fake clock moves at once; a real one is waited for. */
  pass(ms: number): Promise<void>;
  /** The time its holds are stamped with, as far as the test can tell. */
  now(): number;
  close(): Promise<void>;
}

/** A store engine the tests below run on. */
interface Engine {
  name: string;
  /** True when the engine's program is missing (its tests are skipped, loudly). */
  missing: boolean;
  /** True when its holds run on the real clock (Redis's `TIME`), not on an injected one. */
  realClock: boolean;
  open(holdTtlMs: number): Promise<OpenedStore>;
}

/** Time passing on a fake clock. */
function fakeTime(clock: FakeClock): Pick<OpenedStore, "pass" | "now"> {
  return {
    pass(ms) {
      clock.advance(ms);
      return Promise.resolve();
    },
    now: () => clock.now(),
  };
}

/** An engine on Deno KV at a path that `where` makes (and removes). */
function kvEngine(
  name: string,
  where: () => Promise<{ path: string; remove(): Promise<void> }>,
): Engine {
  return {
    name,
    missing: false,
    realClock: false,
    async open(holdTtlMs) {
      const clock = new FakeClock();
      const { path, remove } = await where();
      const store = await openKvStore(path, { holdTtlMs, clock, legacyProduct: DEMO_PRODUCT });
      return {
        store,
        ...fakeTime(clock),
        async close() {
          await store.close();
          await remove();
        },
      };
    },
  };
}

const ENGINES: Engine[] = [
  {
    name: "memory",
    missing: false,
    realClock: false,
    open(holdTtlMs) {
      const clock = new FakeClock();
      const store = openMemoryStore({ holdTtlMs, clock });
      return Promise.resolve({ store, ...fakeTime(clock), close: () => store.close() });
    },
  },
  kvEngine("kv :memory:", () => Promise.resolve({ path: ":memory:", remove: async () => {} })),
  kvEngine("kv file", async () => {
    const dir = await Deno.makeTempDir({ prefix: "store_test_kv_" });
    return {
      path: join(dir, "inventory.kv"),
      remove: () => Deno.remove(dir, { recursive: true }),
    };
  }),
  {
    name: "redis",
    missing: redisMissing,
    realClock: true,
    async open(holdTtlMs) {
      const redis = await startRedis();
      const store = await openRedisStore({
        url: redis.url,
        holdTtlMs,
        checkoutTimeoutMs: 5_000,
        clock: systemClock,
        log: () => {},
      });
      return {
        store,
        pass: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        now: () => Date.now(),
        async close() {
          await store.close();
          await redis[Symbol.asyncDispose]();
        },
      };
    },
  },
];

/** An inventory on a new store of an engine, and how time passes for its holds. */
type Shop = Inventory & AsyncDisposable & Pick<OpenedStore, "pass" | "now">;

/** An inventory on a new store with the given products, closed with the scope. */
async function openInventoryOn(
  engine: Engine,
  totals: Record<string, number>,
  holdTtlMs = TTL_MS,
): Promise<Shop> {
  const { store, pass, now, close } = await engine.open(holdTtlMs);
  const inventory = await Inventory.open(store, holdTtlMs);
  for (const [id, total] of Object.entries(totals)) {
    await inventory.list({ info: productInfo(id), total });
  }
  return Object.assign(inventory, { pass, now, [Symbol.asyncDispose]: close });
}

/** A product's count and version, from an outcome or a record. */
function stateOf(from: StoreOutcome | ProductState | undefined) {
  const record = from !== undefined && "info" in from ? from : from?.record;
  assert.ok(record !== undefined, "a record");
  return { inventoryCount: inventoryCountOf(record), version: record.version };
}

for (const engine of ENGINES) {
  /** An inventory on a new store of this engine with the given products, closed with the scope. */
  const openInventory = (totals: Record<string, number>) => openInventoryOn(engine, totals);

  Deno.test({
    name: `${engine.name}: a new product has its full stock at version 0`,
    ignore: engine.missing,
  }, async () => {
    await using inventory = await openInventory({ a: 3 });
    assert.deepEqual(stateOf(inventory.get("a")), { inventoryCount: 3, version: 0 });
  });

  Deno.test({
    name: `${engine.name}: a product listed with no stock is on sale at count 0`,
    ignore: engine.missing,
  }, async () => {
    await using inventory = await openInventory({ a: 3 });
    const { record, created } = await inventory.list({ info: productInfo("b"), total: 0 });
    assert.equal(created, true);
    assert.deepEqual(stateOf(record), { inventoryCount: 0, version: 0 });
    assert.deepEqual(inventory.products().map((r) => r.info.id), ["a", "b"]);
  });

  Deno.test({
    name: `${engine.name}: a negative, fractional or too large total is refused and lists nothing`,
    ignore: engine.missing,
  }, async () => {
    await using inventory = await openInventory({ a: 3 });
    for (const total of [-1, 1.5, 1e12, NaN]) {
      await assert.rejects(inventory.list({ info: productInfo("b"), total }), RangeError);
      await assert.rejects(inventory.restock("a", total), RangeError);
    }
    assert.equal(inventory.get("b"), undefined);
    assert.deepEqual(stateOf(inventory.get("a")), { inventoryCount: 3, version: 0 });
  });

  Deno.test({
    name:
      `${engine.name}: add takes one unit and bumps the version; a second add by the same session changes nothing`,
    ignore: engine.missing,
  }, async () => {
    await using inventory = await openInventory({ a: 2 });
    const shopper = session();
    const first = await inventory.add("a", shopper);
    assert.equal(first.ok && first.inCart, true);
    assert.deepEqual(stateOf(first), { inventoryCount: 1, version: 1 });
    const again = await inventory.add("a", shopper);
    assert.equal(again.ok && again.inCart, true);
    assert.deepEqual(stateOf(again), { inventoryCount: 1, version: 1 });
    assert.deepEqual((await inventory.cartOf(shopper)).map((unit) => unit.product), ["a"]);
  });

  Deno.test({
    name: `${engine.name}: remove frees the unit once; removing what is not held changes nothing`,
    ignore: engine.missing,
  }, async () => {
    await using inventory = await openInventory({ a: 2 });
    const shopper = session();
    await inventory.add("a", shopper);
    const removed = await inventory.remove("a", shopper);
    assert.equal(removed.ok, true);
    assert.equal(removed.ok && removed.inCart, false);
    assert.deepEqual(stateOf(removed), { inventoryCount: 2, version: 2 });
    await inventory.remove("a", shopper);
    await inventory.remove("a", session());
    assert.deepEqual(stateOf(inventory.get("a")), { inventoryCount: 2, version: 2 });
    assert.deepEqual(await inventory.cartOf(shopper), []);
  });

  Deno.test({
    name: `${engine.name}: an add with none left is refused as sold out and changes nothing`,
    ignore: engine.missing,
  }, async () => {
    await using inventory = await openInventory({ a: 1 });
    await inventory.add("a", session());
    const refused = await inventory.add("a", session());
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.reason, "sold out");
    assert.deepEqual(stateOf(refused), { inventoryCount: 0, version: 1 });
    assert.equal(inventory.get("a")?.held, 1);
  });

  Deno.test({
    name: `${engine.name}: each product has its own stock and version`,
    ignore: engine.missing,
  }, async () => {
    await using inventory = await openInventory({ a: 1, b: 2 });
    const shopper = session();
    await inventory.add("a", shopper);
    await inventory.add("b", shopper);
    await inventory.add("b", session());
    assert.deepEqual(stateOf(inventory.get("a")), { inventoryCount: 0, version: 1 });
    assert.deepEqual(stateOf(inventory.get("b")), { inventoryCount: 0, version: 2 });
    assert.deepEqual((await inventory.cartOf(shopper)).map((unit) => unit.product), ["a", "b"]);
    await inventory.remove("a", shopper);
    assert.deepEqual((await inventory.cartOf(shopper)).map((unit) => unit.product), ["b"]);
  });

  Deno.test({
    name: `${engine.name}: an unknown product is refused as such`,
    ignore: engine.missing,
  }, async () => {
    await using inventory = await openInventory({ a: 1 });
    for (
      const outcome of [
        await inventory.add("nope", session()),
        await inventory.remove("nope", session()),
      ]
    ) {
      assert.deepEqual(outcome, { ok: false, reason: "unknown product" });
    }
    assert.deepEqual(await inventory.restock("nope", 3), { ok: false, reason: "unknown product" });
  });

  Deno.test({
    name:
      `${engine.name}: a restock below what is held keeps the holds and sells nothing until above`,
    ignore: engine.missing,
  }, async () => {
    await using inventory = await openInventory({ a: 3 });
    const sessions = [session(), session(), session()];
    for (const shopper of sessions) await inventory.add("a", shopper);

    const lowered = await inventory.restock("a", 1);
    assert.deepEqual(stateOf(lowered), { inventoryCount: 0, version: 4 });
    assert.equal(lowered.ok && lowered.record.held, 3);
    assert.equal((await inventory.add("a", session())).ok, false);
    assert.equal((await inventory.add("a", sessions[0])).ok, true, "a holder keeps its unit");

    await inventory.remove("a", sessions[0]);
    await inventory.remove("a", sessions[1]);
    assert.deepEqual(stateOf(inventory.get("a")), { inventoryCount: 0, version: 6 });
    await inventory.remove("a", sessions[2]);
    assert.deepEqual(stateOf(inventory.get("a")), { inventoryCount: 1, version: 7 });
    assert.equal(
      stateOf(await inventory.restock("a", 1)).version,
      7,
      "the same total is no change",
    );
  });

  Deno.test({
    name:
      `${engine.name}: a retired product ends its holds and refuses adds; listing it again puts it back`,
    ignore: engine.missing,
  }, async () => {
    await using inventory = await openInventory({ a: 2, b: 2 });
    const shopper = session();
    await inventory.add("a", shopper);
    const retired = await inventory.retire("a");
    assert.equal(retired.ok && retired.record.retired, true);
    assert.deepEqual(stateOf(retired), { inventoryCount: 2, version: 2 });
    assert.deepEqual(await inventory.cartOf(shopper), []);
    assert.deepEqual(inventory.products().map((r) => r.info.id), ["b"]);
    assert.deepEqual(inventory.allProducts().map((r) => r.info.id), ["a", "b"]);
    for (
      const outcome of [await inventory.add("a", shopper), await inventory.remove("a", shopper)]
    ) {
      assert.equal(!outcome.ok && outcome.reason, "retired");
    }
    assert.equal(stateOf(await inventory.retire("a")).version, 2, "retiring twice is no change");

    const { record, created } = await inventory.list({ info: productInfo("a", { name: "Again" }) });
    assert.equal(created, false);
    assert.deepEqual([record.retired, record.info.name, record.total, record.version], [
      false,
      "Again",
      2,
      3,
    ]);
    assert.equal((await inventory.add("a", shopper)).ok, true);
  });

  Deno.test({
    name:
      `${engine.name}: listeners hear every change in order once the record is current, until they leave`,
    ignore: engine.missing,
  }, async () => {
    await using inventory = await openInventory({ a: 5 });
    const seen: number[] = [];
    let current = true;
    // An assertion here would be caught and logged by the inventory: note, and assert below.
    const leave = inventory.onChange((record) => {
      current &&= inventory.get(record.info.id) === record;
      seen.push(record.version);
    });
    const shopper = session();
    await inventory.add("a", shopper);
    await inventory.add("a", shopper); // Held already: nothing a page sees changed.
    await inventory.add("a", session());
    await inventory.remove("a", shopper);
    leave();
    await inventory.add("a", session());
    assert.deepEqual(seen, [1, 2, 3]);
    assert.ok(current, "the record is current when told");
  });

  Deno.test({
    name: `${engine.name}: a throwing listener does not stop the others`,
    ignore: engine.missing,
  }, async () => {
    await using inventory = await openInventory({ a: 5 });
    const errors: unknown[] = [];
    const originalError = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      inventory.onChange(() => {
        throw new Error("broken");
      });
      let reached = 0;
      inventory.onChange(() => reached++);
      await inventory.add("a", session());
      assert.equal(reached, 1);
      assert.equal(errors.length, 1);
    } finally {
      console.error = originalError;
    }
  });

  /** The hold life of this engine's expiry tests. */
  const expiryTtl = engine.realClock ? REAL_TTL_MS : TTL_MS;
  /** How long, in real ms, an expiry test waits for a hold to end once its time has come. */
  const expiryWait = engine.realClock ? REAL_TTL_MS + WAIT_MS : WAIT_MS;

  Deno.test({
    name: `${engine.name}: a hold ends when its life is over, and its unit goes back`,
    ignore: engine.missing,
  }, async () => {
    const ttl = expiryTtl;
    await using inventory = await openInventoryOn(engine, { a: 2 }, ttl);
    const shopper = session();
    await inventory.add("a", shopper);
    const expired = nextChange(inventory, "a");
    const early = engine.realClock ? ttl / 2 : ttl - 1;
    await inventory.pass(early);
    assert.equal(inventory.get("a")?.held, 1, "not yet due");
    assert.deepEqual((await inventory.cartOf(shopper)).map((unit) => unit.product), ["a"]);
    await inventory.pass(ttl - early);
    const record = await within(expired, "the hold's expiry", expiryWait);
    assert.deepEqual(stateOf(record), { inventoryCount: 2, version: 2 });
    assert.deepEqual(stateOf(inventory.get("a")), { inventoryCount: 2, version: 2 });
    assert.deepEqual(await inventory.cartOf(shopper), []);
  });

  Deno.test({
    name:
      `${engine.name}: adding again while holding answers as before and does not extend the hold`,
    ignore: engine.missing,
  }, async () => {
    const ttl = expiryTtl;
    await using inventory = await openInventoryOn(engine, { a: 10 }, ttl);
    const shopper = session();
    const firstAt = inventory.now();
    await inventory.add("a", shopper);
    const [taken] = await inventory.cartOf(shopper);
    await inventory.pass(ttl / 2);
    const again = await inventory.add("a", shopper);
    assert.deepEqual(stateOf(again), { inventoryCount: 9, version: 1 });
    assert.deepEqual(
      await inventory.cartOf(shopper),
      [taken],
      "the hold still ends when it would have, counted from its take",
    );

    const expired = nextChange(inventory, "a");
    // Past the hold's end: on the real clock by a margin in which its sweep would run.
    await inventory.pass(
      engine.realClock ? firstAt + ttl + REAL_MARGIN_MS - inventory.now() : ttl / 2,
    );
    const record = await within(
      expired,
      "the hold's expiry, not moved by the second add",
      expiryWait,
    );
    assert.deepEqual(stateOf(record), { inventoryCount: 10, version: 2 });
    assert.deepEqual(await inventory.cartOf(shopper), []);
  });

  Deno.test({
    name: `${engine.name}: a session's sale is read back, with its latest order and count`,
    ignore: engine.missing,
  }, async () => {
    await using inventory = await openInventoryOn(engine, { a: 2, b: 2 });
    const shopper = session();
    assert.equal(await inventory.saleOf("a", shopper), undefined);
    await inventory.add("a", shopper);
    const orderId = crypto.randomUUID();
    await inventory.beginCheckout("a", shopper, orderId);
    assert.equal(await inventory.saleOf("a", shopper), undefined, "not sold while checked out");
    assert.equal((await inventory.completeSale("a", shopper, orderId)).ok, true);
    assert.deepEqual(await inventory.saleOf("a", shopper), { orderId, count: 1 });
    assert.equal(await inventory.saleOf("b", shopper), undefined, "another product's");
    assert.equal(await inventory.saleOf("a", session()), undefined, "another shopper's");
  });

  Deno.test({
    name: `${engine.name}: a checkout that sold nothing gives its hold back to expiry`,
    ignore: engine.missing,
  }, async () => {
    const ttl = expiryTtl;
    await using inventory = await openInventoryOn(engine, { a: 2 }, ttl);
    const shopper = session();
    await inventory.add("a", shopper);
    const start = await inventory.beginCheckout("a", shopper, crypto.randomUUID());
    assert.equal(start.kind, "call");
    await inventory.endCheckout("a", shopper, start.kind === "call" ? start.orderId : "");
    assert.deepEqual(
      (await inventory.cartOf(shopper)).map((unit) => unit.product),
      ["a"],
      "the hold stays",
    );
    assert.equal(inventory.get("a")?.held, 1);

    const expired = nextChange(inventory, "a");
    await inventory.pass(ttl);
    const record = await within(
      expired,
      "the expiry of the hold whose checkout failed",
      expiryWait,
    );
    assert.equal(inventoryCountOf(record), 2);
    assert.equal(record.held, 0);
    assert.deepEqual(await inventory.cartOf(shopper), []);
  });

  Deno.test({
    name:
      `${engine.name}: a hold awaiting payment outlives its time, stays through remove and retire, and is settled once`,
    ignore: engine.missing,
  }, async () => {
    const ttl = expiryTtl;
    await using inventory = await openInventoryOn(engine, { a: 3 }, ttl);
    const [payer, canceller, late] = [session(), session(), session()];
    const orders = new Map<string, string>();
    for (const shopper of [payer, canceller, late]) {
      await inventory.add("a", shopper);
      const start = await inventory.beginCheckout("a", shopper, crypto.randomUUID());
      assert.equal(start.kind, "call");
      const orderId = start.kind === "call" ? start.orderId : "";
      orders.set(shopper, orderId);
      // Far off for two; already past for the third, which only an expiry ends.
      const payBy = shopper === late ? 0 : Date.now() + 3_600_000;
      assert.equal(await inventory.awaitPayment("a", shopper, orderId, payBy), true);
      assert.equal(await inventory.awaitPayment("a", shopper, orderId, payBy), false);
    }
    await inventory.pass(ttl);
    // Past their time, they are still held (a restock visits the product, ending what is due).
    await inventory.restock("a", 3);
    assert.equal(inventory.get("a")?.held, 3);
    assert.equal((await inventory.remove("a", payer)).ok, false);
    const again = await inventory.beginCheckout("a", payer, crypto.randomUUID());
    assert.equal(again.kind, "awaiting payment");
    assert.equal(again.kind === "awaiting payment" && again.orderId, orders.get(payer));

    // Retiring ends every hold but those being paid for, which end as their payments do.
    await inventory.retire("a");
    assert.equal(inventory.get("a")?.held, 3);

    const pay = orders.get(payer)!;
    assert.equal(await inventory.settlePayment("a", payer, pay, "expired"), "not due");
    assert.equal(await inventory.settlePayment("a", payer, pay, "paid"), "done");
    assert.equal(await inventory.settlePayment("a", payer, pay, "paid"), "sold");
    assert.equal(await inventory.settlePayment("a", payer, pay, "cancelled"), "sold");
    const cancel = orders.get(canceller)!;
    assert.equal(await inventory.settlePayment("a", canceller, "another", "cancelled"), "gone");
    assert.equal(await inventory.settlePayment("a", canceller, cancel, "cancelled"), "done");
    assert.equal(await inventory.settlePayment("a", canceller, cancel, "paid"), "gone");
    const lateOrder = orders.get(late)!;
    assert.equal(await inventory.settlePayment("a", late, lateOrder, "expired"), "done");
    assert.equal(await inventory.settlePayment("a", late, lateOrder, "expired"), "gone");
    const record = inventory.get("a")!;
    assert.deepEqual([record.total, record.sold, record.held], [2, 1, 0]);
  });
}

Deno.test("a hold expires on the store's clock; no timer is left without a hold, none after close", async () => {
  const clock = new FakeClock();
  const store = openMemoryStore({ holdTtlMs: TTL_MS, clock });
  const inventory = await Inventory.open(store, TTL_MS);
  await inventory.list({ info: productInfo("a"), total: 2 });
  assert.equal(clock.pendingTimers, 0);
  const shopper = session();
  await inventory.add("a", shopper);
  assert.equal(clock.pendingTimers, 1);
  const changes: number[] = [];
  inventory.onChange((record) => changes.push(record.version));

  clock.advance(TTL_MS - 1);
  assert.deepEqual(changes, [], "not yet due");
  clock.advance(1);
  assert.deepEqual(changes, [2]);
  assert.deepEqual(stateOf(inventory.get("a")), { inventoryCount: 2, version: 2 });
  assert.deepEqual(await inventory.cartOf(shopper), []);
  assert.equal(clock.pendingTimers, 0, "no timer is left without a hold");

  await inventory.add("a", shopper);
  assert.equal(clock.pendingTimers, 1);
  await store.close();
  assert.equal(clock.pendingTimers, 0, "closing stops expiry");
});
