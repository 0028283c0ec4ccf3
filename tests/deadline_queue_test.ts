/** DeadlineQueue: one timer for many waits of the same length, oldest first. */
import assert from "node:assert/strict";
import { DeadlineQueue } from "../lib/time/deadline_queue.ts";
import { FakeClock } from "./support/fake_clock.ts";

Deno.test("callbacks are called at their deadlines, in order, with one timer at a time", () => {
  const clock = new FakeClock(0);
  const deadlines = new DeadlineQueue(100, clock);
  const called: string[] = [];
  deadlines.add(() => called.push("first"));
  clock.advance(30);
  deadlines.add(() => called.push("second"));
  deadlines.add(() => called.push("third"));
  assert.equal(clock.pendingTimers, 1);
  clock.advance(69);
  assert.deepEqual(called, []);
  clock.advance(1);
  assert.deepEqual(called, ["first"], "at 100, the first only");
  assert.equal(clock.pendingTimers, 1, "the timer of the next");
  clock.advance(30);
  assert.deepEqual(called, ["first", "second", "third"], "at 130, the two added together");
  assert.equal(deadlines.size, 0);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("a callback deleted before its deadline is not called; the last one takes the timer", () => {
  const clock = new FakeClock(0);
  const deadlines = new DeadlineQueue(100, clock);
  const called: number[] = [];
  const callbacks = Array.from({ length: 1000 }, (_, i) => () => called.push(i));
  for (const callback of callbacks) deadlines.add(callback);
  assert.equal(deadlines.delete(callbacks[0]), true, "the oldest");
  assert.equal(deadlines.delete(callbacks[0]), false, "twice");
  clock.advance(100);
  assert.equal(called.length, 999);
  assert.equal(called[0], 1);
  for (const callback of callbacks) deadlines.add(callback);
  for (const callback of callbacks) deadlines.delete(callback);
  assert.equal(deadlines.size, 0);
  assert.equal(clock.pendingTimers, 0, "no timer for an empty queue");
  clock.advance(1000);
  assert.equal(called.length, 999);
});

Deno.test("a callback added again waits from then", () => {
  const clock = new FakeClock(0);
  const deadlines = new DeadlineQueue(100, clock);
  const called: string[] = [];
  const again = () => called.push("again");
  deadlines.add(again);
  deadlines.add(() => called.push("other"));
  clock.advance(50);
  deadlines.add(again);
  assert.equal(deadlines.size, 2);
  clock.advance(50);
  assert.deepEqual(called, ["other"]);
  clock.advance(50);
  assert.deepEqual(called, ["other", "again"]);
});

Deno.test("a wait of less than 0 ms is refused", () => {
  assert.throws(() => new DeadlineQueue(-1), RangeError);
  assert.throws(() => new DeadlineQueue(NaN), /Wait must be 0 ms or more, got NaN/);
});

Deno.test("a lingering queue leaves its timer to run out when it empties, sets none again, and closes", () => {
  const clock = new FakeClock(0);
  const deadlines = new DeadlineQueue(100, clock, { lingering: true });
  const called: string[] = [];
  const read = () => called.push("read");
  deadlines.add(read);
  deadlines.delete(read);
  assert.equal(clock.pendingTimers, 1, "the timer runs on, so the next add sets none");
  const next = () => called.push("next");
  clock.advance(50);
  deadlines.add(next);
  assert.equal(clock.pendingTimers, 1);
  clock.advance(50);
  assert.deepEqual(called, [], "the old deadline passed: only the timer for the next is left");
  assert.equal(clock.pendingTimers, 1);
  clock.advance(50);
  assert.deepEqual(called, ["next"]);
  assert.equal(clock.pendingTimers, 0, "nothing left, nothing set again");
  deadlines.add(read);
  deadlines.close();
  assert.equal(clock.pendingTimers, 0, "closing cancels it");
});
