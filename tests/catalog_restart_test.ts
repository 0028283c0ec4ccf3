/** The catalog file's rules at each start, through real restarts of `main.ts` on one data file. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { postCart } from "./support/clients.ts";
import { type ChildServer, spawnServer } from "./support/server.ts";

const DOCS = join(import.meta.dirname!, "..", "docs");
const EXAMPLE = join(DOCS, "catalog.example.json");
const TOKEN = "admin-token-for-tests-0001";
const PRINT = "night-sky-print";
const TOTE = "canvas-tote";
const PIN = "moon-pin";

/** A product as the catalog file lists it. */
type FileProduct = Record<string, unknown> & { id: string };

/** The example catalog's products, by id. */
const example: Map<string, FileProduct> = new Map(
  JSON.parse(await Deno.readTextFile(EXAMPLE)).products.map((p: FileProduct) => [p.id, p]),
);

/** A data file and a catalog file beside the example's images, removed with the scope. */
interface Shop extends AsyncDisposable {
  /** The data file. */
  readonly data: string;
  /** Writes the catalog file: the example's products with these ids, changed by `fields`. */
  write(ids: string[], fields?: Record<string, Partial<FileProduct>>): Promise<void>;
  /** Starts `main.ts` on the data file and the catalog file. */
  start(): Promise<ChildServer>;
}

