// The dashboard's history without the DOM: bounded per-second series, their summary, chart shapes.
// @ts-check

/** Seconds of history kept and drawn: the last hour, one bucket a second, as the server keeps. */
export const HISTORY_SECONDS = 3_600;

/** The series the dashboard keeps, each a count per bucket. */
export const SERIES = /** @type {const} */ (["holds", "releases", "sales", "watchers"]);

/** @typedef {typeof SERIES[number]} SeriesName */

/**
 * @typedef {object} Bucket
 * One second of activity.
 * @property {number} holds Units added to carts in that second.
 * @property {number} releases Holds that ended without a sale (removed or expired).
 * @property {number} sales Units sold.
 * @property {number} watchers Pages watching at the end of it, over every transport.
 */

/**
 * @typedef {object} ActivityView
 * A history as it stands: the buckets of each series, oldest first, ending with the latest.
 * @property {number} start When the first bucket began, in ms since the epoch (NaN when empty).
 * @property {number} stepMs How long a bucket lasts, in ms.
 * @property {Record<SeriesName, readonly number[]>} series The counts, one array per series,
 * all of the same length.
 */

/**
 * @typedef {object} ActivityInput
 * A history as the feed's snapshot carries it.
 * @property {number} start When the first bucket began, in ms since the epoch.
 * @property {number} stepMs How long a bucket lasts, in ms.
 * @property {readonly number[]} holds Units newly held, per bucket.
 * @property {readonly number[]} releases Holds ended without a sale, per bucket.
 * @property {readonly number[]} sales Units sold, per bucket.
 * @property {readonly (number | null)[]} watchers Watchers per bucket; null where not sampled.
 */

/**
 * The last hour of activity, one bucket a second, as the snapshot gave it and the ticks since
 * added to it. It never holds more than its limit of buckets: the oldest go as new ones come.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const history = new ActivityHistory(3);
 * history.reset({ start: 0, stepMs: 1000, holds: [1, 2], releases: [0, 0], sales: [0, 1],
 *   watchers: [4, 4] });
 * history.append(2000, { holds: 5, releases: 1, sales: 0, watchers: 6 });
 * history.append(3000, { holds: 0, releases: 0, sales: 0, watchers: 6 });
 * assert.deepEqual(history.view().series.holds, [2, 5, 0]);
 * assert.equal(history.view().start, 1000);
 * ```
 */
export class ActivityHistory {
  /** @type {number} */
  #limit;
  /** @type {number} */
  #start = NaN;
  /** @type {number} */
  #stepMs = 1_000;
  /** @type {Record<SeriesName, number[]>} */
  #series = { holds: [], releases: [], sales: [], watchers: [] };

