/** The Deno KV store: group commits, expiry on an injected clock, restarts, a second writer, the old layout. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Inventory } from "../lib/inventory/inventory.ts";
import { inventoryCountOf, type ProductState } from "../lib/inventory/ledger.ts";
import { DEMO_PRODUCT } from "../lib/server/demo_catalog.ts";
import { openKvStore } from "../lib/store/kv_store.ts";
import type { StoreOutcome } from "../lib/inventory/store_port.ts";
import { eventually } from "./support/clients.ts";
import { nextChange } from "./support/changes.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { productInfo } from "./support/products.ts";
import { within } from "./support/within.ts";

const TTL_MS = 60_000;
const session = () => crypto.randomUUID();

/** An inventory on a KV store, closed with the scope. */
async function openInventory(
  path: string,
  clock: FakeClock,
  holdTtlMs = TTL_MS,
): Promise<Inventory & AsyncDisposable> {
  const store = await openKvStore(path, { holdTtlMs, clock, legacyProduct: DEMO_PRODUCT });
  const inventory = await Inventory.open(store, holdTtlMs);
  return Object.assign(inventory, { [Symbol.asyncDispose]: () => store.close() });
}

/** A folder for data files, removed with the scope. */
async function tempFolder(): Promise<{ path: (name: string) => string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "kv_store_" });
  return {
    path: (name) => join(dir, name),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** A product's count and version, from an outcome or a record. */
function stateOf(from: StoreOutcome | ProductState | undefined) {
  const record = from !== undefined && "info" in from ? from : from?.record;
  assert.ok(record !== undefined, "a record");
  return { inventoryCount: inventoryCountOf(record), version: record.version };
}

/** Reads a product's stored entry straight from the data file. */
async function storedProduct(path: string, id: string): Promise<Deno.KvEntryMaybe<unknown>> {
  using kv = await Deno.openKv(path);
  return await kv.get(["product", id]);
}

Deno.test("a new product takes its total at version 0, and the epoch outlives a reopen", async () => {
  await using folder = await tempFolder();
  const path = folder.path("inventory.kv");
  const clock = new FakeClock();
  let epoch;
  {
    await using inventory = await openInventory(path, clock);
    const { record } = await inventory.list({ info: productInfo("a"), total: 7 });
    assert.deepEqual(stateOf(record), { inventoryCount: 7, version: 0 });
    epoch = inventory.epoch;
  }
  {
    await using inventory = await openInventory(path, clock);
    assert.equal(inventory.epoch, epoch);
    assert.deepEqual(stateOf(inventory.get("a")), { inventoryCount: 7, version: 0 });
  }
  await using other = await openInventory(folder.path("other.kv"), clock);
  assert.notEqual(other.epoch, epoch, "another data file lives another life");
});

Deno.test("adds fired at once share commits, sell exactly the stock, each answered in order", async () => {
  await using inventory = await openInventory(":memory:", new FakeClock());
  await inventory.list({ info: productInfo("a"), total: 10 });
  const told: number[] = [];
  inventory.onChange((record) => told.push(record.version));

  // Not awaited one by one: all 20 are queued before the first commit ends.
  const adds = Array.from({ length: 20 }, () => inventory.add("a", session()));
  const outcomes = await within(Promise.all(adds), "the answers to 20 adds");
  const sold = outcomes.filter((outcome) => outcome.ok);
  assert.equal(sold.length, 10);
  assert.deepEqual(sold.map((outcome) => stateOf(outcome).version), [
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
  assert.deepEqual(sold.map((outcome) => stateOf(outcome).inventoryCount), [
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
  for (const outcome of outcomes.filter((outcome) => !outcome.ok)) {
    assert.equal(!outcome.ok && outcome.reason, "sold out");
    assert.deepEqual(stateOf(outcome), { inventoryCount: 0, version: 10 });
  }
  // The inventory hears once per commit: fewer times than sales means commits were shared.
  assert.ok(told.length < 10, `told ${told.length} times for 10 sales`);
  assert.equal(told.at(-1), 10, "the inventory ends on the latest state");
  assert.equal(inventory.get("a")?.held, 10);
});

Deno.test("200 adds fired at once over two products sell exactly each stock", async () => {
  await using folder = await tempFolder();
  const path = folder.path("inventory.kv");
  const clock = new FakeClock();
  const shoppers = Array.from({ length: 100 }, session);
  {
    await using inventory = await openInventory(path, clock);
    await inventory.list({ info: productInfo("a"), total: 10 });
    await inventory.list({ info: productInfo("b"), total: 3 });
    const outcomes = await within(
      Promise.all(
        shoppers.flatMap((shopper) => [inventory.add("a", shopper), inventory.add("b", shopper)]),
      ),
      "the answers to 200 adds",
    );
    const soldOf = (id: string) =>
      outcomes.filter((outcome) => outcome.ok && outcome.record.info.id === id).length;
    assert.deepEqual([soldOf("a"), soldOf("b")], [10, 3]);
    assert.equal(outcomes.filter((outcome) => !outcome.ok).length, 187);
  }
  await using reopened = await openInventory(path, clock);
  assert.deepEqual(stateOf(reopened.get("a")), { inventoryCount: 0, version: 10 });
  assert.deepEqual(stateOf(reopened.get("b")), { inventoryCount: 0, version: 3 });
  const held = await within(
    Promise.all(shoppers.map((shopper) => reopened.cartOf(shopper))),
    "100 carts read",
  );
  assert.equal(held.flat().length, 13, "every sale is stored, nothing more");
});

Deno.test("a hold expires on time: the unit is free, the version rises, the inventory hears", async () => {
  const clock = new FakeClock();
  await using inventory = await openInventory(":memory:", clock);
  await inventory.list({ info: productInfo("a"), total: 10 });
  const shopper = session();
  await inventory.add("a", shopper);

  clock.advance(TTL_MS - 1);
  assert.equal(inventory.get("a")?.held, 1);
  const expired = nextChange(inventory, "a");
  clock.advance(1);
  assert.deepEqual(stateOf(await within(expired, "the hold's expiry")), {
    inventoryCount: 10,
    version: 2,
  });
  assert.deepEqual(await inventory.cartOf(shopper), []);
});

Deno.test("adding again while holding does not extend the hold, nor raise the version", async () => {
  const clock = new FakeClock();
  await using inventory = await openInventory(":memory:", clock);
  await inventory.list({ info: productInfo("a"), total: 10 });
  const shopper = session();
  await inventory.add("a", shopper);
  const takenAt = clock.now();
  clock.advance(TTL_MS / 2);
  assert.deepEqual(stateOf(await inventory.add("a", shopper)), { inventoryCount: 9, version: 1 });
  assert.deepEqual(await inventory.cartOf(shopper), [
    { product: "a", expiresAt: takenAt + TTL_MS },
  ]);
  const expired = nextChange(inventory, "a");
  clock.advance(TTL_MS / 2);
  assert.deepEqual(stateOf(await within(expired, "the hold's expiry, counted from its take")), {
    inventoryCount: 10,
    version: 2,
  });
  assert.deepEqual(await inventory.cartOf(shopper), []);
});

Deno.test("holds that expired while no store was open end on the next open; the others stay", async () => {
  await using folder = await tempFolder();
  const path = folder.path("inventory.kv");
  const clock = new FakeClock();
  const kept = session();
  {
    await using inventory = await openInventory(path, clock);
    await inventory.list({ info: productInfo("a"), total: 10 });
    await inventory.add("a", session());
    clock.advance(TTL_MS / 2);
    await inventory.add("a", kept);
    assert.deepEqual(stateOf(inventory.get("a")), { inventoryCount: 8, version: 2 });
  }
  clock.advance(TTL_MS / 2);
  await using inventory = await openInventory(path, clock);
  // The first visit of the product expires what fell due.
  assert.deepEqual(stateOf(await inventory.add("a", kept)), { inventoryCount: 9, version: 3 });
  assert.equal(inventory.get("a")?.held, 1);
});

Deno.test("a restock is stored with its holds: below what is held, nothing sells", async () => {
  await using folder = await tempFolder();
  const path = folder.path("inventory.kv");
  const clock = new FakeClock();
  const sessions = [session(), session(), session()];
  {
    await using inventory = await openInventory(path, clock);
    await inventory.list({ info: productInfo("a"), total: 3 });
    for (const shopper of sessions) await inventory.add("a", shopper);
    assert.deepEqual(stateOf(await inventory.restock("a", 1)), { inventoryCount: 0, version: 4 });
  }
  await using inventory = await openInventory(path, clock);
  assert.deepEqual([inventory.get("a")?.total, inventory.get("a")?.held], [1, 3]);
  assert.equal((await inventory.add("a", session())).ok, false);
  for (const shopper of sessions) assert.equal((await inventory.add("a", shopper)).ok, true);
});

Deno.test("a refused add writes nothing", async () => {
  await using folder = await tempFolder();
  const path = folder.path("inventory.kv");
  await using inventory = await openInventory(path, new FakeClock());
  await inventory.list({ info: productInfo("a"), total: 1 });
  await inventory.add("a", session());
  const before = (await storedProduct(path, "a")).versionstamp;
  assert.equal((await inventory.add("a", session())).ok, false);
  assert.equal((await inventory.remove("a", session())).ok, true);
  assert.equal((await storedProduct(path, "a")).versionstamp, before);
});

Deno.test("a failed commit answers an error and changes nothing", async () => {
  await using inventory = await openInventory(":memory:", new FakeClock());
  await inventory.list({ info: productInfo("a"), total: 10 });
  // Deno KV refuses a key over 2 KiB: the commit of this hold fails in the engine itself.
  await assert.rejects(inventory.add("a", "s".repeat(4096)), /too large/i);
  assert.deepEqual(stateOf(inventory.get("a")), { inventoryCount: 10, version: 0 });
  assert.deepEqual(stateOf(await inventory.add("a", session())), { inventoryCount: 9, version: 1 });
});

Deno.test("two stores on one file: a stale one re-reads and never oversells", async () => {
  await using folder = await tempFolder();
  const path = folder.path("inventory.kv");
  const clock = new FakeClock();
  const warnings: unknown[] = [];
  const originalWarn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args);
  try {
    await using first = await openInventory(path, clock);
    await first.list({ info: productInfo("a"), total: 2 });
    await using second = await openInventory(path, clock);
    const a = session();
    assert.equal((await first.add("a", a)).ok, true);
    assert.equal((await first.add("a", session())).ok, true);

    // The second still believes both units are free; the store refuses its commit.
    assert.equal(inventoryCountOf(second.get("a")!), 2);
    const refused = await second.add("a", session());
    assert.equal(refused.ok, false);
    assert.deepEqual(stateOf(refused), { inventoryCount: 0, version: 2 });

    // It also learns of a hold it never saw, and removes it.
    assert.deepEqual(stateOf(await second.remove("a", a)), { inventoryCount: 1, version: 3 });
    assert.deepEqual(stateOf(await first.add("a", session())), { inventoryCount: 0, version: 4 });
    assert.equal(warnings.length, 2, "each store warns once of the other writer");
  } finally {
    console.warn = originalWarn;
  }
});

Deno.test("after a reopen with shorter holds, adds over 5,000 stored holds expire first, in order", async () => {
  await using folder = await tempFolder();
  const path = folder.path("inventory.kv");
  const clock = new FakeClock();
  const hour = 3_600_000;
  {
    await using inventory = await openInventory(path, clock, hour);
    await inventory.list({ info: productInfo("a"), total: 6_000 });
    const outcomes = await within(
      Promise.all(Array.from({ length: 5_000 }, () => inventory.add("a", session()))),
      "the answers to 5,000 adds",
      20_000,
    );
    assert.ok(outcomes.every((outcome) => outcome.ok));
  }
  await using inventory = await openInventory(path, clock, TTL_MS);
  assert.equal(inventory.get("a")?.held, 5_000);
  const shoppers = Array.from({ length: 200 }, session);
  for (const [i, shopper] of shoppers.entries()) {
    // Each new hold expires before every stored one, and after the one added before it.
    clock.advance(1);
    assert.equal((await inventory.add("a", shopper)).ok, true);
    assert.deepEqual(stateOf(inventory.get("a")), { inventoryCount: 999 - i, version: 5_001 + i });
  }
  // The first short hold falls due alone.
  let change = nextChange(inventory, "a");
  clock.advance(TTL_MS - shoppers.length + 1);
  assert.equal((await within(change, "the first short hold's expiry")).held, 5_199);
  assert.deepEqual(await inventory.cartOf(shoppers[0]), []);
  assert.equal((await inventory.cartOf(shoppers[1])).length, 1);
  // The rest of them by the time the last one is due; every stored hold stays.
  for (let i = 1; i < shoppers.length; i++) {
    change = nextChange(inventory, "a");
    clock.advance(1);
    assert.equal(
      (await within(change, `the expiry of short hold ${i}`)).held,
      5_199 - i,
      `short hold ${i}`,
    );
  }
  assert.equal(inventory.get("a")?.held, 5_000);
});

Deno.test("many holds of several products falling due at once all expire, in commits KV takes", async () => {
  const clock = new FakeClock();
  await using inventory = await openInventory(":memory:", clock);
  const products = ["a", "b", "c"];
  for (const id of products) {
    await inventory.list({ info: productInfo(id), total: 1_000 });
    // More than one change may end (500), and more than one commit may hold (1,000) for three.
    const outcomes = await within(
      Promise.all(Array.from({ length: 600 }, () => inventory.add(id, session()))),
      `the answers to 600 adds of ${id}`,
    );
    assert.ok(outcomes.every((outcome) => outcome.ok));
  }
  const errors: unknown[] = [];
  const originalError = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    clock.advance(TTL_MS);
    await eventually(
      () => errors.length > 0 || products.every((id) => inventory.get(id)?.held === 0),
      "every hold to expire",
    );
  } finally {
    console.error = originalError;
  }
  assert.deepEqual(errors, []);
  for (const id of products) {
    assert.deepEqual(stateOf(inventory.get(id)), { inventoryCount: 1_000, version: 602 });
  }
});

Deno.test("retiring a product with more holds than one commit takes ends every hold", async () => {
  await using folder = await tempFolder();
  const path = folder.path("inventory.kv");
  const clock = new FakeClock();
  const shoppers = Array.from({ length: 1_200 }, session);
  {
    await using inventory = await openInventory(path, clock);
    await inventory.list({ info: productInfo("a"), total: 2_000 });
    await within(
      Promise.all(shoppers.map((shopper) => inventory.add("a", shopper))),
      "the answers to 1,200 adds",
    );
    const retired = await inventory.retire("a");
    assert.equal(retired.ok && retired.record.retired, true);
    assert.equal(retired.ok && retired.record.held, 0);
  }
  await using reopened = await openInventory(path, clock);
  assert.deepEqual([reopened.get("a")?.retired, reopened.get("a")?.held], [true, 0]);
  assert.deepEqual(await reopened.cartOf(shoppers[0]), []);
});

Deno.test("a data file of the one-product layout becomes the demo product, holds and all", async () => {
  await using folder = await tempFolder();
  const path = folder.path("inventory.kv");
  const clock = new FakeClock();
  // More holds than one Deno KV commit can move (1,000 mutations).
  const sessions = Array.from({ length: 600 }, session);
  const expiresAt = clock.now() + TTL_MS;
  {
    using kv = await Deno.openKv(path);
    await kv.set(["inventory", "meta"], { total: 1_000, version: 640 });
    for (let i = 0; i < sessions.length; i += 100) {
      let operation = kv.atomic();
      for (const shopper of sessions.slice(i, i + 100)) {
        operation = operation.set(["inventory", "holds", shopper], expiresAt);
      }
      assert.equal((await operation.commit()).ok, true);
    }
  }
  {
    await using inventory = await openInventory(path, clock);
    const record = inventory.get(DEMO_PRODUCT.id);
    assert.deepEqual(record?.info, DEMO_PRODUCT);
    assert.deepEqual([record?.total, record?.held, record?.version], [1_000, 600, 640]);
    assert.deepEqual(await inventory.cartOf(sessions[599]), [
      { product: DEMO_PRODUCT.id, expiresAt },
    ]);
    assert.deepEqual(stateOf(await inventory.add(DEMO_PRODUCT.id, sessions[0])), {
      inventoryCount: 400,
      version: 640,
    });
  }
  using kv = await Deno.openKv(path);
  assert.equal((await kv.get(["inventory", "meta"])).versionstamp, null, "the old keys are gone");
  assert.deepEqual(await Array.fromAsync(kv.list({ prefix: ["inventory"] })), []);
  const holds = await Array.fromAsync(kv.list({ prefix: ["hold", DEMO_PRODUCT.id] }));
  assert.equal(holds.length, 600);
});
