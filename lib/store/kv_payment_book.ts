/** The payment book on Deno KV: one key per order, in the file the stock lives in. */
import {
  type AwaitedPayment,
  forgottenAt,
  isOpen,
  PAYMENT_RETENTION_MS,
  type PaymentBook,
  type PaymentBookOptions,
  paymentOf,
} from "../inventory/payment_book.ts";
import { systemClock } from "../time/clock.ts";

const PAYMENT_PREFIX = ["payment"] as const;
/** The orders still awaited or owing a call, so a sweep reads those and not every kept one. */
const OPEN_PREFIX = ["payment_open"] as const;
/** One key per try of an owed call: `{until}`, the claim's end. */
const CLAIM_PREFIX = ["payment_claim"] as const;
/** Set once the payments written before the open index and expiry have been rewritten. */
const LAYOUT_KEY = ["payment_layout"] as const;
const LAYOUT = 2;
/** Tries of a conditional write before it gives up (another writer won each time). */
const MAX_WRITE_TRIES = 10;

/**
 * Keeps payments awaited in a Deno KV file, as `["payment", orderId]`; each save is committed
 * before it resolves, so an acknowledged payment survives a crash. An ended payment is written
 * with KV's own `expireIn`, to its retention's end, so the engine deletes it; until it does, a
 * read past that time answers none.
 *
 * @param path The KV file (the one the stock lives in), or `:memory:`.
 * @param options The clock and the retention.
 * @returns The book; close it to let the file go.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const book = await openKvPaymentBook(":memory:");
 * const payment = {
 *   orderId: "o1", product: "a", session: "s1", paymentUrl: "https://pay.example/o1",
 *   payBy: 5_000, ended: null,
 * };
 * await book.save(payment);
 * assert.deepEqual(await book.find("o1"), payment);
 * assert.equal((await book.open()).length, 1);
 * assert.equal(await book.end({ ...payment, ended: "paid", endedAt: Date.now() }), true);
 * assert.equal((await book.open()).length, 0);
 * await book.close();
 * ```
 */
export async function openKvPaymentBook(
  path: string,
  options: PaymentBookOptions = {},
): Promise<PaymentBook> {
  const clock = options.clock ?? systemClock;
  const retentionMs = options.retentionMs ?? PAYMENT_RETENTION_MS;
  const kv = await Deno.openKv(path);
  const kept = (value: unknown) => {
    const payment = paymentOf(value);
    return forgottenAt(payment, retentionMs) <= clock.now() ? undefined : payment;
  };
  /** Adds the writes of a payment to an atomic operation. */
  const write = (atomic: Deno.AtomicOperation, payment: AwaitedPayment) => {
    const key = [...PAYMENT_PREFIX, payment.orderId];
    const left = forgottenAt(payment, retentionMs) - clock.now();
    atomic.set(key, payment, Number.isFinite(left) ? { expireIn: Math.max(1, left) } : {});
    const openKey = [...OPEN_PREFIX, payment.orderId];
    if (isOpen(payment)) atomic.set(openKey, true);
    else atomic.delete(openKey);
    return atomic;
  };
  // Payments of earlier versions had no open index and no expiry: write each again, once.
  if ((await kv.get(LAYOUT_KEY)).value !== LAYOUT) {
    for await (const entry of kv.list({ prefix: PAYMENT_PREFIX })) {
      await write(kv.atomic(), paymentOf(entry.value)).commit();
    }
    await kv.set(LAYOUT_KEY, LAYOUT);
  }
  const find = async (orderId: string) => {
    const entry = await kv.get([...PAYMENT_PREFIX, orderId]);
    return entry.value === null ? undefined : kept(entry.value);
  };
  return {
    async save(payment) {
      await write(kv.atomic(), payment).commit();
    },
    async end(payment) {
      const key = [...PAYMENT_PREFIX, payment.orderId];
      for (let i = 0; i < MAX_WRITE_TRIES; i++) {
        const entry = await kv.get(key);
        if (entry.value !== null && paymentOf(entry.value).ended !== null) return false;
        const done = await write(kv.atomic().check(entry), payment).commit();
        if (done.ok) return true;
      }
      throw new Error(`Ending payment ${payment.orderId} lost ${MAX_WRITE_TRIES} races`);
    },
    find,
    async open() {
      const open: AwaitedPayment[] = [];
      for await (const entry of kv.list({ prefix: OPEN_PREFIX })) {
        const payment = await find(String(entry.key[1]));
        if (payment !== undefined && isOpen(payment)) open.push(payment);
        // Forgotten by our clock before KV deleted it: its index goes with it.
        else await kv.delete(entry.key);
      }
      return open;
    },
    async claim(orderId, tryNumber, forMs) {
      const key = [...CLAIM_PREFIX, orderId, tryNumber];
      const now = clock.now();
      const entry = await kv.get<{ until: number }>(key);
      // A claim whose holder stopped runs out by our clock, whether or not KV has deleted it.
      if (entry.value !== null && entry.value.until > now) return false;
      const done = await kv.atomic().check(entry)
        .set(key, { until: now + forMs }, { expireIn: Math.max(1, forMs) }).commit();
      return done.ok;
    },
    close() {
      kv.close();
      return Promise.resolve();
    },
  };
}
