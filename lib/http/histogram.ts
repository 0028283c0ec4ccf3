/** A Prometheus histogram: counts of observations at or under each bucket's bound, and their sum. */

/**
 * Counts observations into fixed buckets, rendered in Prometheus' text format.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const histogram = new Histogram([0.1, 1]);
 * histogram.observe(0.05);
 * histogram.observe(2);
 * assert.deepEqual(histogram.render("x_seconds", "X."), [
 *   "# HELP x_seconds X.",
 *   "# TYPE x_seconds histogram",
 *   'x_seconds_bucket{le="0.1"} 1',
 *   'x_seconds_bucket{le="1"} 1',
 *   'x_seconds_bucket{le="+Inf"} 2',
 *   "x_seconds_sum 2.05",
 *   "x_seconds_count 2",
 * ]);
 * ```
 */
export class Histogram {
  readonly #bounds: readonly number[];
  readonly #counts: number[];
  #sum = 0;
  #count = 0;

  /**
   * Makes an empty histogram.
   *
   * @param bounds The buckets' upper bounds, ascending.
   */
  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.#counts = bounds.map(() => 0);
  }

  /**
   * Counts one observation.
   *
   * @param value The value, e.g. seconds.
   */
  observe(value: number): void {
    const at = this.#bounds.findIndex((bound) => value <= bound);
    if (at >= 0) this.#counts[at]++;
    this.#sum += value;
    this.#count++;
  }

  /**
   * Renders the histogram.
   *
   * @param name The metric's name.
   * @param help Its help text.
   * @returns The lines, cumulative per bucket as Prometheus wants.
   */
  render(name: string, help: string): string[] {
    let cumulative = 0;
    const buckets = this.#bounds.map((bound, i) => {
      cumulative += this.#counts[i];
      return `${name}_bucket{le="${bound}"} ${cumulative}`;
    });
    return [
      `# HELP ${name} ${help}`,
      `# TYPE ${name} histogram`,
      ...buckets,
      `${name}_bucket{le="+Inf"} ${this.#count}`,
      `${name}_sum ${Math.round(this.#sum * 1e6) / 1e6}`,
      `${name}_count ${this.#count}`,
    ];
  }
}
