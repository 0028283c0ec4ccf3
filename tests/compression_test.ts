/** Compressed answers on a real server: files, pages, HEAD and 304, read as raw bytes. */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { startTestServer } from "./support/server.ts";

/** One answer as it came over the wire: node:http leaves the body as sent. */
interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

/** A request through node:http, which does not decompress (Deno's fetch would). */
function rawGet(
  url: string,
  headers: Record<string, string>,
  method = "GET",
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method, headers, agent: false }, (response) => {
      const chunks: Uint8Array[] = [];
      response.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: new Uint8Array(Buffer.concat(chunks)),
        }));
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end();
  });
}

const BROWSER_CODINGS = "gzip, deflate, br, zstd";

Deno.test("a script is sent brotli, gzip or as it is, by Accept-Encoding, each with its own ETag", async () => {
  await using server = await startTestServer();
  const url = `${server.url}static/connection.js`;
  const file = await Deno.readFile(new URL("../static/connection.js", import.meta.url));

  const br = await rawGet(url, { "accept-encoding": BROWSER_CODINGS });
  assert.equal(br.status, 200);
  assert.equal(br.headers["content-encoding"], "br");
  assert.equal(br.headers["vary"], "Accept-Encoding");
  assert.equal(Number(br.headers["content-length"]), br.body.byteLength);
  assert.ok(br.body.byteLength < file.byteLength / 2, `${br.body.byteLength} bytes`);
  assert.deepEqual(new Uint8Array(brotliDecompressSync(br.body)), file);

  const gzip = await rawGet(url, { "accept-encoding": "gzip" });
  assert.equal(gzip.headers["content-encoding"], "gzip");
  assert.equal(Number(gzip.headers["content-length"]), gzip.body.byteLength);
  assert.deepEqual(new Uint8Array(gunzipSync(gzip.body)), file);

  const plain = await rawGet(url, {});
  assert.equal(plain.headers["content-encoding"], undefined);
  assert.equal(plain.headers["vary"], "Accept-Encoding");
  assert.deepEqual(plain.body, file);

  const etags = new Set([br.headers.etag, gzip.headers.etag, plain.headers.etag]);
  assert.equal(etags.size, 3, "one strong ETag per coding");
  for (const etag of etags) assert.match(String(etag), /^"[^W]/);
});

Deno.test("a compressed file's HEAD and 304 match its GET; another coding's ETag is not current", async () => {
  await using server = await startTestServer();
  const url = `${server.url}static/style.css`;
  const get = await rawGet(url, { "accept-encoding": "br" });
  const head = await rawGet(url, { "accept-encoding": "br" }, "HEAD");
  assert.equal(head.status, 200);
  assert.equal(head.body.byteLength, 0);
  for (const name of ["content-encoding", "content-length", "etag", "vary"]) {
    assert.equal(head.headers[name], get.headers[name], name);
  }

  const etag = String(get.headers.etag);
  const current = await rawGet(url, { "accept-encoding": "br", "if-none-match": etag });
  assert.equal(current.status, 304);
  assert.equal(current.headers.etag, etag);
  assert.equal(current.headers["content-encoding"], "br");
  assert.equal(current.body.byteLength, 0);

  const otherCoding = await rawGet(url, { "accept-encoding": "gzip", "if-none-match": etag });
  assert.equal(otherCoding.status, 200);
  assert.equal(otherCoding.headers["content-encoding"], "gzip");
});

Deno.test("an SVG is text: it is compressed and keeps its sandbox", async () => {
  await using server = await startTestServer();
  const svg = await rawGet(`${server.url}static/favicon.svg`, { "accept-encoding": "br" });
  assert.equal(svg.headers["content-encoding"], "br");
  assert.match(String(svg.headers["content-security-policy"]), /sandbox/);
});

Deno.test("a page is sent gzip when accepted, with Vary, a right Content-Length and its HEAD alike", async () => {
  await using server = await startTestServer();
  const page = await rawGet(server.url, { "accept-encoding": BROWSER_CODINGS });
  assert.equal(page.status, 200);
  assert.equal(page.headers["content-encoding"], "gzip");
  assert.equal(page.headers["vary"], "Accept-Encoding");
  assert.equal(Number(page.headers["content-length"]), page.body.byteLength);
  const html = new TextDecoder().decode(gunzipSync(page.body));
  assert.match(html, /^<!doctype html>/i);
  assert.match(String(page.headers["content-security-policy"]), /default-src 'self'/);

  const head = await rawGet(server.url, { "accept-encoding": "gzip" }, "HEAD");
  assert.equal(head.headers["content-encoding"], "gzip");
  assert.equal(head.body.byteLength, 0);
  assert.ok(Number(head.headers["content-length"]) > 0);

  const plain = await rawGet(server.url, {});
  assert.equal(plain.headers["content-encoding"], undefined);
  assert.equal(Number(plain.headers["content-length"]), plain.body.byteLength);
  assert.match(new TextDecoder().decode(plain.body), /^<!doctype html>/i);
});

Deno.test("event streams and long polls are not compressed", async () => {
  await using server = await startTestServer();
  const poll = await rawGet(`${server.url}cart/status?since=999999999`, {
    "accept-encoding": BROWSER_CODINGS,
  });
  assert.equal(poll.status, 200);
  assert.equal(poll.headers["content-encoding"], undefined);
  assert.equal(JSON.parse(new TextDecoder().decode(poll.body)).inventoryCount, 10);

  const stream = await fetch(`${server.url}cart/status`, {
    headers: { accept: "text/event-stream", "accept-encoding": BROWSER_CODINGS },
  });
  assert.equal(stream.headers.get("content-encoding"), null);
  assert.match(stream.headers.get("content-type")!, /^text\/event-stream/);
  await stream.body?.cancel();
});
