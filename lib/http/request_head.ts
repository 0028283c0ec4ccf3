/** A request's head read once: the size of its headers and the few of them the routes look at. */

/**
 * What the handling of a request reads from its headers, taken in the one pass over them that
 * also counts their bytes (which every request needs, for the limit on header size). Each header
 * is as `Headers.get` gives it (the values of a repeated name joined by ", "), or null when the
 * request has none. One pass instead of a `get` per header: every POST and long poll reads five
 * or six of them, and the pass is needed anyway.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const head = RequestHead.of(new Request("http://x/cart", {
 *   headers: { "content-type": "application/json", origin: "http://x" },
 * }));
 * assert.equal(head.contentType, "application/json");
 * assert.equal(head.origin, "http://x");
 * assert.equal(head.upgrade, null);
 * assert.equal(head.fields, 2);
 * assert.equal(head.bytes, "content-type".length + "application/json".length + "originhttp://x".length);
 * ```
 */
export class RequestHead {
  /** The bytes of the header names and values (as UTF-16 code units: header bytes are Latin-1). */
  bytes = 0;
  /** The header fields: each name once, its repeats combined as `Headers` combines them. */
  fields = 0;
  /** `Accept`. */
  accept: string | null = null;
  /** `Content-Length`. */
  contentLength: string | null = null;
  /** `Content-Type`. */
  contentType: string | null = null;
  /** `Origin`. */
  origin: string | null = null;
  /** `Sec-Fetch-Site`. */
  fetchSite: string | null = null;
  /** `Upgrade`. */
  upgrade: string | null = null;

  /**
   * Reads a request's head.
   *
   * @param request The request.
   * @returns Its head.
   */
  static of(request: Request): RequestHead {
    const head = new RequestHead();
    // forEach, not for...of: Headers' iterator makes an entry per header. A function made once,
    // given the head as `this`, instead of a closure per request.
    request.headers.forEach(takeHeader, head);
    return head;
  }
}

function takeHeader(this: RequestHead, value: string, name: string): void {
  this.bytes += name.length + value.length;
  this.fields++;
  // Names come lower case from Headers.
  switch (name) {
    case "accept":
      this.accept = value;
      break;
    case "content-length":
      this.contentLength = value;
      break;
    case "content-type":
      this.contentType = value;
      break;
    case "origin":
      this.origin = value;
      break;
    case "sec-fetch-site":
      this.fetchSite = value;
      break;
    case "upgrade":
      this.upgrade = value;
      break;
  }
}
