/** The cart in process, per operation: add and remove, reading the state, waking waiters. */
import { ShoppingCart } from "../lib/inventory/cart.ts";

/** BENCH_QUICK=1 (CI) wakes fewer waiters at once. */
const QUICK = Deno.env.get("BENCH_QUICK") === "1";
const WAITERS = QUICK ? 100 : 10_000;

const cart = new ShoppingCart(1_000_000);
const session = crypto.randomUUID();
const holders = new Set<string>();
const never = new AbortController().signal;

Deno.bench({
  name: "Set add + delete (baseline)",
  group: "add + remove",
  baseline: true,
  fn() {
    holders.add(session);
    holders.delete(session);
  },
});

Deno.bench({
  name: "cart.add + cart.remove",
  group: "add + remove",
  async fn() {
    await cart.add(session);
    await cart.remove(session);
  },
});

Deno.bench({
  name: "JSON.stringify of a state (baseline)",
  group: "state",
  baseline: true,
  fn() {
    JSON.stringify({ inventoryCount: 10, version: 1 });
  },
});

Deno.bench({
  name: "cart.current",
  group: "state",
  fn() {
    cart.current.json;
  },
});

Deno.bench({
  name: "resolve a promise (baseline)",
  group: "one waiter",
  baseline: true,
  async fn() {
    const { promise, resolve } = Promise.withResolvers<void>();
    resolve();
    await promise;
  },
});

Deno.bench({
  name: "nextChange woken by an add",
  group: "one waiter",
  async fn() {
    const woken = cart.nextChange(undefined, never);
    await cart.add(session);
    await woken;
    await cart.remove(session);
  },
});

Deno.bench({
  name: `resolve ${WAITERS} promises (baseline)`,
  group: `${WAITERS} waiters`,
  baseline: true,
  async fn() {
    const pending = Array.from({ length: WAITERS }, () => Promise.withResolvers<void>());
    for (const { resolve } of pending) resolve();
    await Promise.all(pending.map(({ promise }) => promise));
  },
});

Deno.bench({
  name: `${WAITERS} nextChange woken by one add`,
  group: `${WAITERS} waiters`,
  async fn() {
    // Each long poll has its own signal, as in lib/long_poll.ts.
    const woken = Array.from(
      { length: WAITERS },
      () => cart.nextChange(undefined, new AbortController().signal),
    );
    await cart.add(session);
    await Promise.all(woken);
    await cart.remove(session);
  },
});
