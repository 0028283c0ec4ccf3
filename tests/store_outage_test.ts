/**
 * A store that cannot be reached, in process: writes answer 503 with a jittered Retry-After and
 * change nothing, /readyz turns 503 and back, /healthz stays 200, /metrics counts it all.
 */
import assert from "node:assert/strict";
import type { App } from "../lib/http/app.ts";
import { STORE_RETRY_AFTER_SECONDS } from "../lib/http/http_error.ts";
import { Inventory } from "../lib/inventory/inventory.ts";
import { openOutageStore, type OutageStore } from "./support/outage_store.ts";
import { catalogEntries } from "./support/products.ts";
import { createTestApp } from "./support/server.ts";

const HOLD_TTL_MS = 15 * 60_000;
const ADMIN_TOKEN = "outage-admin-token";
const PRODUCT = "moon-pin";

/** The app on a store with one product of 3 units, which the test can cut off. */
interface OutageShop extends AsyncDisposable {
  readonly store: OutageStore;
  readonly inventory: Inventory;
  readonly app: App;
}

async function openOutageShop(): Promise<OutageShop> {
  const store = openOutageStore(HOLD_TTL_MS);
  const inventory = await Inventory.open(store, HOLD_TTL_MS);
  for (const entry of catalogEntries({ [PRODUCT]: 3 })) await inventory.list(entry);
  const app = await createTestApp(inventory, { adminToken: ADMIN_TOKEN });
  return {
    store,
    inventory,
    app,
    async [Symbol.asyncDispose]() {
      app.stop();
      await store.close();
    },
  };
}

/** Sends a request to the app in process. */
function ask(app: App, path: string, init?: RequestInit): Promise<Response> {
  return app.handle(new Request(new URL(path, "http://127.0.0.1:8000/"), init));
}

/** Posts a cart command as JSON. */
function postCart(app: App, action: string, session: string): Promise<Response> {
  return ask(app, "cart", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ action, session, product: PRODUCT }),
  });
}

/** Sends an admin request with the bearer token. */
function askAdmin(app: App, method: string, path: string, body?: unknown): Promise<Response> {
  return ask(app, path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Runs `work` with console.log, warn and error recorded instead of printed. */
async function recordingConsole(work: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const saved = { log: console.log, warn: console.warn, error: console.error };
  const record = (...args: unknown[]) => lines.push(args.map(String).join(" "));
  Object.assign(console, { log: record, warn: record, error: record });
  try {
    await work();
  } finally {
    Object.assign(console, saved);
  }
  return lines;
}

/** A scrape's unlabelled series, by name. */
async function scrape(app: App): Promise<Map<string, number>> {
  const text = await (await ask(app, "metrics")).text();
  return new Map(
    text.split("\n").flatMap((line) => {
      const match = line.match(/^(\w+) (\d+)$/);
      return match ? [[match[1], Number(match[2])]] : [];
    }),
  );
}

Deno.test("while the store cannot be reached every write answers 503 with Retry-After, logs nothing and changes nothing", async () => {
  await using shop = await openOutageShop();
  const holder = crypto.randomUUID();
  const newcomer = crypto.randomUUID();
  assert.equal((await postCart(shop.app, "add", holder)).status, 200);
  const before = shop.inventory.get(PRODUCT);

  shop.store.cutOff();
  const writes: [string, () => Promise<Response>][] = [
    ["add", () => postCart(shop.app, "add", newcomer)],
    ["remove", () => postCart(shop.app, "remove", holder)],
    ["checkout", () => postCart(shop.app, "checkout", holder)],
    ["restock", () => askAdmin(shop.app, "POST", "admin/inventory", { total: 9 })],
    ["retire", () => askAdmin(shop.app, "DELETE", `admin/products/${PRODUCT}`)],
  ];
  const { least, most } = STORE_RETRY_AFTER_SECONDS;
  const logged = await recordingConsole(async () => {
    for (const [name, write] of writes) {
      const response = await write();
      assert.equal(response.status, 503, name);
      assert.deepEqual(await response.json(), {
        error: "the inventory store cannot be reached; try again shortly",
      });
      const retryAfter = response.headers.get("retry-after")!;
      assert.match(retryAfter, /^\d+$/, name);
      assert.ok(Number(retryAfter) >= least && Number(retryAfter) <= most, retryAfter);
    }
  });
  assert.deepEqual(logged, []);
  assert.deepEqual(shop.inventory.get(PRODUCT), before);
  assert.deepEqual((await shop.store.holdsOf(holder)).map((unit) => unit.product), [PRODUCT]);
  assert.deepEqual(await shop.store.holdsOf(newcomer), []);

  shop.store.restore();
  const answer = await postCart(shop.app, "add", newcomer);
  assert.equal(answer.status, 200);
  assert.equal((await answer.json()).inventoryCount, 1);
});

Deno.test("GET /readyz is 200 while the store answers, 503 while it cannot be reached, and 200 again", async () => {
  await using shop = await openOutageShop();
  const ready = await ask(shop.app, "readyz");
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), {
    status: "ready",
    store: { kind: "memory", reachable: true, lastError: null },
  });

  shop.store.cutOff();
  const down = await ask(shop.app, "readyz");
  assert.equal(down.status, 503);
  assert.deepEqual(await down.json(), {
    error: "the inventory store cannot be reached",
    store: { kind: "memory", reachable: false, lastError: "The test cut the store off" },
  });
  assert.equal((await ask(shop.app, "readyz", { method: "HEAD" })).status, 503);

  shop.store.restore();
  const back = await ask(shop.app, "readyz");
  assert.equal(back.status, 200);
  assert.deepEqual(await back.json(), {
    status: "ready",
    store: { kind: "memory", reachable: true, lastError: "The test cut the store off" },
  });
});

Deno.test("GET /healthz stays 200 while the store cannot be reached, and says so", async () => {
  await using shop = await openOutageShop();
  shop.store.cutOff();
  const response = await ask(shop.app, "healthz");
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    status: "ok",
    store: { kind: "memory", reachable: false, lastError: "The test cut the store off" },
  });
});

Deno.test("/metrics shows whether the store answers and counts the requests refused for it", async () => {
  await using shop = await openOutageShop();
  const healthy = await scrape(shop.app);
  assert.equal(healthy.get("inventory_store_reachable"), 1);
  assert.equal(healthy.get("inventory_store_unavailable_total"), 0);

  shop.store.cutOff();
  for (let i = 0; i < 3; i++) {
    await (await postCart(shop.app, "add", crypto.randomUUID())).body?.cancel();
  }
  const down = await scrape(shop.app);
  assert.equal(down.get("inventory_store_reachable"), 0);
  assert.equal(down.get("inventory_store_unavailable_total"), 3);

  shop.store.restore();
  const back = await scrape(shop.app);
  assert.equal(back.get("inventory_store_reachable"), 1);
  assert.equal(back.get("inventory_store_unavailable_total"), 3);
});
