/** A Redis URL as logs may show it. */

/**
 * Masks the password of a Redis URL, for logs.
 *
 * @param url A `redis://` or `rediss://` URL.
 * @returns The URL with `***` for its password.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(redactedUrl("redis://shop:secret@10.0.0.5:6379"), "redis://shop:***@10.0.0.5:6379");
 * ```
 */
export function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== "") parsed.password = "***";
  return parsed.href;
}
