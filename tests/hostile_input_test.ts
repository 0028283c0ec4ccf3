/**
 * Hostile and broken requests: each gets its documented answer, and the inventory does not change.
 * Most are handed to `app.handle` in process; only what needs a socket (bad framing, bodies cut
 * off or answered before they arrive, WebSocket frames) goes over one.
 */
import assert from "node:assert/strict";
import type { RunningServer } from "../lib/server/start_server.ts";
import { DEMO, holds, startTestServer, stateOf } from "./support/server.ts";
import { openRawWebSocket } from "./support/raw_websocket.ts";
import { RawHttpConnection } from "./support/raw_http.ts";
import { eventually, postCart } from "./support/clients.ts";

const encoder = new TextEncoder();
const SESSION = "5b0e9a57-3f1d-4c8e-b2a4-7d6e1f0c9a38";
const UPGRADE = {
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};
const FORM = "application/x-www-form-urlencoded";

/** Bytes that are not UTF-8 around an otherwise valid body. */
const badUtf8 = (before: string, after: string) =>
  new Uint8Array([...encoder.encode(before), 0xff, 0xfe, ...encoder.encode(after)]);

/** A request to hand to the app: built fresh for each run, since a body is read once. */
type RequestOf = (base: string) => Request;

/** A POST /cart with the given body, content type and extra headers. */
const post = (
  body: BodyInit,
  contentType = "application/json",
  headers: Record<string, string> = {},
): RequestOf =>
(base) =>
  new Request(new URL("cart", base), {
    method: "POST",
    headers: { "content-type": contentType, ...headers },
    body,
  });

/** A JSON POST /cart of the given value. */
const postJson = (value: unknown) => post(JSON.stringify(value));

/** A request without a body. */
const ask = (target: string, init: RequestInit = {}): RequestOf => (base) =>
  new Request(new URL(target, base), init);

/** A body that arrives in chunks, with no declared length. */
const chunked = (chunks: number, size: number) => () =>
  ReadableStream.from(Array.from({ length: chunks }, () => encoder.encode("a".repeat(size))));

/** What a case sends in process, and the status it must get. */
interface AppCase {
  name: string;
  request: RequestOf;
  status: number;
}

// Short enough (40 KB) to reach our limit rather than Deno's own 64 KiB head limit (a bare 400).
const tooManyParams = Array.from({ length: 10_000 }, () => "a=1").join("&");
const deep = `${"[".repeat(1500)}${"]".repeat(1500)}`;

