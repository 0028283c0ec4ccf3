/** Reads a request body as text, refusing bodies over a size limit before they are buffered. */
import { DeadlineQueue } from "../time/deadline_queue.ts";
import { HttpError } from "./http_error.ts";
import { duplicateKeyOf } from "./json_keys.ts";

/**
 * Reads at most `limit` bytes of a request body within the deadlines' wait and decodes them as
 * strict UTF-8. Every body read of a server shares one queue of deadlines (one timer), not a
 * timer each.
 *
 * @param request The incoming request.
 * @param limit The largest body accepted, in bytes.
 * @param deadlines How long the whole body may take to arrive (its wait); a client that trickles it
 * is cut off.
 * @param declared Its `Content-Length`, when read already.
 * @returns The body text ("" when there is none).
 * @throws {HttpError} 413 when the body is larger than the limit, 408 when it is too slow (with
 * `Connection: close`), 400 when it is cut off or not UTF-8.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeadlineQueue } from "../time/deadline_queue.ts";
 * const request = new Request("http://x/", { method: "POST", body: "a=1" });
 * assert.equal(await readLimitedText(request, 4096, new DeadlineQueue(10_000)), "a=1");
 * ```
 */
export function readLimitedText(
  request: Request,
  limit: number,
  deadlines: DeadlineQueue,
  declared: string | null = request.headers.get("content-length"),
): Promise<string> {
  // A declared length is enforced by the HTTP layer, so the body can be read in one go: cheaper
  // than a stream reader (touching `request.body` first would make Deno take the stream path).
  if (declared !== null) {
    return Number(declared) > limit
      ? Promise.reject(tooLarge(limit))
      : readDeclared(request, deadlines);
  }
  if (request.body === null) return Promise.resolve("");
  return readStreamed(request.body, limit, deadlines);
}

/** Reads a body of declared length, refused with 408 when it is not in by the deadline. */
function readDeclared(request: Request, deadlines: DeadlineQueue): Promise<string> {
  // One promise settled by the read or the deadline, whichever comes first; a late rejection
  // of the read (a client that leaves after the deadline) lands on a settled promise. No async
  // function around it: every POST reads a body, and each async frame costs a suspension.
  return new Promise<string>((resolve, reject) => {
    // No `Connection: close` of ours: with the read still pending, Deno adds it itself.
    const onDeadline = () => reject(tooSlow(deadlines, {}));
    deadlines.add(onDeadline);
    request.arrayBuffer().then((bytes) => {
      deadlines.delete(onDeadline);
      try {
        resolve(decodeStrict(new Uint8Array(bytes)));
      } catch (error) {
        reject(error);
      }
    }, () => {
      deadlines.delete(onDeadline);
      reject(cutOff());
    });
  });
}

