/** PushThrottle: cheap pushes go at once; costly ones wait for an idle turn, carrying the newest state. */
import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import { PushThrottle } from "../lib/realtime/push_throttle.ts";

/** A push that takes `cost` ms on a fake clock and records the state it carried. */
function fakePush(cost: number) {
  const clock = { now: 0 };
  const state = { version: 0 };
  const sent: number[] = [];
  let onPush = () => {};
  return {
    clock,
    state,
    sent,
    push: () => {
      clock.now += cost;
      sent.push(state.version);
      onPush();
    },
    /** Resolves at the next push. */
    nextPush: () => new Promise<void>((resolve) => onPush = resolve),
  };
}

Deno.test("a push cheaper than minCostMs goes out at once for every change", () => {
  const fake = fakePush(0.5);
  const throttle = new PushThrottle(fake.push, { minCostMs: 1, spacing: 2 }, () => fake.clock.now);
  for (let version = 1; version <= 5; version++) {
    fake.state.version = version;
    throttle.request();
  }
  assert.deepEqual(fake.sent, [1, 2, 3, 4, 5]);
  throttle.flush();
  assert.deepEqual(fake.sent, [1, 2, 3, 4, 5], "no push was left waiting");
});

Deno.test("after a costly push, the changes that follow are conflated into one later push", async () => {
  const fake = fakePush(5);
  const throttle = new PushThrottle(fake.push, { minCostMs: 1, spacing: 2 }, () => fake.clock.now);
  fake.state.version = 1;
  throttle.request();
  assert.deepEqual(fake.sent, [1], "the first change goes out at once");
  for (let version = 2; version <= 50; version++) {
    fake.state.version = version;
    throttle.request();
  }
  assert.deepEqual(fake.sent, [1], "nothing more until the pause ends");
  const pushed = fake.nextPush();
  await pushed;
  assert.deepEqual(fake.sent, [1, 50], "one push, with the newest state");
  throttle.flush();
  assert.deepEqual(fake.sent, [1, 50], "no push was left waiting");
});

Deno.test("the longest pause is spacing × cost, measured until the writes had their turn", async () => {
  const fake = fakePush(5);
  const throttle = new PushThrottle(fake.push, { minCostMs: 1, spacing: 3 }, () => fake.clock.now);
  throttle.request(); // Starts at 0; its loop ends at 5.
  // The writes after the loop take until 6: the push cost 6, so the next may start at 18.
  fake.clock.now = 6;
  // Timers of equal delay run in order: this one runs after the throttle's measuring timer.
  await new Promise((resolve) => setTimeout(resolve, 0));
  fake.clock.now = 17;
  fake.state.version = 2;
  throttle.request();
  assert.deepEqual(fake.sent, [0], "at 17 the pause has not ended");
  throttle.flush();
  assert.deepEqual(fake.sent, [0, 2], "the change waited for its turn");
  // A flush also forgets the pause: the next change goes out at once.
  fake.state.version = 3;
  throttle.request();
  assert.deepEqual(fake.sent, [0, 2, 3]);
  throttle.flush();
});

Deno.test("flush sends a waiting push at once, and nothing when none waits", () => {
  const fake = fakePush(5);
  const throttle = new PushThrottle(fake.push, { minCostMs: 1, spacing: 2 }, () => fake.clock.now);
  throttle.request();
  fake.state.version = 7;
  throttle.request();
  throttle.flush();
  assert.deepEqual(fake.sent, [0, 7]);
  throttle.flush();
  assert.deepEqual(fake.sent, [0, 7]);
});

Deno.test("a push that throws still starts the pause, and the throttle keeps working", async () => {
  const clock = { now: 0 };
  const second = Promise.withResolvers<void>();
  let calls = 0;
  const throttle = new PushThrottle(
    () => {
      calls++;
      clock.now += 5;
      if (calls === 1) throw new Error("broken subscriber");
      second.resolve();
    },
    { minCostMs: 1, spacing: 2 },
    () => clock.now,
  );
  assert.throws(() => throttle.request(), /broken subscriber/);
  throttle.request();
  assert.equal(calls, 1, "the second waits for the pause");
  await second.promise;
  assert.equal(calls, 2);
  throttle.flush();
});

Deno.test("a push in slices holds later changes until it ends, then sends the newest once", async () => {
  const clock = { now: 0 };
  const state = { version: 1 };
  const sent: number[] = [];
  const finish = Promise.withResolvers<void>();
  const second = Promise.withResolvers<void>();
  const throttle = new PushThrottle(
    () => {
      sent.push(state.version);
      if (sent.length === 1) return finish.promise;
      second.resolve();
    },
    { minCostMs: 1, spacing: 2 },
    () => clock.now,
  );
  throttle.request();
  for (state.version = 2; state.version <= 9; state.version++) throttle.request();
  state.version = 9;
  assert.deepEqual(sent, [1], "nothing while the first push runs");
  finish.resolve();
  await second.promise;
  assert.deepEqual(sent, [1, 9]);
  throttle.flush();
});

/** Fails a test that waited longer than the throttle could have on its own. */
function within(ms: number, what: string): Promise<never> {
  return new Promise((_, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    Deno.unrefTimer(timer);
  });
}

/** Keeps the event loop busy: `turns` immediates in a row, each taking `ms` on the fake clock. */
function busyLoop(clock: { now: number }, turns: number, ms: number) {
  const state = { done: 0 };
  const turn = () => {
    clock.now += ms;
    if (++state.done < turns) setImmediate(turn);
  };
  setImmediate(turn);
  return state;
}

/**
 * A throttle whose first push (costing `cost` ms of the fake clock) is over, writes included;
 * then `before` runs and version 2 is asked for. Resolves once it went out (within 5 s).
 */
async function secondPush(cost: number, before: (clock: { now: number }) => void) {
  const fake = fakePush(cost);
  const throttle = new PushThrottle(fake.push, { minCostMs: 1, spacing: 2 }, () => fake.clock.now);
  throttle.request();
  await new Promise((resolve) => setTimeout(resolve, 0)); // The writes have had their turn.
  before(fake.clock);
  fake.state.version = 2;
  throttle.request();
  assert.deepEqual(fake.sent, [0], "not from inside the change's own turn");
  await Promise.race([fake.nextPush(), within(5_000, "the push")]);
  assert.deepEqual(fake.sent, [0, 2]);
  throttle.flush();
}

Deno.test("after a costly push, a lone change goes out at the next idle turn, not after the pause", async () => {
  // A push that costs a minute of the fake clock: a pause of two minutes would fail the test.
  await secondPush(60_000, (clock) => clock.now += 10);
});

Deno.test("while other work keeps the event loop busy, the change waits for it", async () => {
  let busy = { done: 0 };
  // 20 turns of 2 ms each, queued before the change.
  await secondPush(60_000, (clock) => busy = busyLoop(clock, 20, 2));
  assert.equal(busy.done, 20, "the push went only once the other work had run");
});

Deno.test("work that never stops waiting gets spacing × cost, then the push goes anyway", async () => {
  // A 5 ms push: the pause ends 10 ms after it began, on the fake clock the busy loop advances.
  let busy = { done: 0 };
  await secondPush(5, (clock) => busy = busyLoop(clock, 1_000_000, 2));
  assert.ok(busy.done < 1_000_000, "pushed while the loop was still busy");
  busy.done = 1_000_000; // Stops the busy loop at its next turn.
});
