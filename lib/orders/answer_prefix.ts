/** Reads no more of an answer's body than the caller will use: its first bytes, then lets it go. */

/**
 * Reads an answer's body up to a number of bytes and cancels the rest, so that a service that
 * sends a huge or endless body costs neither memory nor time. A body cut off early (the caller's
 * signal aborted, the connection broke) gives what had arrived.
 *
 * @param body The body; null reads as empty.
 * @param maxBytes The most bytes kept.
 * @returns The first bytes, at most `maxBytes`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const answer = new Response("x".repeat(100_000));
 * assert.equal((await readPrefix(answer.body, 16_384)).byteLength, 16_384);
 * assert.equal((await readPrefix(new Response("ok").body, 16_384)).byteLength, 2);
 * ```
 */
export async function readPrefix(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array();
  const prefix = new Uint8Array(maxBytes);
  let size = 0;
  const reader = body.getReader();
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      const taken = value.subarray(0, maxBytes - size);
      prefix.set(taken, size);
      size += taken.byteLength;
    }
  } catch {
    // Cut off: what arrived is all there is.
  } finally {
    reader.cancel().catch(() => {});
  }
  return prefix.slice(0, size);
}