  /**
   * @param {number} limit The most buckets kept, {@linkcode HISTORY_SECONDS} by default.
   * @throws {RangeError} When the limit is not a positive whole number.
   */
  constructor(limit = HISTORY_SECONDS) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`History limit must be a positive whole number, got ${limit}`);
    }
    this.#limit = limit;
  }

  /**
   * Replaces the history with the one a snapshot carries: its newest buckets when it has more
   * than the limit, and none that ended before `since` (when the server's process started: it
   * knows nothing of them, they are not quiet seconds).
   *
   * @param {ActivityInput} activity The snapshot's `activity`: when its first bucket began, a
   * bucket's length, and the series (a watcher count may be null: no sample that second).
   * @param {number} since Buckets that ended at or before this time, in ms, are left out.
   * @throws {RangeError} When the step is not positive or the series differ in length.
   */
  reset(activity, since = -Infinity) {
    const { start, stepMs } = activity;
    const length = activity.holds.length;
    if (!(stepMs > 0)) throw new RangeError(`Activity step must be positive, got ${stepMs}`);
    if (SERIES.some((name) => activity[name].length !== length)) {
      throw new RangeError("Activity series must all have the same length");
    }
    const before = Math.min(length, Math.max(0, Math.floor((since - start) / stepMs)));
    const dropped = Math.max(before, length - this.#limit);
    this.#stepMs = stepMs;
    this.#start = dropped === length ? NaN : start + dropped * stepMs;
    for (const name of SERIES) this.#series[name] = activity[name].slice(dropped).map(Number);
    // A second the server has no watcher sample of (null) had as many as the one before.
    const watchers = this.#series.watchers;
    const given = activity.watchers.slice(dropped);
    given.forEach((value, i) => {
      if (value === null) watchers[i] = i === 0 ? 0 : watchers[i - 1];
    });
  }

  /**
   * Adds the bucket that began at `at`. A bucket the history already has is replaced; one older
   * than that is ignored; seconds missed in between (a tick lost) count nothing happened and the
   * watchers unchanged.
   *
   * @param {number} at When the bucket began, in ms since the epoch.
   * @param {Bucket} bucket Its counts.
   */
  append(at, bucket) {
    const holds = this.#series.holds;
    if (Number.isNaN(this.#start)) this.#start = at;
    const index = Math.round((at - this.#start) / this.#stepMs);
    if (index < holds.length - 1) return;
    if (index === holds.length - 1) {
      for (const name of SERIES) this.#series[name][index] = bucket[name];
      return;
    }
    const missed = index - holds.length;
    if (missed >= this.#limit) {
      this.reset({
        start: at,
        stepMs: this.#stepMs,
        holds: [bucket.holds],
        releases: [bucket.releases],
        sales: [bucket.sales],
        watchers: [bucket.watchers],
      });
      return;
    }
    const lastWatchers = this.#series.watchers.at(-1) ?? bucket.watchers;
    for (let i = 0; i < missed; i++) {
      for (const name of SERIES) this.#series[name].push(name === "watchers" ? lastWatchers : 0);
    }
    for (const name of SERIES) this.#series[name].push(bucket[name]);
    const excess = holds.length - this.#limit;
    if (excess > 0) {
      for (const name of SERIES) this.#series[name].splice(0, excess);
      this.#start += excess * this.#stepMs;
    }
  }

  /**
   * @returns {ActivityView} The history now; the arrays are the history's own, not to be changed.
   */
  view() {
    return { start: this.#start, stepMs: this.#stepMs, series: this.#series };
  }
}

/**
 * @typedef {object} ActivitySummary
 * What the chart shows, in numbers.
 * @property {{ holds: number, releases: number, sales: number }} lastMinute Totals of the newest
 * 60 buckets.
 * @property {{ holds: number, releases: number, sales: number }} lastHour Totals of them all.
 * @property {number} watchersNow Watchers in the newest bucket (0 when there is none).
 * @property {number} watchersPeak The most watchers in any bucket.
 * @property {number} seconds How many seconds of history there are.
 */

/**
 * Sums up a history: the last minute's and the last hour's holds, releases and sales, and the
 * watchers now and at their peak.
 *
 * @param {ActivityView} view The history.
 * @returns {ActivitySummary} The summary.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const series = { holds: [3, 1], releases: [0, 1], sales: [2, 0], watchers: [5, 4] };
 * const summary = summarize({ start: 0, stepMs: 1000, series });
 * assert.deepEqual(summary.lastMinute, { holds: 4, releases: 1, sales: 2 });
 * assert.equal(summary.watchersPeak, 5);
 * ```
 */
export function summarize(view) {
  const { holds, releases, sales, watchers } = view.series;
  const perMinute = Math.max(1, Math.round(60_000 / view.stepMs));
  /** @param {readonly number[]} values @param {number} from */
  const sum = (values, from) => values.slice(from).reduce((total, value) => total + value, 0);
  const minuteFrom = Math.max(0, holds.length - perMinute);
  return {
    lastMinute: {
      holds: sum(holds, minuteFrom),
      releases: sum(releases, minuteFrom),
      sales: sum(sales, minuteFrom),
    },
    lastHour: { holds: sum(holds, 0), releases: sum(releases, 0), sales: sum(sales, 0) },
    watchersNow: watchers.at(-1) ?? 0,
    watchersPeak: watchers.reduce((peak, value) => Math.max(peak, value), 0),
    seconds: Math.round((holds.length * view.stepMs) / 1_000),
  };
}

/**
 * @param {number} count
 * @param {string} one The word for one, e.g. "hold".
 * @returns {string} E.g. "1 hold", "3 holds".
 */
function counted(count, one) {
  return `${count} ${count === 1 ? one : `${one}s`}`;
}

/**
 * Says a summary in a sentence or two, for everyone and for screen readers in place of the chart.
 *
 * @param {ActivitySummary} summary From {@linkcode summarize}.
 * @returns {string} The text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const summary = {
 *   lastMinute: { holds: 12, releases: 3, sales: 1 },
 *   lastHour: { holds: 40, releases: 9, sales: 20 },
 *   watchersNow: 4, watchersPeak: 5, seconds: 3600,
 * };
 * assert.equal(
 *   summaryText(summary),
 *   "Last minute: 12 holds, 3 releases, 1 sale. Last hour: 40 holds, 9 releases, 20 sales. " +
 *     "Watchers: 4 now, peak 5.",
 * );
 * ```
 */
export function summaryText(summary) {
  /** @param {{ holds: number, releases: number, sales: number }} totals */
  const say = (totals) =>
    `${counted(totals.holds, "hold")}, ${counted(totals.releases, "release")}, ` +
    `${counted(totals.sales, "sale")}`;
  const kept = summary.seconds < 120
    ? `${summary.seconds} s`
    : `${Math.floor(summary.seconds / 60)} min`;
  const hour = summary.seconds >= HISTORY_SECONDS ? "Last hour" : `Last ${kept} (all there is)`;
  return `Last minute: ${say(summary.lastMinute)}. ${hour}: ${say(summary.lastHour)}. ` +
    `Watchers: ${summary.watchersNow} now, peak ${summary.watchersPeak}.`;
}

/**
 * The smallest "nice" number (1, 2 or 5 times a power of ten) at or above a value, at least 1:
 * the top of a chart's scale.
 *
 * @param {number} value The largest value to show.
 * @returns {number} The top of the scale.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual([0, 1, 3, 7, 12, 200, 201].map(niceCeiling), [1, 1, 5, 10, 20, 200, 500]);
 * ```
 */
export function niceCeiling(value) {
  if (!(value > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].find((factor) => factor * power >= value) ?? 10;
  return step * power;
}

/** The spans a chart may show, in minutes: the shortest that holds the whole history is shown. */
const SPANS_MINUTES = [2, 5, 10, 15, 30, 60];

/**
 * How many minutes a chart spans: the shortest of 2, 5, 10, 15, 30 and 60 that holds the whole
 * history, so that a young process's few minutes fill the chart rather than its last pixels.
 *
 * @param {number} seconds How many seconds of history there are.
 * @returns {number} The span in minutes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual([0, 120, 121, 1000, 3600, 9000].map(spanMinutes), [2, 2, 5, 30, 60, 60]);
 * ```
 */
export function spanMinutes(seconds) {
  return SPANS_MINUTES.find((minutes) => minutes * 60 >= seconds) ?? HISTORY_SECONDS / 60;
}

/**
 * Narrows a series to one value per run of `perColumn` buckets, each the largest of its run, so
 * that a one-second burst still shows when an hour is drawn in a few hundred pixels. Runs are
 * aligned on time (bucket number `first + i`), not on the series' ends, so that a column keeps
 * its value as new buckets come; the first and the last run may be partial.
 *
 * @param {readonly number[]} values The series, oldest first.
 * @param {number} perColumn How many buckets a column stands for.
 * @param {number} first The number of the first bucket since the epoch (its start ÷ its length).
 * @returns {number[]} The columns, oldest first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(columnPeaks([1, 0, 0, 4, 2, 0, 3], 2, 0), [1, 4, 2, 3]);
 * assert.deepEqual(columnPeaks([1, 0, 0, 4, 2, 0, 3], 2, 1), [1, 0, 4, 3]);
 * ```
 */
export function columnPeaks(values, perColumn, first) {
  const step = Math.max(1, Math.floor(perColumn));
  /** @type {number[]} */
  const columns = [];
  let column = NaN;
  values.forEach((value, i) => {
    const at = Math.floor((first + i) / step);
    if (at !== column) {
      column = at;
      columns.push(value);
    } else {
      columns[columns.length - 1] = Math.max(columns[columns.length - 1], value);
    }
  });
  return columns;
}

/**
 * An SVG path that draws values as a line against the right edge of a box: the last value at
 * `width`, each earlier one `width / slots` further left, 0 at the bottom and `top` at the top.
 *
 * @param {readonly number[]} values The values, oldest first; only the newest `slots + 1` show.
 * @param {{ width: number, height: number, slots: number, top: number }} box The box's size in
 * SVG units, how many steps the width holds, and the value drawn at the top.
 * @returns {string} The path's `d`, or "" for no values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(linePath([0, 5, 10], { width: 100, height: 50, slots: 4, top: 10 }),
 *   "M50 50L75 25L100 0");
 * ```
 */
export function linePath(values, box) {
  const shown = values.slice(-(box.slots + 1));
  const step = box.width / box.slots;
  const offset = box.width - (shown.length - 1) * step;
  return shown.map((value, i) => {
    const x = round(offset + i * step);
    const y = round(box.height - (Math.min(value, box.top) / box.top) * box.height);
    return `${i === 0 ? "M" : "L"}${x} ${y}`;
  }).join("");
}

/** @param {number} value @returns {number} The value to 0.1 of an SVG unit. */
function round(value) {
  return Math.round(value * 10) / 10;
}
