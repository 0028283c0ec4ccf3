/** PushThrottle: cheap pushes go at once; costly ones are spaced out and carry the newest state. */
import assert from "node:assert/strict";
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

Deno.test("the pause lasts spacing × cost, measured until the writes had their turn", async () => {
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
