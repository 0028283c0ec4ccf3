/** An error that knows its HTTP status, and the one place that turns errors into JSON answers. */

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
 * const response = jsonResponse({ status: "ok" });
 * console.log(response.headers.get("content-type")); // application/json; charset=utf-8
 * ```
 */
export function jsonResponse(body: unknown, init: ResponseInit = {}): Response {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  if (init.headers === undefined) {
    // The common answer: a literal is cheaper than a Headers object and two set() calls.
    return new Response(text, { ...init, headers: JSON_HEADERS });
  }
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(JSON_HEADERS)) headers.set(name, value);
  return new Response(text, { ...init, headers });
}

const JSON_HEADERS = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
} as const;

/**
 * Turns any thrown value into a JSON error answer; unexpected errors become a 500 and are logged.
 *
 * @param error What a handler threw.
 * @returns `{"error": "..."}` with the error's status.
 */
export function errorResponse(error: unknown): Response {
  if (error instanceof HttpError) {
    return jsonResponse({ error: error.message, ...error.options.fields }, {
      status: error.status,
      headers: error.options.headers,
    });
  }
  console.error("unexpected error:", error);
  return jsonResponse({ error: "internal error" }, { status: 500 });
}
