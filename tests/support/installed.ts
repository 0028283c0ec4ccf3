/** Programs the tests drive (Chromium, promtool): present, or their tests are skipped loudly. */

/**
 * Tells whether a program is missing, and if so prints a banner that says which tests it skips.
 *
 * @param path Where Debian installs the program, e.g. `/usr/bin/promtool`.
 * @param tests What is skipped without it, e.g. `PROMTOOL TEST`.
 * @param hint How to get it, and what runs once it is there.
 * @returns True when there is no file at `path`: pass it as the tests' `ignore`.
 */
export function programMissing(path: string, tests: string, hint: string): boolean {
  try {
    if (Deno.statSync(path).isFile) return false;
  } catch {
    // Not there: say so below.
  }
  console.error(
    [
      "",
      "!".repeat(78),
      `!! ${tests} SKIPPED: ${path} not found.`,
      `!! ${hint}`,
      "!".repeat(78),
      "",
    ].join("\n"),
  );
  return true;
}
