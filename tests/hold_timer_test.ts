/** The hold timer: a pass that fails is tried again after a backoff, not in a loop. */
import assert from "node:assert/strict";
import { HoldTimer } from "../lib/store/hold_timer.ts";
import type { Shelf } from "../lib/store/shelf.ts";
import { FakeClock } from "./support/fake_clock.ts";

/** Lets every timer and promise that is ready run, a bounded number of turns. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("expiring holds that fails is retried after 1 s, then 2 s, not at once", async () => {
  const clock = new FakeClock();
  // One product whose hold is always due, on an engine that always refuses.
  const shelf = { firstExpiry: () => clock.now() - 1, due: () => ["a"] } as unknown as Shelf;
  let visits = 0;
  const errors: unknown[] = [];
  const log = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  const timer = new HoldTimer(shelf, clock, () => {
    visits++;
    return Promise.reject(new Error("disk full"));
  });
  try {
    timer.arm();
    await settle();
    assert.equal(visits, 1, "one pass, then a pause");
    clock.advance(999);
    await settle();
    assert.equal(visits, 1);
    clock.advance(1);
    await settle();
    assert.equal(visits, 2, "tried again after 1 s");
    clock.advance(1_999);
    await settle();
    assert.equal(visits, 2, "the next pause is 2 s");
    clock.advance(1);
    await settle();
    assert.equal(visits, 3);
    assert.equal(errors.length, 3, "each failure logged once");
  } finally {
    timer.stop();
    console.error = log;
  }
});

Deno.test("a first hold that moves later keeps the timer, which fires early, finds nothing and is set again", async () => {
  const clock = new FakeClock();
  let first = clock.now() + 1_000;
  const visited: number[] = [];
  const shelf = {
    firstExpiry: () => first,
    due: (now: number) => (first <= now ? ["a"] : []),
  } as unknown as Shelf;
  const timer = new HoldTimer(shelf, clock, () => {
    visited.push(clock.now());
    first = Infinity;
    return Promise.resolve();
  });
  try {
    timer.arm();
    assert.equal(clock.pendingTimers, 1);
    first = clock.now() + 5_000;
    timer.arm();
    assert.equal(clock.pendingTimers, 1, "the timer set for 1 s stays");
    clock.advance(1_000);
    await settle();
    assert.deepEqual(visited, [], "nothing was due at 1 s");
    assert.equal(clock.pendingTimers, 1, "set again for 5 s");
    clock.advance(3_999);
    await settle();
    assert.deepEqual(visited, []);
    clock.advance(1);
    await settle();
    assert.deepEqual(visited, [clock.now()], "the hold due at 5 s is visited then");
    assert.equal(clock.pendingTimers, 0, "no hold left, no timer");
    first = clock.now() + 2_000;
    timer.arm();
    first = clock.now() + 500;
    timer.arm();
    assert.equal(clock.pendingTimers, 1, "moved earlier: one timer, for the earlier time");
    clock.advance(500);
    await settle();
    assert.equal(visited.length, 2);
  } finally {
    timer.stop();
  }
});
