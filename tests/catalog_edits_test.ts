/**
 * The catalog file and the admin API share every field, through real restarts on Deno KV and on
 * Redis: a start changes only what the file changed; the catalog page keeps the file's order.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type ChildServer, spawnServer } from "./support/server.ts";
import { redisMissing, startRedis } from "./support/redis_server.ts";

const TOKEN = "admin-token-for-tests-0001";

/** A product as the catalog file lists it. */
type FileProduct = Record<string, unknown> & { id: string };

/** A product of the file, 5 EUR, 10 units, named after its id. */
function fileProduct(id: string, fields: Record<string, unknown> = {}): FileProduct {
  return {
    id,
    name: `Product ${id}`,
    price: { amount: "5.00", currency: "EUR" },
    total: 10,
    ...fields,
  };
}

/** A catalog file in a folder of its own, and the store flags every start uses. */
interface Shop extends AsyncDisposable {
  /** Writes the catalog file. */
  write(products: FileProduct[]): Promise<void>;
  /** Starts `main.ts` on the store and the catalog file, and waits until it listens. */
  start(): Promise<ChildServer>;
}

async function openShop(storeFlags: string[] | "kv"): Promise<Shop> {
  const dir = await Deno.makeTempDir({ prefix: "catalog_edits_" });
  const catalog = join(dir, "catalog.json");
  const store = storeFlags === "kv" ? ["--data", join(dir, "inventory.kv")] : storeFlags;
  return {
    write: (products) => Deno.writeTextFile(catalog, JSON.stringify({ products })),
    start: () =>
      spawnServer([...store, "--catalog", catalog, "--hold-ttl", "1h", "--admin-token", TOKEN]),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Stops a server as an operator would, and checks it stopped cleanly. */
async function stop(server: ChildServer): Promise<void> {
  server.process.kill("SIGTERM");
  assert.equal((await server.status).code, 0, server.output());
}

/** The lines a start printed about the catalog. */
function catalogLines(server: ChildServer): string[] {
  return server.output().split("\n").filter((line) => line.startsWith("Catalog: "));
}

/** Sends an admin request with the token. */
async function admin(
  server: ChildServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(new URL(path, server.url), {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** A product as `GET /admin/products` shows it. */
async function adminProduct(server: ChildServer, id: string): Promise<Record<string, unknown>> {
  const { products } = await admin(server, "GET", "/admin/products");
  const product = (products as Record<string, unknown>[]).find((p) => p.id === id);
  assert.ok(product !== undefined, `${id} is listed`);
  return product;
}

/** The products of the catalog page, in the order it lists them. */
async function catalogPageOrder(server: ChildServer): Promise<string[]> {
  const html = await (await fetch(server.url)).text();
  const ids = [...html.matchAll(/href="\/products\/([a-z0-9-]+)"/g)].map((match) => match[1]);
  return [...new Set(ids)];
}

const A = fileProduct("a", { description: "From the file" });
const B = fileProduct("b");

Deno.test("a field set through the admin API stands until the file changes that field; the override is logged", async () => {
  await using shop = await openShop("kv");
  await shop.write([A, B]);
  {
    await using first = await shop.start();
    await admin(first, "PATCH", "/admin/products/a", {
      price: { amount: "7.50", currency: "EUR" },
      name: "Renamed by the owner",
    });
    await stop(first);
  }
  // The file changes the description and the name, not the price.
  await shop.write([{ ...A, description: "New words", name: "Renamed in the file" }, B]);
  {
    await using second = await shop.start();
    const a = await adminProduct(second, "a");
    assert.deepEqual(
      [a.price, a.description, a.name],
      [{ amount: "7.50", currency: "EUR" }, "New words", "Renamed in the file"],
    );
    assert.deepEqual(catalogLines(second), [
      'Catalog: "a" name: the file changed it, so its "Renamed in the file" replaces' +
      ' "Renamed by the owner" set through the admin API',
      'Catalog: updated "a" (name, description)',
    ]);
    await stop(second);
  }
  // Now the file changes the price: the file's price replaces the owner's, and says so.
  await shop.write([{
    ...A,
    description: "New words",
    name: "Renamed in the file",
    price: { amount: "9.00", currency: "EUR" },
  }, B]);
  await using third = await shop.start();
  assert.deepEqual((await adminProduct(third, "a")).price, { amount: "9.00", currency: "EUR" });
  assert.deepEqual(catalogLines(third), [
    'Catalog: "a" price: the file changed it, so its {"amount":"9.00","currency":"EUR"} replaces' +
    ' {"amount":"7.50","currency":"EUR"} set through the admin API',
    'Catalog: updated "a" (price)',
  ]);
});

Deno.test("an unchanged file keeps every edit made through the admin API, and a product added there is not one the file no longer lists", async () => {
  await using shop = await openShop("kv");
  await shop.write([A, B]);
  {
    await using first = await shop.start();
    await admin(first, "PATCH", "/admin/products/b", {
      description: "Edited",
      limitPerShopper: 3,
      image: "https://cdn.example/b.png",
    });
    await admin(first, "PUT", "/admin/products/c", {
      name: "Added",
      price: { amount: "1.00", currency: "EUR" },
      total: 2,
    });
    await stop(first);
  }
  await using second = await shop.start();
  assert.deepEqual(catalogLines(second), [], second.output());
  const b = await adminProduct(second, "b");
  assert.deepEqual([b.description, b.limitPerShopper, b.image], [
    "Edited",
    3,
    "https://cdn.example/b.png",
  ]);
  assert.equal((await adminProduct(second, "c")).name, "Added");
});

/** Checks the order of the catalog page over restarts on one store. */
async function checkOrder(shop: Shop): Promise<void> {
  const zine = fileProduct("zine");
  const badge = fileProduct("badge");
  const poster = fileProduct("poster");
  await shop.write([zine, badge, poster]);
  {
    await using first = await shop.start();
    assert.deepEqual(await catalogPageOrder(first), ["zine", "badge", "poster"]);
    await admin(first, "PUT", "/admin/products/added", {
      name: "Added",
      price: { amount: "1.00", currency: "EUR" },
      total: 2,
    });
    assert.deepEqual(await catalogPageOrder(first), ["zine", "badge", "poster", "added"]);
    await stop(first);
  }
  {
    await using second = await shop.start();
    assert.deepEqual(await catalogPageOrder(second), ["zine", "badge", "poster", "added"]);
    await admin(second, "PATCH", "/admin/products/added", { position: 1 });
    assert.deepEqual(await catalogPageOrder(second), ["added", "zine", "badge", "poster"]);
    await stop(second);
  }
  // The file's order changes, and gives the poster a position: each start follows the file.
  await shop.write([badge, { ...poster, position: 2 }, zine]);
  await using third = await shop.start();
  assert.deepEqual(await catalogPageOrder(third), ["added", "badge", "poster", "zine"]);
  const listed = (await admin(third, "GET", "/admin/products")).products as { id: string }[];
  assert.deepEqual(listed.map((p) => p.id), ["added", "badge", "poster", "zine"]);
}

Deno.test("on Deno KV the catalog page keeps the file's order after a restart; API products come last; position reorders", async () => {
  await using shop = await openShop("kv");
  await checkOrder(shop);
});

Deno.test({
  name:
    "on Redis the catalog page keeps the file's order after a restart; API products come last; position reorders",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    await using shop = await openShop(["--redis", redis.url]);
    await checkOrder(shop);
  },
});

Deno.test({
  name:
    "on Redis a field set through the admin API stands over a restart until the file changes it",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    await using shop = await openShop(["--redis", redis.url]);
    await shop.write([A, B]);
    {
      await using first = await shop.start();
      await admin(first, "PATCH", "/admin/products/a", {
        price: { amount: "7.50", currency: "EUR" },
      });
      await stop(first);
    }
    {
      await using second = await shop.start();
      assert.deepEqual((await adminProduct(second, "a")).price, {
        amount: "7.50",
        currency: "EUR",
      });
      assert.deepEqual(catalogLines(second), []);
      await stop(second);
    }
    await shop.write([{ ...A, price: { amount: "9.00", currency: "EUR" } }, B]);
    await using third = await shop.start();
    assert.deepEqual((await adminProduct(third, "a")).price, { amount: "9.00", currency: "EUR" });
    assert.equal(catalogLines(third).length, 2, third.output());
  },
});
