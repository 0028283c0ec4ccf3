/** The `order.expired` call owed: retried with a growing wait, and given up with its payment. */
import assert from "node:assert/strict";
import type { ExpiredOrder, OrderService } from "../lib/inventory/checkout.ts";
import { Inventory } from "../lib/inventory/inventory.ts";
import { paymentsInMemory } from "../lib/inventory/payment_book.ts";
import { EXPIRED_CALL_FIRST_RETRY_MS, Payments } from "../lib/inventory/payments.ts";
import { openMemoryStore } from "../lib/store/memory_store.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { within } from "./support/within.ts";

const RETENTION_MS = 60_000;
/** More tries than a minute's backoff allows (5 s, 10 s, 20 s, 40 s): the loop's bound. */
const MAX_TRIES = 10;

Deno.test("an expired call never answered 2xx is tried with a growing wait until its payment is forgotten, then given up", async () => {
  // Every draw at its top: each wait is its whole window.
  const clock = new FakeClock(Date.UTC(2026, 0, 1), () => 1 - Number.EPSILON);
  const store = openMemoryStore({ holdTtlMs: 60_000, clock });
  const inventory = await Inventory.open(store, 60_000);
  const info = {
    id: "a",
    name: "A",
    description: "",
    price: { amount: "1", currency: "EUR" },
    image: null,
  };
  await inventory.list({ info, total: 1 });
  const session = crypto.randomUUID();
  await inventory.add("a", session);
  await inventory.beginCheckout("a", session, "o1");

  const told: { order: ExpiredOrder; at: number }[] = [];
  const service: OrderService = {
    place: () => Promise.reject(new Error("not called here")),
    expire(order) {
      told.push({ order, at: clock.now() });
      return Promise.resolve(false);
    },
  };
  const lines: string[] = [];
  let heard: PromiseWithResolvers<string> = Promise.withResolvers();
  const book = paymentsInMemory({ clock, retentionMs: RETENTION_MS });
  const payments = new Payments(inventory, book, {
    service,
    paymentTimeoutMs: 1_000,
    callTimeoutMs: 100,
    clock,
    retentionMs: RETENTION_MS,
    log(line) {
      lines.push(line);
      if (line.startsWith("Order service not told")) heard.resolve(line);
    },
  });
  const payBy = await payments.begin({ orderId: "o1", product: "a", session }, "https://pay/o1");
  assert.equal(payBy, clock.now() + 1_000);

  clock.advance(1_000);
  let tries = 0;
  for (; tries < MAX_TRIES; tries++) {
    const line = await within(heard.promise, `the log of try ${tries + 1}`);
    heard = Promise.withResolvers();
    if (line.endsWith("giving up")) break;
    const next = /trying again at (\S+)$/.exec(line);
    assert.ok(next !== null, line);
    clock.advance(Date.parse(next[1]) - clock.now());
  }
  const waits = told.slice(1).map(({ at }, i) => at - told[i].at);
  assert.deepEqual(
    waits,
    [1, 2, 4].map((times) => times * EXPIRED_CALL_FIRST_RETRY_MS),
    "each wait doubles from the first",
  );
  assert.equal(told.length, 4, lines.join("\n"));
  assert.match(lines.at(-1)!, /order o1 expired: no 2xx in 4 tries since .+; giving up$/);
  assert.equal(told[0].at, payBy, "the first try at the expiry");
  // Given up: no longer owed, nothing armed; the payment itself is forgotten at its retention.
  assert.deepEqual(await book.open(), []);
  assert.equal((await book.find("o1"))?.owedCall, undefined);
  clock.advance(RETENTION_MS);
  assert.equal(await book.find("o1"), undefined);
  assert.equal(told.length, 4);
  await payments.stop();
  await store.close();
});
