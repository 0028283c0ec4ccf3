/** Route guards: the connection limit, WebSocket-only routes, and the size of a request's head. */
import { type Clock, systemClock } from "../time/clock.ts";
import { HttpError } from "./http_error.ts";
import type { RequestHead } from "./request_head.ts";
import type { Guard } from "./router.ts";

/** More query parameters than any client of ours sends: `since`, `product` and a cache buster. */
const MAX_QUERY_PARAMS = 16;
/**
 * More header fields than a browser or proxy sends. Deno itself refuses a head of somewhat more
 * header lines, which also bounds a name repeated (its values combine into one field).
 */
const MAX_HEADER_FIELDS = 100;

/**
 * Whether a request asks to become a WebSocket.
 *
 * @param head The request's head.
 * @returns True for `Upgrade: websocket`, in any case.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestHead } from "./request_head.ts";
 * const request = new Request("http://x/", { headers: { upgrade: "WebSocket" } });
 * assert.equal(isUpgrade(RequestHead.of(request)), true);
 * ```
 */
export function isUpgrade(head: Pick<RequestHead, "upgrade">): boolean {
  return head.upgrade?.toLowerCase() === "websocket";
}

/**
 * Whether a request asks for an event stream.
 *
 * @param head The request's head.
 * @returns True when its `Accept` names `text/event-stream`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestHead } from "./request_head.ts";
 * const request = new Request("http://x/", { headers: { accept: "text/event-stream" } });
 * assert.equal(isEventStream(RequestHead.of(request)), true);
 * ```
 */
export function isEventStream(head: Pick<RequestHead, "accept">): boolean {
  return head.accept?.includes("text/event-stream") ?? false;
}

/**
 * Refuses anything but a WebSocket upgrade with 426.
 *
 * @param context The route's context.
 * @throws {HttpError} 426 for a plain request.
 */
export const requireUpgrade: Guard = ({ head }) => {
  if (!isUpgrade(head)) throw new HttpError(426, "WebSocket upgrade required");
};

/**
 * A guard that checks WebSocket upgrades only, letting plain requests through. An async check
 * is returned, so that the router waits for it.
 *
 * @param guard The check for upgrades.
 * @returns The guard.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpError } from "./http_error.ts";
 * import { RequestHead } from "./request_head.ts";
 * const guard = onUpgrades(() => Promise.reject(new HttpError(403, "No")));
 * const request = new Request("http://x/", { headers: { upgrade: "websocket" } });
 * const context = { request, url: new URL(request.url), head: RequestHead.of(request), params: {}, body: undefined };
 * await assert.rejects(async () => await guard(context), HttpError);
 * const plain = new Request("http://x/");
 * assert.equal(guard({ ...context, request: plain, head: RequestHead.of(plain) }), undefined);
 * ```
 */
export function onUpgrades(guard: Guard): Guard {
  return (context) => isUpgrade(context.head) ? guard(context) : undefined;
}

/**
 * The limit on long polls, event streams and WebSockets held at once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const limit = new ConnectionLimit(1, () => 1);
 * assert.equal(limit.hasRoom(), false);
 * assert.equal(limit.refused, 1);
 * ```
 */
export class ConnectionLimit {
  readonly #max: number;
  readonly #count: () => number;
  readonly #random: () => number;
  #refused = 0;

  /**
   * Makes a limit.
   *
   * @param max The most connections held at once.
   * @param count How many are held now.
   * @param clock The draws of the refusals' `Retry-After`.
   */
  constructor(max: number, count: () => number, clock: Pick<Clock, "random"> = systemClock) {
    this.#max = max;
    this.#count = count;
    this.#random = () => clock.random();
  }

  /** Connections refused since start. */
  get refused(): number {
    return this.#refused;
  }

  /**
   * Whether one more connection fits, counting a refusal when it does not.
   *
   * @returns True when it fits.
   */
  hasRoom(): boolean {
    if (this.#count() < this.#max) return true;
    this.#refused++;
    return false;
  }

  /**
   * Past the limit a long poll or upgrade gets 503. An event stream is let through, to be
   * answered with a stream that asks its client to come back later: an EventSource given a 503
   * stops for good.
   *
   * @param context The route's context.
   * @throws {HttpError} 503 with a jittered `Retry-After`.
   */
  readonly guard: Guard = ({ head }) => {
    if (isEventStream(head) || this.hasRoom()) return;
    // Jittered, so that refused clients do not all come back in the same second.
    const retryAfter = 5 + Math.floor(this.#random() * 10);
    throw new HttpError(503, "Too many connections, try again later", {
      headers: { "retry-after": String(retryAfter) },
    });
  };
}

/** How large a request's head may be. */
export interface HeadLimits {
  /** The longest path and query, in bytes; longer gets 414. */
  readonly maxUrlBytes: number;
  /** The most header bytes (names and values); more gets 431. */
  readonly maxHeaderBytes: number;
}

/**
 * Refuses a request whose target or headers are larger than any real client sends.
 *
 * @param head The request's head, which counted its header bytes.
 * @param url Its parsed URL.
 * @param limits The largest target and headers.
 * @throws {HttpError} 414 for a long target, 431 for large headers, 400 for many header fields or
 * query parameters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestHead } from "./request_head.ts";
 * const url = new URL("http://x/" + "a".repeat(300));
 * const limits = { maxUrlBytes: 256, maxHeaderBytes: 1024 };
 * assert.throws(() => checkRequestSize(new RequestHead(), url, limits), /longer than 256/);
 * ```
 */
export function checkRequestSize(head: RequestHead, url: URL, limits: HeadLimits): void {
  const search = url.search;
  if (url.pathname.length + search.length > limits.maxUrlBytes) {
    throw new HttpError(414, `Path and query are longer than ${limits.maxUrlBytes} bytes`);
  }
  if (head.bytes > limits.maxHeaderBytes) {
    throw new HttpError(431, `Headers are larger than ${limits.maxHeaderBytes} bytes`);
  }
  if (head.fields > MAX_HEADER_FIELDS) {
    throw new HttpError(400, `More than ${MAX_HEADER_FIELDS} header fields`);
  }
  // Counting "&"s first keeps a query of 10,000 parameters from being parsed at all; a query
  // shorter than the limit cannot hold that many "&"s, and is not split.
  if (search.length > MAX_QUERY_PARAMS && search.split("&").length > MAX_QUERY_PARAMS) {
    throw new HttpError(400, `More than ${MAX_QUERY_PARAMS} query parameters`);
  }
}