async function openShop(): Promise<Shop> {
  const dir = await Deno.makeTempDir({ prefix: "catalog_restart_" });
  for (const product of example.values()) {
    const image = String(product.image);
    await Deno.copyFile(join(DOCS, image), join(dir, image));
  }
  const catalog = join(dir, "catalog.json");
  const data = join(dir, "data", "inventory.kv");
  return {
    data,
    async write(ids, fields = {}) {
      const products = ids.map((id) => ({ ...example.get(id)!, ...fields[id] }));
      await Deno.writeTextFile(catalog, JSON.stringify({ products }));
    },
    start: () =>
      spawnServer([
        "--data",
        data,
        "--catalog",
        catalog,
        "--hold-ttl",
        "1h",
        "--admin-token",
        TOKEN,
      ]),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** The lines a start printed about the catalog. */
function catalogLines(server: ChildServer): string[] {
  return server.output().split("\n").filter((line) => line.startsWith("Catalog: "));
}

/** A product as `GET /admin/products` shows it. */
async function adminProduct(server: ChildServer, id: string): Promise<Record<string, unknown>> {
  const response = await fetch(new URL("admin/products", server.url), {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  const { products } = await response.json();
  const product = products.find((p: { id: string }) => p.id === id);
  assert.ok(product !== undefined, `${id} is listed`);
  return product;
}

/** Adds a unit for each session and checks that each got one. */
async function addAll(server: ChildServer, product: string, sessions: string[]): Promise<void> {
  for (const session of sessions) {
    const { status } = await postCart(server.url, "add", session, product);
    assert.equal(status, 200, `${session} adds ${product}`);
  }
}

/** Checks, with an add that changes nothing (each holds already), that every session still holds its unit. */
async function assertStillHeld(
  server: ChildServer,
  product: string,
  sessions: string[],
  expected: { inventoryCount: number; version: number },
): Promise<void> {
  for (const session of sessions) {
    const again = await postCart(server.url, "add", session, product);
    assert.deepEqual(again.body, { product, ...expected, inCart: true }, `${session} holds`);
  }
}

Deno.test("the example catalog is listed at the first start; an unchanged restart keeps everything", async () => {
  await using shop = await openShop();
  const args = ["--data", shop.data, "--catalog", EXAMPLE];
  const print = [crypto.randomUUID(), crypto.randomUUID()];
  const tote = [crypto.randomUUID()];
  {
    await using first = await spawnServer(args);
    assert.deepEqual(catalogLines(first), [
      `Catalog: added "${PRINT}" (total 10)`,
      `Catalog: added "${TOTE}" (total 25)`,
      `Catalog: added "${PIN}" (total 50)`,
    ]);
    await addAll(first, PRINT, print);
    await addAll(first, TOTE, tote);
    first.process.kill("SIGTERM");
    assert.equal((await first.status).code, 0, first.output());
  }
  await using second = await spawnServer(args);
  assert.deepEqual(catalogLines(second), [], second.output());
  for (
    const line of [
      `Inventory "${PRINT}": total 10, 2 held, version 2`,
      `Inventory "${TOTE}": total 25, 1 held, version 1`,
      `Inventory "${PIN}": total 50, 0 held, version 0`,
    ]
  ) {
    assert.ok(second.output().includes(line), `${line} in:\n${second.output()}`);
  }
  await assertStillHeld(second, PRINT, print, { inventoryCount: 8, version: 2 });
  await assertStillHeld(second, TOTE, tote, { inventoryCount: 24, version: 1 });
});

Deno.test("a product added to the file is listed; one left out stays on sale with its holds", async () => {
  await using shop = await openShop();
  const holder = crypto.randomUUID();
  await shop.write([PRINT, TOTE]);
  {
    await using first = await shop.start();
    await addAll(first, TOTE, [holder]);
  }
  await shop.write([PRINT, PIN]);
  await using second = await shop.start();
  assert.deepEqual(catalogLines(second), [
    `Catalog: added "${PIN}" (total 50)`,
    `Catalog: kept "${TOTE}", which the file no longer lists (1 held);` +
    ` retire it with DELETE /admin/products/${TOTE}`,
  ]);
  await assertStillHeld(second, TOTE, [holder], { inventoryCount: 24, version: 1 });
  const cart = await fetch(new URL("cart", second.url), { headers: { cookie: `sid=${holder}` } });
  const { items } = await cart.json();
  assert.deepEqual(items.map((item: { product: string }) => item.product), [TOTE]);
  const pin = await postCart(second.url, "add", holder, PIN);
  assert.deepEqual(pin.body, { product: PIN, inventoryCount: 49, version: 1, inCart: true });
  assert.equal((await adminProduct(second, TOTE)).retired, false);
});

Deno.test("a product renamed and repriced in the file takes its new data; its holds stay", async () => {
  await using shop = await openShop();
  const holder = crypto.randomUUID();
  await shop.write([PRINT]);
  {
    await using first = await shop.start();
    await addAll(first, PRINT, [holder]);
  }
  const renamed = { name: "Night sky print, signed", price: { amount: "45.00", currency: "EUR" } };
  await shop.write([PRINT], { [PRINT]: renamed });
  await using second = await shop.start();
  assert.deepEqual(catalogLines(second), [`Catalog: updated "${PRINT}" (name, price)`]);
  const product = await adminProduct(second, PRINT);
  assert.deepEqual([product.name, product.price], [renamed.name, renamed.price]);
  assert.deepEqual([product.total, product.held, product.version], [10, 1, 2]);
  assert.match(await (await fetch(second.url)).text(), /Night sky print, signed/);
  await assertStillHeld(second, PRINT, [holder], { inventoryCount: 9, version: 2 });
});

Deno.test("a total changed in the file is a restock at the next start; every hold stays", async () => {
  await using shop = await openShop();
  const holders = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
  await shop.write([PRINT, TOTE]);
  {
    await using first = await shop.start();
    await addAll(first, PRINT, holders);
  }
  await shop.write([PRINT, TOTE], { [PRINT]: { total: 2 } });
  await using second = await shop.start();
  assert.deepEqual(catalogLines(second), [
    `Catalog: restocked "${PRINT}": total 10 -> 2 (the file's total changed; holds kept)`,
  ]);
  assert.match(second.output(), /Inventory "night-sky-print": total 2, 3 held, version 4/);
  assert.equal((await postCart(second.url, "add", crypto.randomUUID(), PRINT)).status, 409);
  await assertStillHeld(second, PRINT, holders, { inventoryCount: 0, version: 4 });
});

Deno.test("a total set through the admin API outlives a restart with an unchanged file", async () => {
  await using shop = await openShop();
  const holder = crypto.randomUUID();
  await shop.write([PRINT]);
  {
    await using first = await shop.start();
    await addAll(first, PRINT, [holder]);
    const restocked = await fetch(new URL("admin/inventory", first.url), {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ total: 4 }),
    });
    assert.equal(restocked.status, 200);
    await restocked.body?.cancel();
  }
  {
    await using second = await shop.start();
    assert.deepEqual(catalogLines(second), [], "the file's total did not change");
    assert.match(second.output(), /Inventory "night-sky-print": total 4, 1 held, version 2/);
    await assertStillHeld(second, PRINT, [holder], { inventoryCount: 3, version: 2 });
  }
  // Once the file's total changes, it is applied.
  await shop.write([PRINT], { [PRINT]: { total: 12 } });
  await using third = await shop.start();
  assert.deepEqual(catalogLines(third), [
    `Catalog: restocked "${PRINT}": total 4 -> 12 (the file's total changed; holds kept)`,
  ]);
  await assertStillHeld(third, PRINT, [holder], { inventoryCount: 11, version: 3 });
});

Deno.test("a product retired through the admin API and still in the file is listed again", async () => {
  await using shop = await openShop();
  await shop.write([PRINT, TOTE]);
  {
    await using first = await shop.start();
    const retired = await fetch(new URL(`admin/products/${TOTE}`, first.url), {
      method: "DELETE",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(retired.status, 200);
    await retired.body?.cancel();
  }
  await using second = await shop.start();
  assert.deepEqual(catalogLines(second), [`Catalog: listed "${TOTE}" again (it was retired)`]);
  const tote = await postCart(second.url, "add", crypto.randomUUID(), TOTE);
  assert.deepEqual(tote.body, { product: TOTE, inventoryCount: 24, version: 3, inCart: true });
});

Deno.test("a data file of the one-product layout starts as the demo product with its holds", async () => {
  await using shop = await openShop();
  const holders = [crypto.randomUUID(), crypto.randomUUID()];
  {
    await Deno.mkdir(join(shop.data, ".."), { recursive: true });
    using kv = await Deno.openKv(shop.data);
    const expiresAt = Date.now() + 3_600_000;
    let operation = kv.atomic().set(["inventory", "meta"], { total: 7, version: 5 });
    for (const holder of holders) {
      operation = operation.set(["inventory", "holds", holder], expiresAt);
    }
    assert.equal((await operation.commit()).ok, true);
  }
  {
    await using demo = await spawnServer(["--data", shop.data]);
    assert.match(demo.output(), /Inventory "night-sky-print": total 7, 2 held, version 5/);
    assert.deepEqual(catalogLines(demo), [], "the demo's total is not applied to a stored one");
    await assertStillHeld(demo, PRINT, holders, { inventoryCount: 5, version: 5 });
  }
  // The catalog file then takes over the product, as it would any other: data and total.
  await shop.write([PRINT, TOTE]);
  await using shopStart = await shop.start();
  assert.deepEqual(catalogLines(shopStart), [
    `Catalog: updated "${PRINT}" (name, description, image)`,
    `Catalog: restocked "${PRINT}": total 7 -> 10 (the file's total changed; holds kept)`,
    `Catalog: added "${TOTE}" (total 25)`,
  ]);
  await assertStillHeld(shopStart, PRINT, holders, { inventoryCount: 8, version: 7 });
});
