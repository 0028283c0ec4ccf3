/** The payment book on each engine: kept for its retention then forgotten, open payments, claims. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createClient } from "@redis/client";
import {
  type AwaitedPayment,
  PAYMENT_RETENTION_MS,
  type PaymentBook,
  paymentsInMemory,
} from "../lib/inventory/payment_book.ts";
import { openKvPaymentBook } from "../lib/store/kv_payment_book.ts";
import { redisPaymentBook } from "../lib/store/redis_payment_book.ts";
import { RedisKeys } from "../lib/store/redis_keys.ts";
import { LIBRARY_SOURCE } from "../lib/store/redis_library.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { redisMissing, startRedis } from "./support/redis_server.ts";

/** A book on one engine, and what to do when the test is done with it. */
interface OpenedBook {
  readonly book: PaymentBook;
  /** Sends a command to Redis (the Redis book only). */
  readonly send?: (args: string[]) => Promise<unknown>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface Engine {
  readonly name: string;
  readonly ignore: boolean;
  /** The engine's own expiry of a claim follows the book's clock (not Redis's own). */
  readonly claimsFollowTheClock: boolean;
  open(clock: FakeClock): Promise<OpenedBook>;
}

const KEYS = new RedisKeys("inv");

const ENGINES: Engine[] = [
  {
    name: "memory",
    ignore: false,
    claimsFollowTheClock: true,
    open(clock) {
      const book = paymentsInMemory({ clock });
      return Promise.resolve({ book, [Symbol.asyncDispose]: () => book.close() });
    },
  },
  {
    name: "a Deno KV file",
    ignore: false,
    claimsFollowTheClock: true,
    async open(clock) {
      const dir = await Deno.makeTempDir({ prefix: "payment_book_test_" });
      const book = await openKvPaymentBook(join(dir, "inventory.kv"), { clock });
      return {
        book,
        async [Symbol.asyncDispose]() {
          await book.close();
          await Deno.remove(dir, { recursive: true });
        },
      };
    },
  },
  {
    name: "Redis",
    ignore: redisMissing,
    claimsFollowTheClock: false,
    async open(clock) {
      const redis = await startRedis();
      const client = createClient({ url: redis.url });
      await client.connect();
      const send = (args: string[]) => client.sendCommand(args);
      // The book's ending is a function of the store's library, loaded as a store loads it.
      await send(["FUNCTION", "LOAD", "REPLACE", LIBRARY_SOURCE]);
      const call = (name: string, keys: readonly string[], args: readonly string[]) =>
        client.sendCommand(["FCALL", name, String(keys.length), ...keys, ...args]);
      const book = redisPaymentBook(
        send,
        call,
        { base: KEYS.paymentBook, legacy: KEYS.payments },
        { clock },
      );
      return {
        book,
        send,
        async [Symbol.asyncDispose]() {
          await book.close();
          client.destroy();
          await redis[Symbol.asyncDispose]();
        },
      };
    },
  },
];

function awaited(orderId: string, payBy: number): AwaitedPayment {
  return {
    orderId,
    product: "night-sky-print",
    session: crypto.randomUUID(),
    paymentUrl: `https://pay.example/${orderId}`,
    payBy,
    ended: null,
  };
}

for (const engine of ENGINES) {
  Deno.test({
    name: `${engine.name}: an ended payment is kept for its retention, then forgotten`,
    ignore: engine.ignore,
    async fn() {
      const clock = new FakeClock();
      await using opened = await engine.open(clock);
      const { book } = opened;
      const payment = awaited("o1", clock.now() + 60_000);
      await book.save(payment);
      assert.deepEqual(await book.find("o1"), payment);

      // The first ending wins, whichever process writes second.
      const paid = { ...payment, ended: "paid" as const, endedAt: clock.now() };
      assert.equal(await book.end(paid), true);
      assert.equal(await book.end({ ...paid, ended: "cancelled" }), false);
      assert.deepEqual(await book.find("o1"), paid);
      assert.deepEqual(await book.open(), []);

      // A payment never ended is never forgotten, however long it waits.
      await book.save(awaited("o2", clock.now()));
      clock.advance(PAYMENT_RETENTION_MS - 1);
      assert.deepEqual(await book.find("o1"), paid, "kept while a callback may be retried");
      clock.advance(1);
      assert.equal(await book.find("o1"), undefined, "forgotten at its retention");
      assert.equal((await book.find("o2"))?.ended, null);
      assert.deepEqual((await book.open()).map((kept) => kept.orderId), ["o2"]);
    },
  });

  Deno.test({
    name: `${engine.name}: the open payments are those awaited and those owing a call`,
    ignore: engine.ignore,
    async fn() {
      const clock = new FakeClock();
      await using opened = await engine.open(clock);
      const { book } = opened;
      const now = clock.now();
      await book.save(awaited("waiting", now + 60_000));
      const owing = {
        ...awaited("owing", now),
        ended: "expired" as const,
        endedAt: now,
        owedCall: { tries: 0, nextAt: now },
      };
      assert.equal(await book.end(owing), true);
      await book.save({ ...awaited("told", now), ended: "expired", endedAt: now });
      const open = await book.open();
      assert.deepEqual(open.map((kept) => kept.orderId).sort(), ["owing", "waiting"]);

      // The call made: no longer open, still kept.
      const { owedCall: _, ...told } = owing;
      await book.save(told);
      assert.deepEqual((await book.open()).map((kept) => kept.orderId), ["waiting"]);
      assert.deepEqual(await book.find("owing"), told);
    },
  });

  Deno.test({
    name: `${engine.name}: each try of an owed call is claimed by one, until its claim runs out`,
    ignore: engine.ignore,
    async fn() {
      const clock = new FakeClock();
      await using opened = await engine.open(clock);
      const { book } = opened;
      assert.equal(await book.claim("o1", 0, 10_000), true);
      assert.equal(await book.claim("o1", 0, 10_000), false, "the same try again");
      assert.equal(await book.claim("o1", 1, 10_000), true, "the next try");
      assert.equal(await book.claim("o2", 0, 10_000), true, "another order's");
      if (engine.claimsFollowTheClock) {
        clock.advance(10_000);
        assert.equal(await book.claim("o1", 0, 10_000), true, "its holder stopped");
      }
    },
  });
}

Deno.test({
  name: "Redis: an ended payment's key expires by Redis itself at its retention's end",
  ignore: redisMissing,
  async fn() {
    const clock = new FakeClock();
    await using opened = await ENGINES[2].open(clock);
    const { book, send } = opened;
    await book.save(awaited("waiting", clock.now()));
    const ended = { ...awaited("ended", clock.now()), ended: "cancelled" as const };
    assert.equal(await book.end({ ...ended, endedAt: clock.now() }), true);
    const ttl = async (orderId: string) =>
      Number(await send!(["PTTL", `${KEYS.paymentBook}:order:${orderId}`]));
    assert.equal(await ttl("waiting"), -1, "an awaited payment does not expire");
    const left = await ttl("ended");
    assert.ok(left > PAYMENT_RETENTION_MS - 60_000 && left <= PAYMENT_RETENTION_MS, `${left}`);
  },
});

Deno.test({
  name: "Redis: payments an earlier version kept in one hash are moved to their own keys",
  ignore: redisMissing,
  async fn() {
    const clock = new FakeClock();
    await using opened = await ENGINES[2].open(clock);
    const { book, send } = opened;
    const waiting = awaited("waiting", clock.now() + 60_000);
    const paid = { ...awaited("paid", clock.now()), ended: "paid" as const };
    await send!(["HSET", KEYS.payments, "waiting", JSON.stringify(waiting)]);
    await send!(["HSET", KEYS.payments, "paid", JSON.stringify(paid)]);
    assert.deepEqual(await book.open(), [waiting]);
    assert.equal(await send!(["EXISTS", KEYS.payments]), 0);
    assert.deepEqual(await book.find("paid"), paid);
    // An ending of then was not timed: kept from its payment's deadline.
    clock.advance(PAYMENT_RETENTION_MS);
    assert.equal(await book.find("paid"), undefined);
  },
});

Deno.test("a Deno KV file: payments an earlier version wrote are listed and expire", async () => {
  const clock = new FakeClock();
  const dir = await Deno.makeTempDir({ prefix: "payment_book_test_" });
  const path = join(dir, "inventory.kv");
  const waiting = awaited("waiting", clock.now() + 60_000);
  {
    // As the book of the version before wrote them: one key per order, nothing else.
    const kv = await Deno.openKv(path);
    await kv.set(["payment", "waiting"], waiting);
    await kv.set(["payment", "paid"], { ...awaited("paid", clock.now()), ended: "paid" });
    kv.close();
  }
  const book = await openKvPaymentBook(path, { clock });
  assert.deepEqual(await book.open(), [waiting]);
  assert.equal((await book.find("paid"))?.ended, "paid");
  // An ending of then was not timed: kept from its payment's deadline.
  clock.advance(PAYMENT_RETENTION_MS);
  assert.equal(await book.find("paid"), undefined);
  await book.close();
  await Deno.remove(dir, { recursive: true });
});
