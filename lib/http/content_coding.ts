/** Content codings: which one a client accepts, and compressing a body in it. */
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

/** The codings the server sends, in its order of preference. */
export type ContentCoding = "br" | "gzip";

/** Brotli first: it makes our scripts and styles smaller than gzip does. */
export const CODINGS: readonly ContentCoding[] = ["br", "gzip"];

/**
 * Brotli's quality for files compressed at start. Its best (11) saves a tenth more bytes but takes
 * 10-30 times as long, and every start (a restart mid-drop, each test's server) pays it: see
 * bench/README.md, "Compressed answers".
 */
const BROTLI_QUALITY = 6;

/**
 * Whether a media type is text that compresses (HTML, CSS, scripts, JSON, SVG); pictures such as
 * PNG are compressed already.
 *
 * @param contentType A `Content-Type` value.
 * @returns True when it is worth compressing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isCompressible("text/javascript; charset=utf-8"), true);
 * assert.equal(isCompressible("image/svg+xml"), true);
 * assert.equal(isCompressible("image/png"), false);
 * ```
 */
export function isCompressible(contentType: string): boolean {
  const type = contentType.split(";")[0].trim().toLowerCase();
  return type.startsWith("text/") || type.endsWith("+xml") || type.endsWith("+json") ||
    type === "application/json" || type === "application/javascript";
}

/**
 * The coding to answer with, of those offered, by the client's `Accept-Encoding`: the one of
 * highest weight, the server's order among equals. `*` stands for any coding not named; a
 * weight of 0 refuses one.
 *
 * @param acceptEncoding The request's `Accept-Encoding`, or null.
 * @param offered The codings the body is at hand in, in the server's order of preference.
 * @returns The coding, or undefined for the body as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(preferredCoding("gzip, deflate, br", ["br", "gzip"]), "br");
 * assert.equal(preferredCoding("br;q=0.5, gzip", ["br", "gzip"]), "gzip");
 * assert.equal(preferredCoding("*, br;q=0", ["br", "gzip"]), "gzip");
 * assert.equal(preferredCoding("identity", ["br", "gzip"]), undefined);
 * assert.equal(preferredCoding(null, ["gzip"]), undefined);
 * ```
 */
export function preferredCoding(
  acceptEncoding: string | null,
  offered: readonly ContentCoding[],
): ContentCoding | undefined {
  if (acceptEncoding === null || offered.length === 0) return undefined;
  const weights = new Map<string, number>();
  for (const part of acceptEncoding.split(",")) {
    const [name, ...parameters] = part.split(";");
    const coding = name.trim().toLowerCase();
    if (coding === "") continue;
    let weight = 1;
    for (const parameter of parameters) {
      const [key, value] = parameter.split("=");
      if (key.trim().toLowerCase() === "q") weight = Number(value);
    }
    weights.set(coding, Number.isFinite(weight) ? weight : 0);
  }
  let best: ContentCoding | undefined;
  let bestWeight = 0;
  for (const coding of offered) {
    const weight = weights.get(coding) ?? weights.get("*") ?? 0;
    if (weight > bestWeight) [best, bestWeight] = [coding, weight];
  }
  return best;
}

/**
 * Compresses a file's bytes in every coding: done once at start, so every later answer is only
 * a lookup.
 *
 * @param body The bytes.
 * @returns Each coding's bytes, leaving out any that are not smaller than the body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const body = new TextEncoder().encode("live stock ".repeat(100));
 * const encoded = compressOnce(body);
 * assert.ok(encoded.br!.byteLength < body.byteLength);
 * assert.ok(encoded.gzip!.byteLength < body.byteLength);
 * assert.deepEqual(compressOnce(new Uint8Array(0)), {});
 * ```
 */
export function compressOnce(
  body: Uint8Array<ArrayBuffer>,
): Partial<Record<ContentCoding, Uint8Array<ArrayBuffer>>> {
  const br = brotliCompressSync(body, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength,
    },
  });
  const gz = gzipSync(body, { level: constants.Z_BEST_COMPRESSION });
  const encoded: Partial<Record<ContentCoding, Uint8Array<ArrayBuffer>>> = {};
  if (br.byteLength < body.byteLength) encoded.br = new Uint8Array(br);
  if (gz.byteLength < body.byteLength) encoded.gzip = new Uint8Array(gz);
  return encoded;
}

/**
 * Compresses a body made for one answer (a page with live counts) with gzip at zlib's default
 * level: the cheapest of the settings measured that still takes most of the bytes away
 * (bench/README.md, "Compressed answers").
 *
 * @param body The bytes.
 * @returns The gzip bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gunzipSync } from "node:zlib";
 * const page = new TextEncoder().encode("<p>5 left</p>".repeat(50));
 * assert.deepEqual(new Uint8Array(gunzipSync(compressPerAnswer(page))), page);
 * ```
 */
export function compressPerAnswer(body: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  return new Uint8Array(gzipSync(body, { level: constants.Z_DEFAULT_COMPRESSION }));
}