const APP_CASES: AppCase[] = [
  {
    name: "JSON body with bytes that are not UTF-8",
    request: post(badUtf8('{"action":"add","session":"', `${SESSION}"}`)),
    status: 400,
  },
  {
    name: "form body with bytes that are not UTF-8",
    request: post(badUtf8("action=add&session=", SESSION), FORM),
    status: 400,
  },
  {
    // ASCII, so valid UTF-8 too: read as UTF-8 it would add a unit the client never asked for.
    name: "form body labelled charset=utf-16",
    request: post(`action=add&session=${SESSION}`, `${FORM}; charset=utf-16`),
    status: 415,
  },
  {
    name: "JSON body labelled charset=iso-8859-1",
    request: post(
      JSON.stringify({ action: "remove", session: SESSION }),
      "application/json; charset=iso-8859-1",
    ),
    status: 415,
  },
  {
    name: "form with action given twice",
    request: post(`action=add&action=remove&session=${SESSION}`, FORM),
    status: 400,
  },
  {
    name: "form with session given twice",
    request: post(`action=add&session=${SESSION}&session=${crypto.randomUUID()}`, FORM),
    status: 400,
  },
  {
    name: "form with product given twice",
    request: post(`action=remove&session=${SESSION}&product=${DEMO}&product=${DEMO}`, FORM),
    status: 400,
  },
  {
    name: "JSON with action given twice",
    request: post(`{"action":"add","session":"${SESSION}","action":"remove"}`),
    status: 400,
  },
  {
    name: "JSON with session given twice, once escaped",
    request: post(`{"action":"add","session":"${SESSION}","sessio\\u006e":"${SESSION}"}`),
    status: 400,
  },
  {
    name: "JSON action as an array",
    request: postJson({ action: ["add"], session: SESSION }),
    status: 400,
  },
  {
    name: "JSON session as a number",
    request: postJson({ action: "add", session: 42 }),
    status: 400,
  },
  {
    name: "JSON session as an object",
    request: postJson({ action: "add", session: { id: SESSION } }),
    status: 400,
  },
  {
    name: "JSON product as a number",
    request: postJson({ action: "remove", session: SESSION, product: 7 }),
    status: 400,
  },
  {
    name: "JSON product unknown",
    request: postJson({ action: "remove", session: SESSION, product: "no-such-thing" }),
    status: 404,
  },
  {
    name: "JSON product __proto__",
    request: postJson({ action: "remove", session: SESSION, product: "__proto__" }),
    status: 404,
  },
  {
    name: "JSON product constructor",
    request: postJson({ action: "remove", session: SESSION, product: "constructor" }),
    status: 404,
  },
  {
    name: "JSON body an array",
    request: postJson([{ action: "add", session: SESSION }]),
    status: 400,
  },
  { name: "JSON body null", request: post("null"), status: 400 },
  { name: "JSON body a string", request: post('"add"'), status: 400 },
  {
    name: "JSON deeply nested beside valid fields",
    request: post(`{"action":"add","session":"${SESSION}","x":${deep}}`),
    status: 400,
  },
  { name: "JSON truncated", request: post('{"action":"add","session":'), status: 400 },
  {
    name: "JSON with a __proto__ field",
    request: post(`{"__proto__":{"action":"add"},"session":"${SESSION}"}`),
    status: 400,
  },
  { name: "unknown action", request: postJson({ action: "buy", session: SESSION }), status: 400 },
  {
    name: "session that is not a UUID",
    request: postJson({ action: "add", session: "../../etc/passwd" }),
    status: 400,
  },
  { name: "no session at all", request: postJson({ action: "add" }), status: 400 },
  {
    name: "text/plain body",
    request: post(`action=add&session=${SESSION}`, "text/plain"),
    status: 415,
  },
  { name: "no Content-Type", request: post(`action=add&session=${SESSION}`, ""), status: 415 },
  {
    name: "10 MB declared body",
    request: post("{}", "application/json", { "content-length": "10485760" }),
    status: 413,
  },
  {
    name: "chunked body past 4 KiB",
    request: (base) => post(chunked(4, 0x2000)(), "application/json")(base),
    status: 413,
  },
  {
    name: "cross-site Origin on POST",
    request: post(JSON.stringify({ action: "remove", session: SESSION }), "application/json", {
      origin: "https://evil.example",
    }),
    status: 403,
  },
  {
    name: "Sec-Fetch-Site cross-site on POST",
    request: post(JSON.stringify({ action: "remove", session: SESSION }), "application/json", {
      "sec-fetch-site": "cross-site",
      origin: "https://evil.example",
    }),
    status: 403,
  },
  {
    name: "cross-site WebSocket upgrade of the echo socket",
    request: ask("/echo", { headers: { ...UPGRADE, origin: "https://evil.example" } }),
    status: 403,
  },
  {
    // A status feed's upgrade from anywhere is taken instead: its socket only reads public counts
    // (tests/websocket_test.ts).
    name: "cross-site WebSocket upgrade of the echo socket, as a browser says it",
    request: ask("/echo", {
      headers: { ...UPGRADE, origin: "https://evil.example", "sec-fetch-site": "cross-site" },
    }),
    status: 403,
  },
  { name: "10,000 query parameters", request: ask(`/cart/status?${tooManyParams}`), status: 414 },
  {
    name: "17 query parameters",
    request: ask(`/cart/status?${"a=1&".repeat(16)}a=1`),
    status: 400,
  },
  { name: "since given twice", request: ask("/cart/status?since=0&since=1"), status: 400 },
  { name: "since negative", request: ask("/cart/status?since=-1"), status: 400 },
  { name: "since not a number", request: ask("/cart/status?since=abc"), status: 400 },
  { name: "since in exponent form", request: ask("/cart/status?since=1e3"), status: 400 },
  { name: "since too large", request: ask("/cart/status?since=99999999999999999999"), status: 400 },
  {
    name: "since as a bad percent-encoding",
    request: ask("/cart/status?since=%FF%FE"),
    status: 400,
  },
  { name: "since with two dots", request: ask("/cart/status?since=ab.4.5"), status: 400 },
  { name: "since with an upper-case epoch", request: ask("/cart/status?since=AB.4"), status: 400 },
  { name: "since with an empty epoch", request: ask("/cart/status?since=.4"), status: 400 },
  {
    name: "since with a 33-digit epoch",
    request: ask(`/cart/status?since=${"a".repeat(33)}.4`),
    status: 400,
  },
  {
    name: "since negative on the catalog feed",
    request: ask("/catalog/status?since=-1"),
    status: 400,
  },
  {
    name: "product given twice",
    request: ask(`/cart/status?product=${DEMO}&product=${DEMO}`),
    status: 400,
  },
  { name: "status of an unknown product", request: ask("/cart/status?product=nope"), status: 404 },
  { name: "status of __proto__", request: ask("/cart/status?product=__proto__"), status: 404 },
  { name: "page of an unknown product", request: ask("/products/%00"), status: 404 },
  { name: "page of a path-escaping product", request: ask("/products/..%2fadmin"), status: 404 },
  { name: "unknown method", request: ask("/cart", { method: "BREW" }), status: 405 },
  { name: "DELETE on /cart", request: ask("/cart", { method: "DELETE" }), status: 405 },
  { name: "PUT on /cart/status", request: ask("/cart/status", { method: "PUT" }), status: 405 },
  {
    name: "POST on /catalog/status",
    request: ask("/catalog/status", { method: "POST" }),
    status: 405,
  },
  { name: "admin API with no token configured", request: ask("/admin/products"), status: 404 },
  { name: "path escaping /static/", request: ask("/static/..%2f..%2flib%2fcart.ts"), status: 404 },
  { name: "path escaping /media/", request: ask("/media/..%2f..%2fdeno.json"), status: 404 },
  { name: "NUL byte in the path", request: ask("/cart%00"), status: 404 },
  {
    name: "20 KiB header",
    request: ask("/", { headers: { "x-pad": "a".repeat(20_000) } }),
    status: 431,
  },
  {
    name: "GET /cart with a forged sid cookie",
    request: ask("/cart", { headers: { cookie: 'sid="><script>' } }),
    status: 200,
  },
];