/** Reads a body of no declared length (chunked), chunk by chunk, refusing it past the limit. */
async function readStreamed(
  body: ReadableStream<Uint8Array>,
  limit: number,
  deadlines: DeadlineQueue,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  // Cancelling the reader ends the pending read(), which then reports done.
  let slow = false;
  const onDeadline = () => {
    slow = true;
    reader.cancel().catch(() => {});
  };
  deadlines.add(onDeadline);
  try {
    for (;;) {
      const { done, value } = await reader.read().catch(() => {
        // The client left mid-body; nobody will read this answer, but it must not look like a bug.
        throw cutOff();
      });
      if (slow) {
        // Deno 2.9.6 still holds the connection until the declared body is complete or the
        // client leaves (a body read in flight cannot be cancelled from JS); the request's
        // waiting and buffers end here.
        throw tooSlow(deadlines);
      }
      if (done) break;
      size += value.byteLength;
      if (size > limit) throw tooLarge(limit);
      chunks.push(value);
    }
  } finally {
    deadlines.delete(onDeadline);
    // Stops reading a refused body without waiting for the rest of it.
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return decodeStrict(bytes);
}

// Made only when a body is refused: no closures per read.
const tooLarge = (limit: number) => new HttpError(413, `Body is larger than ${limit} bytes`);
const tooSlow = (deadlines: DeadlineQueue, headers: HeadersInit = { connection: "close" }) =>
  new HttpError(408, `Body did not arrive within ${deadlines.waitMs} ms`, { headers });
const cutOff = () => new HttpError(400, "Body was cut off");

/** A request body that passed its route's rule: its media type and its text. */
export interface RequestBody {
  /** The lower-case media type, without parameters. */
  readonly mediaType: string;
  /** The body, decoded as UTF-8. */
  readonly text: string;
}

/**
 * Checks a body's `Content-Type` against the media types a route takes, in UTF-8.
 *
 * @param contentType The request's `Content-Type`, or null for none.
 * @param accepted The media types the route takes, lower case.
 * @returns The body's media type: lower case, without parameters.
 * @throws {HttpError} 415 for another media type, or a charset other than UTF-8.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const json = ["application/json"];
 * assert.equal(acceptedMediaType("Application/JSON; charset=UTF-8", json), "application/json");
 * assert.throws(() => acceptedMediaType("text/plain", json), { status: 415 });
 * ```
 */
export function acceptedMediaType(contentType: string | null, accepted: readonly string[]): string {
  // What our pages and most clients send, a listed type as it stands, needs no parsing.
  if (contentType !== null && accepted.includes(contentType)) return contentType;
  const mediaType = mediaTypeIn(contentType);
  if (!accepted.includes(mediaType)) {
    throw new HttpError(415, `Content-Type must be ${accepted.join(" or ")}`);
  }
  const charset = charsetIn(contentType);
  if (charset !== undefined && charset !== "utf-8") {
    throw new HttpError(415, `Charset must be utf-8, got "${charset}"`);
  }
  return mediaType;
}

/** The `charset` parameter of a Content-Type, lower case, unquoted. */
function charsetIn(contentType: string | null): string | undefined {
  const parameters = (contentType ?? "").split(";").slice(1);
  for (const parameter of parameters) {
    const eq = parameter.indexOf("=");
    if (eq < 0 || parameter.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    return parameter.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1").toLowerCase();
  }
  return undefined;
}

/**
 * Reads the media type of a request's body, without parameters such as `charset`.
 *
 * @param request The incoming request.
 * @returns The lower-case media type, or "" when there is no `Content-Type`.
 *
 * @example
 * ```ts
 * const request = new Request("http://x/", { headers: { "content-type": "Application/JSON; charset=utf-8" } });
 * import assert from "node:assert/strict";
 * assert.equal(mediaTypeOf(request), "application/json");
 * assert.equal(mediaTypeOf(new Request("http://x/")), "");
 * ```
 */
export function mediaTypeOf(request: Request): string {
  return mediaTypeIn(request.headers.get("content-type"));
}

function mediaTypeIn(contentType: string | null): string {
  return (contentType ?? "").split(";")[0].trim().toLowerCase();
}

/**
 * Parses a body's text as JSON, refusing a key given twice in one object as a form's field given
 * twice is refused: `JSON.parse` would keep the last, and a proxy or log that read the first would
 * see another request than ours.
 *
 * @param text The body text.
 * @returns The parsed value.
 * @throws {HttpError} 400 when the text is not JSON, or an object in it gives a key twice.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseJsonBody('{"action":"add"}'), { action: "add" });
 * assert.throws(
 *   () => parseJsonBody('{"action":"add","action":"remove"}'),
 *   /Field "action" is given more than once/,
 * );
 * ```
 */
export function parseJsonBody(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, "Body is not valid JSON");
  }
  const duplicate = duplicateKeyOf(text);
  if (duplicate !== undefined) {
    throw new HttpError(400, `Field ${JSON.stringify(duplicate)} is given more than once`);
  }
  return value;
}

const decoder = new TextDecoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

function decodeStrict(bytes: Uint8Array): string {
  // The lenient decoder costs a third of the strict one. Without a replacement character in what
  // it read, every byte was UTF-8; with one, the strict decoder tells a U+FFFD the body holds
  // from bytes that are not UTF-8.
  const text = decoder.decode(bytes);
  if (!text.includes("\uFFFD")) return text;
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new HttpError(400, "Body is not valid UTF-8");
  }
}
