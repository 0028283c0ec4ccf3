/** Reads an on/off setting the ways people spell one: 1/0, true/false, yes/no, on/off, any case. */

const SPELLINGS = new Map([
  ["1", true],
  ["true", true],
  ["yes", true],
  ["on", true],
  ["0", false],
  ["false", false],
  ["no", false],
  ["off", false],
]);

/**
 * Reads the value of a boolean setting such as the environment variable `TRUST_PROXY`.
 *
 * Surrounding spaces and case do not matter; anything else, the empty string included, is refused
 * rather than read as off, so that a typo does not silently turn a setting off.
 *
 * @param name The setting, as the error should name it (e.g. `TRUST_PROXY`).
 * @param text Its value as given.
 * @returns Whether the setting is on.
 * @throws {RangeError} For a value that is not one of the spellings, naming the setting and value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseBoolean("TRUST_PROXY", "On"), true);
 * assert.equal(parseBoolean("TRUST_PROXY", "0"), false);
 * assert.throws(() => parseBoolean("TRUST_PROXY", "maybe"), RangeError);
 * ```
 */
export function parseBoolean(name: string, text: string): boolean {
  const value = SPELLINGS.get(text.trim().toLowerCase());
  if (value === undefined) {
    throw new RangeError(
      `${name} must be 1, true, yes or on, or 0, false, no or off, got "${text}"`,
    );
  }
  return value;
}