/** Checks that a response is the JSON error (or, for a page, HTML) it should be. */
async function assertBodyOf(response: Response, name: string): Promise<void> {
  const type = response.headers.get("content-type") ?? "";
  if (type.startsWith("text/html")) {
    await response.body?.cancel();
    return;
  }
  assert.equal(type, "application/json", name);
  const body = await response.json();
  if (response.status >= 400) assert.equal(typeof body.error, "string", name);
  else assert.deepEqual(body, { items: [] }, name);
}

/** A server with 3 units, one of them held by SESSION, so that an accidental remove shows too. */
async function serverWithHold(): Promise<RunningServer & AsyncDisposable> {
  const server = await startTestServer({ inventory: 3 });
  assert.equal((await postCart(server.url, "add", SESSION)).status, 200);
  return server;
}

Deno.test("hostile requests get their documented answers in process and change nothing", async () => {
  await using server = await serverWithHold();
  const before = server.inventory.get(DEMO);
  for (const { name, request, status } of APP_CASES) {
    const response = await server.app.handle(request(server.url));
    assert.equal(response.status, status, name);
    await assertBodyOf(response, name);
    // The same record: not even a version moved.
    assert.equal(server.inventory.get(DEMO), before, `the inventory changed after: ${name}`);
  }
  assert.equal(await holds(server, SESSION), true);
  assert.deepEqual(stateOf(server), { inventoryCount: 2, version: 1 });
});

/** What a case sends over a socket, and the status it must get (or that the connection ends). */
interface SocketCase {
  name: string;
  request: string;
  status: number | "closed";
  /** The server answers before the body is all sent: write what it takes, then read. */
  partial?: boolean;
}

