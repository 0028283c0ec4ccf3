/** Tests of the dashboard's history without a browser: bounded buckets, gaps, the summary. */
import assert from "node:assert/strict";
import {
  ActivityHistory,
  columnPeaks,
  HISTORY_SECONDS,
  linePath,
  summarize,
  summaryText,
} from "../static/activity_history.js";

const quiet = { holds: 0, releases: 0, sales: 0, watchers: 0 };

Deno.test("ActivityHistory keeps at most its limit of buckets, the newest", () => {
  const history = new ActivityHistory();
  for (let second = 0; second < HISTORY_SECONDS + 10; second++) {
    history.append(second * 1_000, { ...quiet, holds: second });
  }
  const { start, series } = history.view();
  assert.equal(series.holds.length, HISTORY_SECONDS);
  assert.equal(series.watchers.length, HISTORY_SECONDS);
  assert.equal(series.holds[0], 10);
  assert.equal(start, 10_000);
});

Deno.test("a snapshot longer than the limit keeps its newest buckets", () => {
  const history = new ActivityHistory(2);
  history.reset({
    start: 5_000,
    stepMs: 1_000,
    holds: [1, 2, 3],
    releases: [0, 0, 1],
    sales: [0, 1, 0],
    watchers: [3, 4, 5],
  });
  assert.deepEqual(history.view(), {
    start: 6_000,
    stepMs: 1_000,
    series: { holds: [2, 3], releases: [0, 1], sales: [1, 0], watchers: [4, 5] },
  });
  assert.throws(
    () =>
      history.reset({ start: 0, stepMs: 1_000, holds: [1], releases: [], sales: [], watchers: [] }),
    RangeError,
  );
});

Deno.test("a lost tick counts nothing happened then; a repeated one replaces, an old one is ignored", () => {
  const history = new ActivityHistory();
  history.append(10_000, { holds: 1, releases: 0, sales: 0, watchers: 4 });
  history.append(13_000, { holds: 2, releases: 1, sales: 1, watchers: 6 });
  assert.deepEqual(history.view().series, {
    holds: [1, 0, 0, 2],
    releases: [0, 0, 0, 1],
    sales: [0, 0, 0, 1],
    watchers: [4, 4, 4, 6],
  });
  history.append(13_000, { holds: 3, releases: 1, sales: 1, watchers: 7 });
  history.append(11_000, { holds: 9, releases: 9, sales: 9, watchers: 9 });
  assert.deepEqual(history.view().series.holds, [1, 0, 0, 3]);
  assert.deepEqual(history.view().series.watchers, [4, 4, 4, 7]);
});

Deno.test("a gap longer than the history starts it again from the new bucket", () => {
  const history = new ActivityHistory(5);
  history.append(0, { ...quiet, sales: 2 });
  history.append(60_000, { ...quiet, holds: 1, watchers: 2 });
  assert.deepEqual(history.view().series.holds, [1]);
  assert.equal(history.view().start, 60_000);
});

Deno.test("the summary sums the last minute and the whole history, and names a short one", () => {
  const history = new ActivityHistory();
  for (let second = 0; second < 90; second++) {
    history.append(second * 1_000, { holds: 1, releases: second % 2, sales: 0, watchers: second });
  }
  const summary = summarize(history.view());
  assert.deepEqual(summary.lastMinute, { holds: 60, releases: 30, sales: 0 });
  assert.deepEqual(summary.lastHour, { holds: 90, releases: 45, sales: 0 });
  assert.equal(summary.watchersNow, 89);
  assert.equal(summary.watchersPeak, 89);
  assert.equal(
    summaryText(summary),
    "Last minute: 60 holds, 30 releases, 0 sales. Last 90 s (all there is): 90 holds, " +
      "45 releases, 0 sales. Watchers: 89 now, peak 89.",
  );
  const empty = summaryText(summarize(new ActivityHistory().view()));
  assert.equal(
    empty,
    "Last minute: 0 holds, 0 releases, 0 sales. Last 0 s (all there is): 0 holds, 0 releases, " +
      "0 sales. Watchers: 0 now, peak 0.",
  );
});

Deno.test("an hour drawn in columns keeps a one-second burst, and the line ends at the right", () => {
  const values = Array.from({ length: HISTORY_SECONDS }, (_, i) => (i === 1_234 ? 9 : 0));
  const columns = columnPeaks(values, 10, 0);
  assert.equal(columns.length, 360);
  assert.equal(Math.max(...columns), 9);
  assert.equal(columns[123], 9);
  const path = linePath([1, 2], { width: 360, height: 100, slots: 360, top: 2 });
  assert.equal(path, "M359 50L360 0");
  assert.equal(linePath([], { width: 360, height: 100, slots: 360, top: 2 }), "");
});

Deno.test("a second the snapshot has no watcher sample of keeps the count before it", () => {
  const history = new ActivityHistory();
  history.reset({
    start: 0,
    stepMs: 1_000,
    holds: [0, 0, 0, 0],
    releases: [0, 0, 0, 0],
    sales: [0, 0, 0, 0],
    watchers: [null, 3, null, 5],
  });
  assert.deepEqual(history.view().series.watchers, [0, 3, 3, 5]);
});

Deno.test("a snapshot's seconds from before the process started are left out", () => {
  const history = new ActivityHistory();
  const zeros = [0, 0, 0, 0, 0];
  const activity = {
    start: 10_000,
    stepMs: 1_000,
    holds: [0, 0, 0, 2, 1],
    releases: zeros,
    sales: zeros,
    watchers: [null, null, null, 3, 3],
  };
  history.reset(activity, 13_400);
  assert.equal(history.view().start, 13_000);
  assert.deepEqual(history.view().series.holds, [2, 1]);
  assert.equal(summarize(history.view()).seconds, 2);
  history.reset(activity, 99_000);
  assert.deepEqual(history.view().series.holds, []);
  history.append(99_000, { holds: 1, releases: 0, sales: 0, watchers: 1 });
  assert.equal(history.view().start, 99_000);
  history.reset(activity, 0);
  assert.equal(history.view().series.holds.length, 5);
});
