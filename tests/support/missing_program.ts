/** Tells whether a program a group of tests drives is missing, and says so loudly if it is. */

/** A program some tests need, and how to get it. */
export interface NeededProgram {
  /** Where Debian's package puts it, e.g. `/usr/bin/chromium`. */
  path: string;
  /** The tests skipped without it, in capitals for the banner, e.g. `BROWSER TESTS`. */
  tests: string;
  /** The command that installs it, e.g. `apt-get install -y chromium`. */
  install: string;
  /** The test files that need it, e.g. `tests/e2e_*`. */
  files: string;
}

/**
 * Checks that a program is installed and prints a banner of `!` when it is not, so that the
 * skipped (ignored, never passed) tests cannot go unnoticed.
 *
 * @param program The program and the tests that need it.
 * @returns True when the program is missing.
 */
export function programMissing(program: NeededProgram): boolean {
  if (isFile(program.path)) return false;
  console.error(
    [
      "",
      "!".repeat(78),
      `!! ${program.tests} SKIPPED: ${program.path} not found.`,
      `!! Install it with \`${program.install}\` (.ci/run does) to run ${program.files}.`,
      "!".repeat(78),
      "",
    ].join("\n"),
  );
  return true;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
