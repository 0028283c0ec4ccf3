/** One per shopper, enforced by the store: add/checkout cycles stop at `limitPerShopper` on every engine, and a restart keeps the count. */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Config } from "../lib/server/config.ts";
import { postCart } from "./support/clients.ts";
import { startOrderService } from "./support/order_service.ts";
import { redisMissing, startRedis } from "./support/redis_server.ts";
import { productInfo } from "./support/products.ts";
import { startTestServer } from "./support/server.ts";

const SECRET = `whsec_${btoa("order-secret-0123456789")}`;

/** Two products: a poster two to a shopper, a pin at the default of one. */
const CATALOG = {
  entries: [
    {
      info: { ...productInfo("poster"), name: "Poster", limitPerShopper: 2 },
      total: 10,
    },
    { info: { ...productInfo("pin"), name: "Moon pin" }, total: 10 },
  ],
  media: new Map(),
};

/** Where one engine keeps the shop, so that a second server finds what the first stored. */
interface Place extends AsyncDisposable {
  /** The settings that open it. */
  readonly store: Partial<Config>;
}

const ENGINES: { name: string; missing: boolean; restarts: boolean; open(): Promise<Place> }[] = [
  {
    name: "memory",
    missing: false,
    restarts: false,
    open: () => Promise.resolve({ store: {}, [Symbol.asyncDispose]: () => Promise.resolve() }),
  },
  {
    name: "kv",
    missing: false,
    restarts: true,
    async open() {
      const dir = await Deno.makeTempDir();
      return {
        store: { dataPath: join(dir, "shop.db") },
        [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
      };
    },
  },
  {
    name: "redis",
    missing: redisMissing,
    restarts: true,
    async open() {
      const redis = await startRedis();
      return {
        store: { redis: redis.url },
        [Symbol.asyncDispose]: () => redis[Symbol.asyncDispose](),
      };
    },
  },
];

for (const engine of ENGINES) {
  Deno.test({
    name:
      `${engine.name}: add/checkout cycles of one session stop at limitPerShopper; remove and the current hold's checkout still work`,
    ignore: engine.missing,
  }, async () => {
    {
      await using place = await engine.open();
      await using service = await startOrderService({ secret: SECRET });
      const config: Partial<Config> = {
        ...place.store,
        orderWebhook: { url: service.url, secret: SECRET },
      };
      const session = crypto.randomUUID();
      {
        await using server = await startTestServer(config, { catalog: CATALOG });
        for (let bought = 0; bought < 2; bought++) {
          assert.equal((await postCart(server.url, "add", session, "poster")).status, 200);
          assert.equal((await postCart(server.url, "checkout", session, "poster")).status, 200);
        }
        const third = await postCart(server.url, "add", session, "poster");
        assert.equal(third.status, 409);
        assert.deepEqual(third.body, { error: "Limit 2 per shopper: you have bought 2 of Poster" });
        const shouted = await postCart(server.url, "add", session.toUpperCase(), "poster");
        assert.equal(shouted.status, 409, "an upper-case copy of the session is the same shopper");

        // Holding counts as one: adding again, a remove and the checkout of that hold still work.
        assert.equal((await postCart(server.url, "add", session, "pin")).status, 200);
        assert.equal((await postCart(server.url, "add", session, "pin")).status, 200);
        assert.equal((await postCart(server.url, "remove", session, "pin")).status, 200);
        assert.equal((await postCart(server.url, "add", session, "pin")).status, 200);
        assert.equal((await postCart(server.url, "checkout", session, "pin")).status, 200);
        const again = await postCart(server.url, "add", session, "pin");
        assert.equal(again.status, 409);
        assert.deepEqual(again.body, { error: "One per shopper: you have bought 1 of Moon pin" });

        const other = await postCart(server.url, "add", crypto.randomUUID(), "pin");
        assert.equal(other.status, 200, "another shopper still gets a unit");
        assert.deepEqual(server.inventory.get("poster")?.sold, 2);
        assert.equal(service.requests.length, 3, "the refused adds called no one");
      }
      if (!engine.restarts) return;
      await using server = await startTestServer(config, { catalog: CATALOG });
      const afterRestart = await postCart(server.url, "add", session, "poster");
      assert.equal(afterRestart.status, 409, "the count of units bought survives a restart");
      assert.equal((await postCart(server.url, "add", session, "pin")).status, 409);
    }
  });
}
