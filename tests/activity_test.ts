/** The activity ring buffer: deltas per product, buckets that roll over, an hour kept, no more. */
import assert from "node:assert/strict";
import { Activity, ACTIVITY_SECONDS } from "../lib/admin/activity.ts";
import type { ProductState } from "../lib/inventory/ledger.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { productInfo } from "./support/products.ts";

const START = Date.UTC(2026, 0, 1, 12);

function recordOf(id: string, held: number, sold: number, version: number): ProductState {
  const info = productInfo(id);
  return { info, total: 10, held, sold, version, retired: false, listedTotal: null };
}

Deno.test("adds, removes and sales count by the change of held and sold", () => {
  const clock = new FakeClock(START);
  const activity = new Activity(clock, [recordOf("pin", 2, 0, 4)]);
  activity.observe(recordOf("pin", 3, 0, 5)); // an add
  activity.observe(recordOf("pin", 2, 0, 6)); // a remove (or an expiry)
  activity.observe(recordOf("pin", 1, 1, 7)); // a hold checked out and sold
  activity.observe({ ...recordOf("pin", 1, 1, 8), total: 50 }); // a restock
  assert.deepEqual(activity.countsAt(START), { holds: 1, releases: 1, sales: 1 });
});

Deno.test("a record that skips versions counts the folded changes", () => {
  const clock = new FakeClock(START);
  const activity = new Activity(clock, [recordOf("pin", 0, 0, 0), recordOf("cap", 4, 0, 0)]);
  // Four adds and one of them sold, seen as one record.
  activity.observe(recordOf("pin", 3, 1, 5));
  // Three holds of another product ended at once (expired, or the product retired).
  activity.observe({ ...recordOf("cap", 1, 0, 3), retired: true });
  assert.deepEqual(activity.countsAt(START), { holds: 4, releases: 3, sales: 1 });
});

Deno.test("a product first seen after the start counts from zero", () => {
  const clock = new FakeClock(START);
  const activity = new Activity(clock);
  activity.observe(recordOf("new", 2, 0, 2));
  assert.deepEqual(activity.countsAt(START), { holds: 2, releases: 0, sales: 0 });
});

Deno.test("each second has its bucket; the history ends before the current second", () => {
  const clock = new FakeClock(START + 300);
  const activity = new Activity(clock, [recordOf("pin", 0, 0, 0)]);
  activity.observe(recordOf("pin", 1, 0, 1));
  activity.sampleWatchers(7);
  clock.advance(1_000);
  activity.observe(recordOf("pin", 3, 0, 2));
  activity.sampleWatchers(8);
  activity.sampleWatchers(9);
  assert.deepEqual(activity.countsAt(START), { holds: 1, releases: 0, sales: 0 });
  assert.deepEqual(activity.countsAt(START + 1_999), { holds: 2, releases: 0, sales: 0 });

  clock.advance(1_000);
  const history = activity.history();
  assert.equal(history.stepMs, 1_000);
  assert.equal(history.start, START + 2_000 - ACTIVITY_SECONDS * 1_000);
  for (const series of [history.holds, history.releases, history.sales, history.watchers]) {
    assert.equal(series.length, ACTIVITY_SECONDS);
  }
  assert.deepEqual(history.holds.slice(-2), [1, 2]);
  assert.deepEqual(history.watchers.slice(-3), [null, 7, 9]);
  assert.equal(history.holds.reduce((a, b) => a + b), 3);
});

Deno.test("a bucket an hour old is dropped, and a long pause empties them all", () => {
  const clock = new FakeClock(START);
  const activity = new Activity(clock, [recordOf("pin", 0, 0, 0)]);
  activity.observe(recordOf("pin", 1, 0, 1));
  activity.sampleWatchers(3);
  clock.advance(ACTIVITY_SECONDS * 1_000);
  assert.equal(activity.countsAt(START).holds, 1, "still the oldest second of the hour");
  assert.equal(activity.history().holds[0], 1);
  assert.equal(activity.history().watchers[0], 3);

  clock.advance(1_000);
  assert.equal(activity.countsAt(START).holds, 0);
  assert.equal(activity.history().holds.reduce((a, b) => a + b), 0);
  assert.equal(activity.history().watchers.every((sample) => sample === null), true);

  activity.observe(recordOf("pin", 2, 0, 2));
  clock.advance(10 * ACTIVITY_SECONDS * 1_000);
  const history = activity.history();
  assert.equal(history.holds.reduce((a, b) => a + b), 0);
  assert.equal(activity.countsAt(clock.now()).holds, 0);
});

Deno.test("a watcher sample outside the hour or in a second not begun is ignored", () => {
  const clock = new FakeClock(START);
  const activity = new Activity(clock);
  activity.sampleWatchers(5, START + 1_000);
  activity.sampleWatchers(5, START - (ACTIVITY_SECONDS + 1) * 1_000);
  clock.advance(1_000);
  assert.equal(activity.history().watchers.every((sample) => sample === null), true);
});
