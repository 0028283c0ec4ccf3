/** PollGate: polls ready in the same turn are answered together, with the newest state. */
import assert from "node:assert/strict";
import { ShoppingCart } from "../lib/inventory/cart.ts";
import { PollGate } from "../lib/realtime/poll_gate.ts";

Deno.test("a poll goes through at once on an idle gate, with the current state", async () => {
  const cart = new ShoppingCart(5);
  const gate = new PollGate(cart);
  assert.deepEqual((await gate.through()).state, { inventoryCount: 5, version: 0 });
  assert.equal(gate.waiting, 0);
});

Deno.test("polls that join in one turn share a pass, and get the state at the pass", async () => {
  const cart = new ShoppingCart(5);
  const gate = new PollGate(cart);
  const answers = Array.from({ length: 3000 }, () => gate.through());
  assert.equal(gate.waiting, 3000, "nobody is answered before the pass");
  await cart.add(crypto.randomUUID()); // A change before the pass: the pass carries it.
  const states = await Promise.all(answers);
  assert.ok(states.every((message) => message.state.version === 1));
  assert.equal(gate.waiting, 0);
});

Deno.test("a poll that joins while a pass runs is answered by a later pass, with the newer state", async () => {
  const cart = new ShoppingCart(5);
  const gate = new PollGate(cart);
  const first = Array.from({ length: 3000 }, () => gate.through());
  // Wait for the first batch's answer: the pass is then under way (its second batch not yet out).
  await first[0];
  await cart.add(crypto.randomUUID());
  const late = gate.through();
  assert.equal((await late).state.version, 1);
  await Promise.all(first);
  gate.flush();
});
