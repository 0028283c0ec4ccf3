/** How long the cart keeps a unit, in words and in the values the page templates show. */

const DURATION_UNITS = [
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
  ["second", 1_000],
] as const;

/**
 * Says how long a hold lasts, in the largest unit that divides it evenly.
 *
 * @param ms A duration in ms; Infinity for a hold that lasts until removed.
 * @returns Text such as "15 minutes", "90 seconds" or "1 hour"; "" for Infinity.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(durationText(900_000), "15 minutes");
 * assert.equal(durationText(90_000), "90 seconds");
 * assert.equal(durationText(3_600_000), "1 hour");
 * assert.equal(durationText(Infinity), "");
 * ```
 */
export function durationText(ms: number): string {
  if (!Number.isFinite(ms)) return "";
  const [unit, size] = DURATION_UNITS.find(([, size]) => ms % size === 0) ?? ["second", 1_000];
  const count = Math.round(ms / size);
  return `${count} ${unit}${count === 1 ? "" : "s"}`;
}

/**
 * The template values that tell a shopper how long the cart keeps their unit.
 *
 * @param holdTtlMs How long a hold lasts.
 * @param expiresAt When this shopper's hold ends, if they hold one.
 * @returns `holdTtlSeconds`, `holdExpiresAt` (ISO time, "" when none) and `holdText`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(holdValues(900_000, undefined).holdText, "Your cart keeps the item for 15 minutes from when you add it.");
 * ```
 */
export function holdValues(
  holdTtlMs: number,
  expiresAt: number | undefined,
): Record<string, string> {
  return {
    holdTtlSeconds: Number.isFinite(holdTtlMs) ? String(holdTtlMs / 1000) : "",
    holdExpiresAt: expiresAt !== undefined && Number.isFinite(expiresAt)
      ? new Date(expiresAt).toISOString()
      : "",
    holdText: Number.isFinite(holdTtlMs)
      ? `Your cart keeps the item for ${durationText(holdTtlMs)} from when you add it.`
      : "Your cart keeps the item until you remove it.",
  };
}
