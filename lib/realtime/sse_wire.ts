/** Server-Sent Events frames: named events, and jittered `retry:` fields for reconnects. */

/** A span of reconnection times, in ms, that a `retry:` field is drawn from. */
export interface RetrySpan {
  /** The shortest time, in ms. */
  readonly minMs: number;
  /** The longest time, in ms. */
  readonly maxMs: number;
}

/**
 * When a stream ends (a restart, a lost network), its client comes back within this span: spread,
 * so that every `EventSource` does not return in the same second, as the spec's 3 s default would.
 */
export const RECONNECT_RETRY: RetrySpan = { minMs: 1_000, maxMs: 10_000 };

/** A client refused for `--max-connections` comes back within this span, later than a reconnect. */
export const REFUSAL_RETRY: RetrySpan = { minMs: 5_000, maxMs: 15_000 };

const encoder = new TextEncoder();
const REFUSAL_COMMENT = encoder.encode(": too many connections\n");

/**
 * Encodes a named event: `event: <name>` and one `data:` line.
 *
 * @param name The event's name, which `EventSource.addEventListener(name, ...)` hears.
 * @param data The data, on one line (JSON as `JSON.stringify` writes it).
 * @returns The frame, encoded.
 * @throws {RangeError} When the name or the data holds a line break.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const text = new TextDecoder().decode(eventFrame("tick", '{"at":0}'));
 * assert.equal(text, 'event: tick\ndata: {"at":0}\n\n');
 * assert.throws(() => eventFrame("tick", "a\nb"), RangeError);
 * ```
 */
export function eventFrame(name: string, data: string): Uint8Array {
  if (/[\r\n]/.test(name + data)) {
    throw new RangeError(`Event ${JSON.stringify(name)} has a line break in its name or data`);
  }
  return encoder.encode(`event: ${name}\ndata: ${data}\n\n`);
}

/**
 * Encodes a `retry:` field with a time drawn from a span.
 *
 * @param random Returns a number in [0, 1), as `Math.random` does.
 * @param span The span to draw from.
 * @returns `retry: <ms>\n\n`, encoded.
 * @throws {RangeError} When `random()` gives a number outside [0, 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const text = (random: number) => new TextDecoder().decode(retryFrame(() => random));
 * assert.equal(text(0), "retry: 1000\n\n");
 * assert.equal(text(0.5), "retry: 5500\n\n");
 * assert.equal(text(0.99999), "retry: 10000\n\n");
 * ```
 */
export function retryFrame(
  random: () => number = Math.random,
  span: RetrySpan = RECONNECT_RETRY,
): Uint8Array {
  const draw = random();
  if (!(draw >= 0 && draw < 1)) {
    throw new RangeError(`Random number ${draw} is not in [0, 1)`);
  }
  const ms = span.minMs + Math.floor(draw * (span.maxMs - span.minMs + 1));
  return encoder.encode(`retry: ${ms}\n\n`);
}

/**
 * Answers an event-stream request that `--max-connections` refuses.
 *
 * A standard `EventSource` that gets a 503 stops for good; one that gets a stream which ends
 * reconnects after its `retry:` time. So the refusal is a stream: a comment saying why, a
 * `retry:` from {@linkcode REFUSAL_RETRY}, and the end.
 *
 * @param random Returns a number in [0, 1), as `Math.random` does.
 * @returns A 200 `text/event-stream` response with no event in it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const response = refusalStream(() => 0);
 * assert.equal(response.status, 200);
 * assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
 * assert.equal(await response.text(), ": too many connections\nretry: 5000\n\n");
 * ```
 */
export function refusalStream(random: () => number = Math.random): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(REFUSAL_COMMENT);
      controller.enqueue(retryFrame(random, REFUSAL_RETRY));
      controller.close();
    },
  });
  return eventStreamResponse(body);
}

/**
 * Answers with an event stream: not cached, and not buffered by a proxy (`X-Accel-Buffering: no`
 * for nginx).
 *
 * @param body The stream of frames.
 * @returns The 200 response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const response = eventStreamResponse(new ReadableStream({ start: (c) => c.close() }));
 * assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
 * assert.equal(response.headers.get("x-accel-buffering"), "no");
 * ```
 */
export function eventStreamResponse(body: ReadableStream<Uint8Array>): Response {
  return new Response(body, { headers: EVENT_STREAM_HEADERS });
}

const EVENT_STREAM_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-store",
  "x-accel-buffering": "no",
} as const;
