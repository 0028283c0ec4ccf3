/** The one vocabulary of refusals: every store answers a checkout's refusals in the same words. */
import assert from "node:assert/strict";
import { REFUSALS } from "../lib/inventory/refusal.ts";
import { type InventoryStore, UNCOUNTED_CLIENT } from "../lib/inventory/store_port.ts";
import { REFUSAL_ANSWERS } from "../lib/http/refusal_answers.ts";
import { openKvStore } from "../lib/store/kv_store.ts";
import { openMemoryStore } from "../lib/store/memory_store.ts";
import { openRedisStore } from "../lib/store/redis_store.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { productInfo } from "./support/products.ts";
import { redisMissing, startRedis } from "./support/redis_server.ts";

const TTL_MS = 60_000;

/** A store of one engine, with what closes it. */
interface Engine {
  name: string;
  missing: boolean;
  open(clock: FakeClock): Promise<{ store: InventoryStore; close(): Promise<void> }>;
}

const ENGINES: Engine[] = [
  {
    name: "memory",
    missing: false,
    open(clock) {
      const store = openMemoryStore({ holdTtlMs: TTL_MS, clock });
      return Promise.resolve({ store, close: () => store.close() });
    },
  },
  {
    name: "kv",
    missing: false,
    async open(clock) {
      const options = { holdTtlMs: TTL_MS, clock, legacyProduct: productInfo("legacy") };
      const store = await openKvStore(":memory:", options);
      return { store, close: () => store.close() };
    },
  },
  {
    name: "redis",
    missing: redisMissing,
    async open(clock) {
      const redis = await startRedis();
      const options = { url: redis.url, holdTtlMs: TTL_MS, checkoutTimeoutMs: 5_000, clock };
      const store = await openRedisStore({ ...options, log: () => {} });
      return {
        store,
        async close() {
          await store.close();
          await redis[Symbol.asyncDispose]();
        },
      };
    },
  },
];

for (const engine of ENGINES) {
  Deno.test({
    name: `${engine.name}: a checkout of an unknown product is refused as unknown, not as retired`,
    ignore: engine.missing,
  }, async () => {
    const { store, close } = await engine.open(new FakeClock());
    try {
      assert.deepEqual(await store.beginCheckout("nope", crypto.randomUUID(), "o1"), {
        kind: "refused",
        reason: "unknown product",
      });
    } finally {
      await close();
    }
  });

  Deno.test({
    name: `${engine.name}: a sale for an order that is not the hold's is an order mismatch`,
    ignore: engine.missing,
  }, async () => {
    const { store, close } = await engine.open(new FakeClock());
    try {
      await store.list({ info: productInfo("a"), total: 2 });
      const session = crypto.randomUUID();
      await store.take("a", session, UNCOUNTED_CLIENT);
      const start = await store.beginCheckout("a", session, "o1");
      assert.equal(start.kind, "call");
      const wrong = await store.completeSale("a", session, "o2");
      assert.equal(!wrong.ok && wrong.reason, "order mismatch");
      const right = await store.completeSale("a", session, "o1");
      assert.equal(right.ok && right.record.sold, 1);
    } finally {
      await close();
    }
  });

  Deno.test({
    name:
      `${engine.name}: an add past the units bought plus the one held is refused as limit per shopper`,
    ignore: engine.missing,
  }, async () => {
    const { store, close } = await engine.open(new FakeClock());
    try {
      await store.list({ info: { ...productInfo("a"), limitPerShopper: 2 }, total: 5 });
      const session = crypto.randomUUID();
      for (const orderId of ["o1", "o2"]) {
        assert.equal((await store.take("a", session, UNCOUNTED_CLIENT)).ok, true);
        assert.equal((await store.beginCheckout("a", session, orderId)).kind, "call");
        assert.equal((await store.completeSale("a", session, orderId)).ok, true);
      }
      const refused = await store.take("a", session, UNCOUNTED_CLIENT);
      assert.equal(!refused.ok && refused.reason, "limit per shopper");
      assert.deepEqual(
        !refused.ok && refused.record && [refused.record.held, refused.record.sold],
        [0, 2],
        "nothing changed",
      );
      assert.deepEqual(await store.beginCheckout("a", session, "o3"), {
        kind: "sold",
        orderId: "o2",
      }, "a checkout asked again answers the latest sale");
      assert.equal(
        (await store.take("a", crypto.randomUUID(), UNCOUNTED_CLIENT)).ok,
        true,
        "others still add",
      );
    } finally {
      await close();
    }
  });
}

Deno.test("every kind of refusal has one status, one metric label, and labels Prometheus takes", () => {
  const labels = REFUSALS.map((kind) => REFUSAL_ANSWERS[kind].metric);
  assert.equal(new Set(labels).size, REFUSALS.length);
  for (const label of labels) assert.match(label, /^[a-z_]+$/);
  for (const kind of REFUSALS) {
    assert.ok([404, 409, 429].includes(REFUSAL_ANSWERS[kind].status), kind);
  }
});