const SOCKET_CASES: SocketCase[] = [
  {
    name: "10 MB declared body, answered before it is sent",
    request:
      `POST /cart HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n${
        "a".repeat(65536)
      }`,
    status: 413,
    partial: true,
  },
  {
    name: "chunked body past 4 KiB, answered before it ends",
    request:
      `POST /cart HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${
        `2000\r\n${"a".repeat(0x2000)}\r\n`.repeat(4)
      }`,
    status: 413,
    partial: true,
  },
  {
    name: "more than 100 headers",
    request: `GET / HTTP/1.1\r\nHost: x\r\n${
      Array.from({ length: 150 }, (_, i) => `X-H${i}: v\r\n`).join("")
    }\r\n`,
    status: 400,
  },
  {
    name: "garbage instead of a request line",
    request: "\x00\x01\x02 not http\r\n\r\n",
    status: 400,
  },
  {
    name: "an HTTP/2.0 request line on HTTP/1.1",
    request: "GET / HTTP/2.0\r\nHost: x\r\n\r\n",
    status: 400,
  },
  {
    name: "Content-Length given twice, differently",
    request:
      "POST /cart HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    status: 400,
  },
  {
    name: "Content-Length negative",
    request:
      "POST /cart HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n{}",
    status: 400,
  },
  {
    name: "Content-Length and Transfer-Encoding both (request smuggling)",
    request:
      `POST /cart HTTP/1.1\r\nHost: x\r\nContent-Type: ${FORM}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n` +
      `2e\r\naction=add&session=${SESSION}\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: "a transfer coding we do not speak",
    request:
      "POST /cart HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n{}",
    status: 400,
  },
  {
    name: "a chunk size that is not hexadecimal",
    request:
      "POST /cart HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    status: "closed",
  },
  {
    name: "a header folded over two lines",
    request: "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
    status: 400,
  },
];

Deno.test("badly framed requests get their answers over a socket and change nothing", async () => {
  await using server = await serverWithHold();
  const before = server.inventory.get(DEMO);
  for (const { name, request, status, partial } of SOCKET_CASES) {
    const connection = await RawHttpConnection.open(server.url);
    try {
      // The server may answer (and close) before it has read all of the request.
      if (partial) await connection.write(request).catch(() => {});
      const response = partial ? await connection.read() : await connection.request(request);
      assert.equal(response?.status ?? "closed", status, name);
    } finally {
      connection.close();
    }
    assert.equal(server.inventory.get(DEMO), before, `the inventory changed after: ${name}`);
  }
  assert.equal(await holds(server, SESSION), true);
  assert.equal((await fetch(new URL("healthz", server.url))).status, 200);
});

/** A GET / whose head has `Host` and further headers, one per line. */
function headWith(lines: string[]): string {
  return `GET / HTTP/1.1\r\nHost: x\r\n${lines.map((line) => `${line}\r\n`).join("")}\r\n`;
}

Deno.test("100 header fields pass, 101 get 400; a name repeated is one field, up to Deno's 128 lines", async () => {
  await using server = await startTestServer();
  const distinct = (count: number) => Array.from({ length: count }, (_, i) => `X-H${i}: v`);
  const cases: [string, string[], number][] = [
    ["100 header fields", distinct(99), 200],
    ["101 header fields", distinct(100), 400],
    ["128 lines of one name", Array(127).fill("X-A: v"), 200],
    ["129 lines of one name", Array(128).fill("X-A: v"), 400],
  ];
  for (const [name, lines, status] of cases) {
    const connection = await RawHttpConnection.open(server.url);
    try {
      const response = await connection.request(headWith(lines));
      assert.equal(response?.status, status, name);
      if (name === "101 header fields") {
        assert.deepEqual(JSON.parse(response!.body), { error: "More than 100 header fields" });
      }
    } finally {
      connection.close();
    }
  }
});

Deno.test("clients that vanish mid-request leave nothing behind", async () => {
  await using server = await startTestServer({ inventory: 3 });
  const before = server.inventory.get(DEMO);
  const body = JSON.stringify({ action: "add", session: crypto.randomUUID() });
  const halves = [
    "GET /cart/status HTTP/1.1\r\nHost: x\r\nAcc", // headers cut off
    `POST /cart HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${
      body.slice(0, 20)
    }`, // body cut off
  ];
  for (const half of halves) {
    const connection = await RawHttpConnection.open(server.url);
    await connection.write(half);
    connection.close();
  }
  // Long polls abandoned while they wait, on a product and on the catalog: their waiters must go.
  for (const target of ["/cart/status", "/catalog/status"]) {
    const poll = await RawHttpConnection.open(server.url);
    await poll.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await eventually(() => server.app.gauges().longPollWaiters === 1, `${target} to wait`);
    poll.close();
    await eventually(
      () => server.app.gauges().longPollWaiters === 0 && server.app.gauges().connections === 0,
      `the abandoned ${target} to go`,
    );
  }
  assert.equal(server.inventory.get(DEMO), before);
  assert.equal((await fetch(new URL("healthz", server.url))).status, 200);
});

/** A masked client frame (RFC 6455 §5.2), small or of any length. */
function clientFrame(opcode: number, payload: Uint8Array, fin = true): Uint8Array {
  const length = payload.length;
  const head = [(fin ? 0x80 : 0) | opcode];
  if (length < 126) head.push(0x80 | length);
  else if (length < 65536) head.push(0x80 | 126, length >> 8, length & 255);
  else {
    head.push(
      0x80 | 127,
      0,
      0,
      0,
      0,
      length >>> 24,
      (length >> 16) & 255,
      (length >> 8) & 255,
      length & 255,
    );
  }
  const key = [0x12, 0x34, 0x56, 0x78];
  return new Uint8Array([...head, ...key, ...payload.map((byte, i) => byte ^ key[i % 4])]);
}

/** A frame sent on the status socket, and whether the server keeps the socket. */
const FRAME_CASES: { name: string; frame: Uint8Array; kept: boolean }[] = [
  {
    name: "a text message",
    frame: clientFrame(0x1, encoder.encode('{"action":"add"}')),
    kept: true,
  },
  { name: "a binary message", frame: clientFrame(0x2, new Uint8Array([1, 2, 3])), kept: true },
  { name: "a 1 MiB message", frame: clientFrame(0x2, new Uint8Array(1 << 20)), kept: true },
  { name: "a ping", frame: clientFrame(0x9, new Uint8Array([7])), kept: true },
  {
    name: "a fragment never finished",
    frame: clientFrame(0x1, encoder.encode("a"), false),
    kept: true,
  },
  {
    name: "text that is not UTF-8",
    frame: clientFrame(0x1, new Uint8Array([0xff, 0xfe])),
    kept: false,
  },
  { name: "a reserved opcode", frame: clientFrame(0x3, new Uint8Array([1])), kept: false },
  {
    name: "bytes that are no frame",
    frame: new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    kept: false,
  },
];

Deno.test({
  name: "unexpected WebSocket frames are ignored or end that socket, and change nothing",
  sanitizeOps: false, // deno#22387
  sanitizeResources: false,
  async fn() {
    // Each kept case adds once from one address: the per-address limit of holds is not the subject.
    await using server = await startTestServer({ inventory: 100, maxHoldsPerClient: 0 });
    for (const { name, frame, kept } of FRAME_CASES) {
      const raw = await openRawWebSocket(server.url, `/cart/status?product=${DEMO}`);
      try {
        const [first] = (await raw.readUntil(() => true)).texts;
        const { product, version } = JSON.parse(first);
        assert.equal(product, DEMO);
        await raw.conn.write(frame);
        if (kept) {
          // Still subscribed: the next change reaches it.
          await postCart(server.url, "add", crypto.randomUUID());
          const { texts } = await raw.readUntil(() => true);
          assert.equal(JSON.parse(texts[0]).version, version + 1, name);
        } else {
          const { texts } = await raw.readUntil(() => false);
          assert.deepEqual(texts, [], name);
          assert.equal(stateOf(server).version, version, name);
        }
      } finally {
        raw.conn.close();
      }
      await eventually(
        () => server.app.gauges().websocketSubscribers === 0,
        `${name}: socket forgotten`,
      );
    }
  },
});
