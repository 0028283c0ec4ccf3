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
