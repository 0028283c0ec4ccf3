/** An error that knows its HTTP status, and the one place that turns errors into JSON answers. */
import { StoreUnavailableError } from "../inventory/store_port.ts";

/**
 * The least and most whole seconds of the `Retry-After` that a request refused for a store that
 * cannot be reached gets: random between them, so that refused shoppers do not all come back in
 * the same second.
 */
export const STORE_RETRY_AFTER_SECONDS = { least: 1, most: 5 } as const;

/** A refusal with its status, message and any extra fields or headers the answer needs. */
export class HttpError extends Error {
  /**
   * Creates the HttpError.
   *
   * @param status The HTTP status to answer with.
   * @param message Sentence-case text for the `error` field.
   * @param options Extra JSON fields and response headers.
   */
  constructor(
    readonly status: number,
    message: string,
    readonly options: {
      fields?: Record<string, unknown>;
      headers?: HeadersInit;
    } = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/**
 * Builds a JSON response with `Cache-Control: no-store`.
 *
 * @param body Any JSON-serializable value, or an already serialized string.
 * @param init Status and extra headers.
 * @returns The response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const response = jsonResponse({ status: "ok" });
 * assert.equal(response.headers.get("content-type"), "application/json");
 * assert.equal(response.headers.get("cache-control"), "no-store");
 * ```
 */
export function jsonResponse(body: unknown, init: ResponseInit = NO_INIT): Response {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  // An answer with no init of its own: one made once, no spread of the caller's.
  if (init === NO_INIT) return new Response(text, JSON_INIT);
  if (init.headers === undefined) {
    // The common answer: a literal is cheaper than a Headers object and two set() calls.
    return new Response(text, { ...init, headers: JSON_HEADERS });
  }
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(JSON_HEADERS)) headers.set(name, value);
  return new Response(text, { ...init, headers });
}

/**
 * Builds the JSON answer to a POST. Caches never store one (RFC 9110 §9.3.3: only with explicit
 * freshness and a matching `Content-Location`), so it carries its type alone, which Deno sends on
 * its fast path for a 200.
 *
 * @param body Any JSON-serializable value.
 * @param status The status; 200 by default.
 * @returns The response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const response = postAnswer({ inCart: true });
 * assert.equal(response.headers.get("content-type"), "application/json");
 * assert.equal(response.headers.get("cache-control"), null);
 * ```
 */
export function postAnswer(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_TYPE });
}

// JSON is UTF-8 and its media type defines no charset parameter (RFC 8259 §8.1, §11).
const JSON_TYPE = { "content-type": "application/json" } as const;
const JSON_HEADERS = { ...JSON_TYPE, "cache-control": "no-store" } as const;
const NO_INIT: ResponseInit = {};
const JSON_INIT: ResponseInit = { headers: JSON_HEADERS };

/**
 * The `Retry-After` header of a wait: whole seconds, rounded up and at least 1, so that a client
 * that waits as told never comes back before the wait is over, nor at once.
 *
 * @param waitMs How long until trying again may succeed, in ms.
 * @returns The header, to give as an {@linkcode HttpError}'s headers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(retryAfterHeader(1_500), { "retry-after": "2" });
 * assert.deepEqual(retryAfterHeader(0), { "retry-after": "1" });
 * ```
 */
export function retryAfterHeader(waitMs: number): { "retry-after": string } {
  return { "retry-after": String(Math.max(1, Math.ceil(waitMs / 1000))) };
}

/**
 * Turns any thrown value into a JSON error answer. A store that cannot be reached is a 503 with a
 * jittered `Retry-After`, not logged here (the store logs its own changes of state); any other
 * unexpected error becomes a 500 and is logged.
 *
 * @param error What a handler threw.
 * @param random Returns a number in [0, 1), as `Math.random` does, for the `Retry-After`.
 * @returns `{"error": "..."}` with the error's status.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StoreUnavailableError } from "../inventory/store_port.ts";
 * const response = errorResponse(new StoreUnavailableError("Redis did not answer"), () => 0.99);
 * assert.equal(response.status, 503);
 * assert.equal(response.headers.get("retry-after"), "5");
 * assert.equal(errorResponse(new HttpError(404, "Not found")).status, 404);
 * ```
 */
export function errorResponse(error: unknown, random: () => number = Math.random): Response {
  if (error instanceof HttpError) {
    return jsonResponse({ error: error.message, ...error.options.fields }, {
      status: error.status,
      headers: error.options.headers,
    });
  }
  if (error instanceof StoreUnavailableError) {
    const { least, most } = STORE_RETRY_AFTER_SECONDS;
    const retryAfter = least + Math.floor(random() * (most - least + 1));
    return jsonResponse(
      { error: "the inventory store cannot be reached; try again shortly" },
      { status: 503, headers: { "retry-after": String(retryAfter) } },
    );
  }
  console.error("unexpected error:", error);
  return jsonResponse({ error: "internal error" }, { status: 500 });
}
