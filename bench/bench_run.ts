/** What a long bench script needs around its work: a deadline, clean-ups, markdown tables. */

/**
 * A bench run with a limit on its length: what it starts is stopped at the end, or when the
 * limit passes (the script then exits 1).
 */
export class BenchRun {
  /** Aborts when the run's time is up: every wait of the run gives up with it. */
  readonly signal: AbortSignal;
  readonly #cleanups: (() => PromiseLike<void>)[] = [];

  /**
   * Starts the clock of the run.
   *
   * @param timeoutMs How long the whole run may take.
   */
  constructor(timeoutMs: number) {
    this.signal = AbortSignal.timeout(timeoutMs);
    this.signal.addEventListener("abort", async () => {
      console.error(`error: the bench took longer than ${timeoutMs / 1000} s; giving up`);
      await this.cleanUp();
      Deno.exit(1);
    });
  }

  /**
   * Registers what stops something the run started.
   *
   * @param cleanup Stops it; its failure is ignored (it may have stopped already).
   */
  defer(cleanup: () => PromiseLike<void>): void {
    this.#cleanups.push(cleanup);
  }

  /** Stops everything registered, the last started first. */
  async cleanUp(): Promise<void> {
    for (const cleanup of this.#cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch {
        // Already stopped.
      }
    }
  }
}

/**
 * Writes a markdown table.
 *
 * @param header The column names.
 * @param rows The cells, row by row.
 * @returns The table's lines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(markdownTable(["a", "b"], [["1", "2"]]), "| a | b |\n| --- | --- |\n| 1 | 2 |");
 * ```
 */
export function markdownTable(header: string[], rows: string[][]): string {
  return [header, header.map(() => "---"), ...rows].map((row) => `| ${row.join(" | ")} |`)
    .join("\n");
}

/**
 * Reads whole-number flags of a bench script; a bad one stops the script with its usage (exit 2).
 *
 * @param values The flags as `parseArgs` read them.
 * @param usage The script's usage text, printed after the error.
 * @returns A reader: the flag's value, a whole number from `min` to `max`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const whole = wholeFlags({ passes: "3" }, "Usage: ...");
 * assert.equal(whole("passes", 1, 20), 3);
 * ```
 */
export function wholeFlags(
  values: Record<string, unknown>,
  usage: string,
): (flag: string, min: number, max: number) => number {
  return (flag, min, max) => {
    const value = Number(values[flag]);
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      console.error(`error: --${flag} must be a whole number from ${min} to ${max}\n\n${usage}`);
      Deno.exit(2);
    }
    return value;
  };
}
