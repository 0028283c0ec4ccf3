/** Unit tests for ShoppingCart: versions, idempotence, sold out, waiters, subscribers. */
import assert from "node:assert/strict";
import { ShoppingCart, type StateMessage } from "../lib/inventory/cart.ts";

const session = () => crypto.randomUUID();

Deno.test("a new cart has the full stock at version 0", () => {
  const cart = new ShoppingCart(3);
  assert.deepEqual(cart.current.state, { inventoryCount: 3, version: 0 });
  assert.equal(cart.current.json, '{"inventoryCount":3,"version":0}');
});

Deno.test("the cart refuses a negative or fractional stock", () => {
  assert.throws(() => new ShoppingCart(-1), RangeError);
  assert.throws(() => new ShoppingCart(1.5), RangeError);
});

Deno.test("add takes one unit and bumps the version; a second add by the same session changes nothing", async () => {
  const cart = new ShoppingCart(2);
  const shopper = session();
  const first = await cart.add(shopper);
  assert.deepEqual(first, {
    ok: true,
    inCart: true,
    message: { state: { inventoryCount: 1, version: 1 }, json: '{"inventoryCount":1,"version":1}' },
  });
  const again = await cart.add(shopper);
  assert.equal(again.ok && again.inCart, true);
  assert.deepEqual(cart.current.state, { inventoryCount: 1, version: 1 });
  assert.equal(cart.holds(shopper), true);
});

Deno.test("remove frees the unit once; removing what is not held changes nothing", async () => {
  const cart = new ShoppingCart(2);
  const shopper = session();
  await cart.add(shopper);
  const removed = await cart.remove(shopper);
  assert.equal(removed.ok && removed.inCart, false);
  assert.deepEqual(cart.current.state, { inventoryCount: 2, version: 2 });
  await cart.remove(shopper);
  await cart.remove(session());
  assert.deepEqual(cart.current.state, { inventoryCount: 2, version: 2 });
  assert.equal(cart.holds(shopper), false);
});

Deno.test("an add with none left is refused as sold out and changes nothing", async () => {
  const cart = new ShoppingCart(1);
  await cart.add(session());
  const refused = await cart.add(session());
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.reason, "sold out");
  assert.deepEqual(cart.current.state, { inventoryCount: 0, version: 1 });
});

Deno.test("concurrent adds never sell more than the stock", async () => {
  const cart = new ShoppingCart(10);
  const results = await Promise.all(Array.from({ length: 50 }, () => cart.add(session())));
  assert.equal(results.filter((r) => r.ok).length, 10);
  assert.equal(cart.current.state.inventoryCount, 0);
});

Deno.test("a waiter is released by the next change with the new state", async () => {
  const cart = new ShoppingCart(5);
  const waiting = cart.nextChange(undefined, new AbortController().signal);
  assert.equal(cart.waiterCount, 1);
  await cart.add(session());
  assert.deepEqual((await waiting).state, { inventoryCount: 4, version: 1 });
  assert.equal(cart.waiterCount, 0);
});

Deno.test("nextChange answers at once when the client is behind or ahead of the cart", async () => {
  const cart = new ShoppingCart(5);
  await cart.add(session());
  const signal = new AbortController().signal;
  assert.equal((await cart.nextChange(0, signal)).state.version, 1);
  // A client that saw version 7 of an earlier run must not wait for this cart to reach 8.
  assert.equal((await cart.nextChange(7, signal)).state.version, 1);
  assert.equal(cart.waiterCount, 0);
});

Deno.test("nextChange with the current version waits for the next change", async () => {
  const cart = new ShoppingCart(5);
  const waiting = cart.nextChange(0, new AbortController().signal);
  assert.equal(cart.waiterCount, 1);
  await cart.add(session());
  assert.equal((await waiting).state.version, 1);
});

Deno.test("an aborted wait removes its waiter at once and answers the current state", async () => {
  const cart = new ShoppingCart(5);
  const controllers = Array.from({ length: 100 }, () => new AbortController());
  const waits = controllers.map((c) => cart.nextChange(undefined, c.signal));
  assert.equal(cart.waiterCount, 100);
  for (const c of controllers) c.abort();
  assert.equal(cart.waiterCount, 0);
  const answers = await Promise.all(waits);
  assert.ok(answers.every((m) => m.state.version === 0));
});

Deno.test("a wait whose signal is already aborted registers no waiter", async () => {
  const cart = new ShoppingCart(5);
  const answer = await cart.nextChange(undefined, AbortSignal.abort());
  assert.equal(answer.state.version, 0);
  assert.equal(cart.waiterCount, 0);
});

Deno.test("subscribers get every change in order, and stop after unsubscribing", async () => {
  const cart = new ShoppingCart(5);
  const seen: number[] = [];
  const unsubscribe = cart.subscribe((m) => seen.push(m.state.version));
  assert.equal(cart.subscriberCount, 1);
  const shopper = session();
  await cart.add(shopper);
  await cart.add(session());
  await cart.remove(shopper);
  unsubscribe();
  await cart.add(session());
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(cart.subscriberCount, 0);
});

Deno.test("one message object per change is shared by every subscriber and waiter", async () => {
  const cart = new ShoppingCart(5);
  const received: StateMessage[] = [];
  cart.subscribe((m) => received.push(m));
  cart.subscribe((m) => received.push(m));
  const waiting = cart.nextChange(undefined, new AbortController().signal);
  await cart.add(session());
  received.push(await waiting);
  assert.equal(received.length, 3);
  assert.ok(received.every((m) => m === cart.current));
});

Deno.test("a throwing subscriber does not stop the others", async () => {
  const cart = new ShoppingCart(5);
  const errors: unknown[] = [];
  const originalError = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    cart.subscribe(() => {
      throw new Error("broken");
    });
    let reached = 0;
    cart.subscribe(() => reached++);
    await cart.add(session());
    assert.equal(reached, 1);
    assert.equal(errors.length, 1);
  } finally {
    console.error = originalError;
  }
});

Deno.test("close answers every waiter and later waits answer at once", async () => {
  const cart = new ShoppingCart(5);
  const waits = [1, 2, 3].map(() => cart.nextChange(undefined, new AbortController().signal));
  cart.close();
  assert.equal(cart.waiterCount, 0);
  assert.equal((await Promise.all(waits)).length, 3);
  await cart.nextChange(undefined, new AbortController().signal);
  assert.equal(cart.waiterCount, 0);
});
