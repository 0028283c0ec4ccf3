/** The page's static files, read and compressed once at start, served from memory with strong ETags. */
import { join } from "node:path";
import {
  CODINGS,
  compressOnce,
  type ContentCoding,
  isCompressible,
  preferredCoding,
} from "./content_coding.ts";
import { HttpError } from "./http_error.ts";

/** A file's bytes in one content coding, with the ETag of those bytes. */
export interface EncodedBody {
  /** The bytes sent. */
  readonly body: Uint8Array<ArrayBuffer>;
  /** A strong ETag of its own: a cache must not take one coding's bytes for another's. */
  readonly etag: string;
}

/** One file ready to serve. */
export interface Asset {
  /** The file's bytes. */
  readonly body: Uint8Array<ArrayBuffer>;
  /** Its media type. */
  readonly contentType: string;
  /** A strong ETag derived from its content. */
  readonly etag: string;
  /** The file compressed, by coding; empty for a file that does not compress. */
  readonly encoded: Readonly<Partial<Record<ContentCoding, EncodedBody>>>;
}

/** Assets by URL path below `/static/` (e.g. `app.js`). */
export type AssetTable = ReadonlyMap<string, Asset>;

const CONTENT_TYPES: Record<string, string> = {
  ".css": "text/css; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".ico": "image/x-icon",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".txt": "text/plain; charset=utf-8",
  ".webmanifest": "application/manifest+json",
};

/**
 * Reads every file below a folder (recursively) into memory.
 *
 * Works the same on disk and inside a `deno compile` binary, whose `--include`d files are read
 * through the same `Deno.readDir` and `Deno.readFile` calls.
 *
 * @param dir The folder to read, e.g. the project's `static/`.
 * @returns The files by their path relative to `dir`, with `/` separators.
 *
 * @example
 * ```ts
 * const assets = await loadAssets(new URL("../../static", import.meta.url).pathname);
 * import assert from "node:assert/strict";
 * assert.equal(assets.has("app.js"), true);
 * assert.equal(assets.has("no-such-file.js"), false);
 * ```
 */
export async function loadAssets(dir: string): Promise<AssetTable> {
  const table = new Map<string, Asset>();
  for (const relative of await listFiles(dir, "")) {
    const extension = relative.slice(relative.lastIndexOf("."));
    const contentType = CONTENT_TYPES[extension] ?? "application/octet-stream";
    table.set(relative, await assetOf(await Deno.readFile(join(dir, relative)), contentType));
  }
  return table;
}

/**
 * Makes a servable asset of a file's bytes, with a strong ETag derived from their SHA-256, and
 * text compressed in every coding (each with its own ETag).
 *
 * @param body The file's bytes.
 * @param contentType Its media type.
 * @returns The asset; equal bytes always get the same ETags.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const svg = new TextEncoder().encode(`<svg>${"<g/>".repeat(50)}</svg>`);
 * const pin = await assetOf(svg, "image/svg+xml");
 * const again = await assetOf(svg, "image/svg+xml");
 * assert.equal(pin.etag, again.etag);
 * assert.match(pin.etag, /^"[A-Za-z0-9+/]{24}"$/);
 * assert.equal(pin.encoded.br?.etag, pin.etag.replace(/"$/, '.br"'));
 * ```
 */
export async function assetOf(body: Uint8Array<ArrayBuffer>, contentType: string): Promise<Asset> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  const tag = btoa(String.fromCharCode(...digest.slice(0, 18)));
  const encoded: Partial<Record<ContentCoding, EncodedBody>> = {};
  if (isCompressible(contentType)) {
    for (const [coding, bytes] of Object.entries(compressOnce(body))) {
      encoded[coding as ContentCoding] = { body: bytes, etag: `"${tag}.${coding}"` };
    }
  }
  return { body, contentType, etag: `"${tag}"`, encoded };
}

async function listFiles(root: string, prefix: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(join(root, prefix))) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory) files.push(...await listFiles(root, relative));
    else if (entry.isFile) files.push(relative);
  }
  return files;
}

/**
 * Answers a request for a static asset, with 304 when the client's copy is current, compressed
 * when the client accepts a coding the asset has. Any origin may read it: the files are public,
 * and a page elsewhere loads `/embed.js` and its imports as module scripts, which need CORS.
 *
 * Only names in the table are served, so nothing outside the folder can be reached.
 *
 * @param assets The table from {@linkcode loadAssets}.
 * @param name The path below `/static/`, still percent-encoded.
 * @param request The incoming GET or HEAD request.
 * @returns The asset, or 304.
 * @throws {HttpError} 404 for a name not in the table.
 */
export function serveAsset(
  assets: AssetTable,
  name: string,
  request: Request,
): Response {
  let decoded: string;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    throw new HttpError(404, "Not found");
  }
  const asset = assets.get(decoded);
  if (asset === undefined) throw new HttpError(404, "Not found");
  return assetResponse(asset, request);
}

/**
 * Answers a GET or HEAD for one asset: in the coding the client prefers of those it has, 304
 * when the client's copy of that coding is current.
 *
 * @param asset The asset.
 * @param request The incoming GET or HEAD request.
 * @returns The asset, or 304.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const asset = await assetOf(new TextEncoder().encode("p{}".repeat(100)), "text/css");
 * const gzip = assetResponse(asset, new Request("http://x/", {
 *   headers: { "accept-encoding": "gzip" },
 * }));
 * assert.equal(gzip.headers.get("content-encoding"), "gzip");
 * assert.equal(gzip.headers.get("vary"), "Accept-Encoding");
 * const again = assetResponse(asset, new Request("http://x/", {
 *   headers: { "accept-encoding": "gzip", "if-none-match": gzip.headers.get("etag")! },
 * }));
 * assert.equal(again.status, 304);
 * ```
 */
export function assetResponse(asset: Asset, request: Request): Response {
  const offered = CODINGS.filter((coding) => asset.encoded[coding] !== undefined);
  const coding = preferredCoding(request.headers.get("accept-encoding"), offered);
  const chosen: EncodedBody = coding === undefined ? asset : asset.encoded[coding]!;
  const headers: Record<string, string> = {
    "content-type": asset.contentType,
    etag: chosen.etag,
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
    "access-control-allow-origin": "*",
  };
  // A cache keeps each coding apart, identity included, for every file that has one.
  if (offered.length > 0) headers.vary = "Accept-Encoding";
  if (coding !== undefined) headers["content-encoding"] = coding;
  // An SVG opened on its own is a document of our origin: it may draw, never run a script.
  if (asset.contentType.startsWith("image/svg+xml")) {
    headers["content-security-policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox";
  }
  if (matchesEtag(request.headers.get("if-none-match"), chosen.etag)) {
    return new Response(null, { status: 304, headers });
  }
  const body = request.method === "HEAD" ? null : chosen.body;
  return new Response(body, {
    headers: { ...headers, "content-length": String(chosen.body.byteLength) },
  });
}

function matchesEtag(header: string | null, etag: string): boolean {
  if (header === null) return false;
  if (header.trim() === "*") return true;
  // If-None-Match uses weak comparison: W/"x" matches "x".
  return header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}
