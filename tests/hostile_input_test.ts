/** Hostile and broken requests: each gets its documented answer, and the cart does not change. */
import assert from "node:assert/strict";
import { startTestServer } from "./support/server.ts";
import { openRawWebSocket } from "./support/raw_websocket.ts";
import { RawHttpConnection } from "./support/raw_http.ts";
import { eventually, postCart } from "./support/clients.ts";

const encoder = new TextEncoder();
const SESSION = "5b0e9a57-3f1d-4c8e-b2a4-7d6e1f0c9a38";
const UPGRADE = "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

/** A POST /cart request with the given content type and raw body. */
function post(body: string | Uint8Array, contentType = "application/json", extra = ""): Uint8Array {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const head = encoder.encode(
    `POST /cart HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\n` +
      `Content-Length: ${bytes.length}\r\n${extra}\r\n`,
  );
  const request = new Uint8Array(head.length + bytes.length);
  request.set(head);
  request.set(bytes, head.length);
  return request;
}

/** A GET request line and headers. */
const get = (target: string, headers = "") => `GET ${target} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`;

/** Bytes that are not UTF-8 around an otherwise valid body. */
const badUtf8 = (before: string, after: string) =>
  new Uint8Array([...encoder.encode(before), 0xff, 0xfe, ...encoder.encode(after)]);

/** A masked client frame (RFC 6455 §5.2), small or of any length. */
function clientFrame(opcode: number, payload: Uint8Array, fin = true): Uint8Array {
  const length = payload.length;
  const head = [(fin ? 0x80 : 0) | opcode];
  if (length < 126) head.push(0x80 | length);
  else if (length < 65536) head.push(0x80 | 126, length >> 8, length & 255);
  else {head.push(
      0x80 | 127,
      0,
      0,
      0,
      0,
      length >>> 24,
      (length >> 16) & 255,
      (length >> 8) & 255,
      length & 255,
    );}
  const key = [0x12, 0x34, 0x56, 0x78];
  return new Uint8Array([...head, ...key, ...payload.map((byte, i) => byte ^ key[i % 4])]);
}

/** What a case sends, and the status it must get (or that the connection just ends). */
interface HttpCase {
  name: string;
  request: string | Uint8Array;
  status: number | "closed";
  /** When set, the request is written in parts: this much first, then the answer is read. */
  partial?: boolean;
}

// Short enough (40 KB) to reach our limit rather than Deno's own 64 KiB head limit (a bare 400).
const tooManyParams = Array.from({ length: 10_000 }, () => "a=1").join("&");
const deep = `${"[".repeat(1500)}${"]".repeat(1500)}`;

const HTTP_CASES: HttpCase[] = [
  {
    name: "JSON body with bytes that are not UTF-8",
    request: post(badUtf8('{"action":"add","session":"', `${SESSION}"}`)),
    status: 400,
  },
  {
    name: "form body with bytes that are not UTF-8",
    request: post(badUtf8("action=add&session=", SESSION), "application/x-www-form-urlencoded"),
    status: 400,
  },
  {
    name: "form with action given twice",
    request: post(
      `action=add&action=remove&session=${SESSION}`,
      "application/x-www-form-urlencoded",
    ),
    status: 400,
  },
  {
    name: "form with session given twice",
    request: post(
      `action=add&session=${SESSION}&session=${crypto.randomUUID()}`,
      "application/x-www-form-urlencoded",
    ),
    status: 400,
  },
  {
    name: "JSON action as an array",
    request: post(JSON.stringify({ action: ["add"], session: SESSION })),
    status: 400,
  },
  {
    name: "JSON session as a number",
    request: post(JSON.stringify({ action: "add", session: 42 })),
    status: 400,
  },
  {
    name: "JSON session as an object",
    request: post(JSON.stringify({ action: "add", session: { id: SESSION } })),
    status: 400,
  },
  {
    name: "JSON body an array",
    request: post(JSON.stringify([{ action: "add", session: SESSION }])),
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
  {
    name: "unknown action",
    request: post(JSON.stringify({ action: "buy", session: SESSION })),
    status: 400,
  },
  {
    name: "session that is not a UUID",
    request: post(JSON.stringify({ action: "add", session: "../../etc/passwd" })),
    status: 400,
  },
  { name: "no session at all", request: post(JSON.stringify({ action: "add" })), status: 400 },
  {
    name: "text/plain body",
    request: post(`action=add&session=${SESSION}`, "text/plain"),
    status: 415,
  },
  {
    name: "10 MB declared body",
    request:
      `POST /cart HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n${
        "a".repeat(65536)
      }`,
    status: 413,
    partial: true,
  },
  {
    name: "chunked body past 4 KiB",
    request:
      `POST /cart HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${
        `2000\r\n${"a".repeat(0x2000)}\r\n`.repeat(4)
      }`,
    status: 413,
    partial: true,
  },
  {
    name: "cross-site Origin on POST",
    request: post(
      JSON.stringify({ action: "add", session: SESSION }),
      "application/json",
      "Origin: https://evil.example\r\n",
    ),
    status: 403,
  },
  {
    name: "Sec-Fetch-Site cross-site on POST",
    request: post(
      JSON.stringify({ action: "add", session: SESSION }),
      "application/json",
      "Sec-Fetch-Site: cross-site\r\nOrigin: https://evil.example\r\n",
    ),
    status: 403,
  },
  {
    name: "cross-site WebSocket upgrade",
    request: get("/cart/status", `${UPGRADE}Origin: https://evil.example\r\n`),
    status: 403,
  },
  { name: "10,000 query parameters", request: get(`/cart/status?${tooManyParams}`), status: 414 },
  { name: "since given twice", request: get("/cart/status?since=0&since=1"), status: 400 },
  { name: "since negative", request: get("/cart/status?since=-1"), status: 400 },
  { name: "since not a number", request: get("/cart/status?since=abc"), status: 400 },
  { name: "since in exponent form", request: get("/cart/status?since=1e3"), status: 400 },
  { name: "since too large", request: get("/cart/status?since=99999999999999999999"), status: 400 },
  {
    name: "since as a bad percent-encoding",
    request: get("/cart/status?since=%FF%FE"),
    status: 400,
  },
  { name: "unknown method", request: "BREW /cart HTTP/1.1\r\nHost: x\r\n\r\n", status: 405 },
  { name: "DELETE on /cart", request: "DELETE /cart HTTP/1.1\r\nHost: x\r\n\r\n", status: 405 },
  {
    name: "PUT on /cart/status",
    request: "PUT /cart/status HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    status: 405,
  },
  { name: "path escaping /static/", request: get("/static/..%2f..%2flib%2fcart.ts"), status: 404 },
  { name: "NUL byte in the path", request: get("/cart%00"), status: 404 },
  { name: "20 KiB header", request: get("/", `X-Pad: ${"a".repeat(20_000)}\r\n`), status: 431 },
  {
    name: "more than 100 headers",
    request: get("/", Array.from({ length: 150 }, (_, i) => `X-H${i}: v\r\n`).join("")),
    status: 400,
  },
  {
    name: "garbage instead of a request line",
    request: "\x00\x01\x02 not http\r\n\r\n",
    status: 400,
  },
  {
    name: "Content-Length given twice, differently",
    request:
      "POST /cart HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    status: 400,
  },
];

Deno.test("hostile HTTP requests get their documented answers and change nothing", async () => {
  await using server = await startTestServer({ inventory: 3 });
  // A unit held before, so that an accidental remove would show too.
  await postCart(server.url, "add", SESSION);
  const before = server.cart.current;
  for (const { name, request, status, partial } of HTTP_CASES) {
    const connection = await RawHttpConnection.open(server.url);
    try {
      if (partial) {
        // The server answers before the body is all sent; it need not read the rest.
        await connection.write(request).catch(() => {});
      }
      const response = partial ? await connection.read() : await connection.request(request);
      assert.equal(response?.status ?? "closed", status, name);
    } finally {
      connection.close();
    }
    assert.equal(server.cart.current, before, `the cart changed after: ${name}`);
  }
  assert.equal(server.cart.holds(SESSION), true);
  assert.equal((await fetch(new URL("healthz", server.url))).status, 200);
});

Deno.test("clients that vanish mid-request leave nothing behind", async () => {
  await using server = await startTestServer({ inventory: 3 });
  const before = server.cart.current;
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
  // A long poll abandoned while it waits: its waiter must go.
  const poll = await RawHttpConnection.open(server.url);
  await poll.write(get("/cart/status"));
  await eventually(() => server.cart.waiterCount === 1, "the long poll to wait");
  poll.close();
  await eventually(() => server.cart.waiterCount === 0, "the abandoned waiter to go");
  assert.equal(server.cart.current, before);
  assert.equal((await fetch(new URL("healthz", server.url))).status, 200);
});

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
    await using server = await startTestServer({ inventory: 100 });
    for (const { name, frame, kept } of FRAME_CASES) {
      const raw = await openRawWebSocket(server.url, "/cart/status");
      try {
        const [first] = (await raw.readUntil(() => true)).texts;
        const version = JSON.parse(first).version;
        await raw.conn.write(frame);
        if (kept) {
          // Still subscribed: the next change reaches it.
          await postCart(server.url, "add", crypto.randomUUID());
          const { texts } = await raw.readUntil(() => true);
          assert.equal(JSON.parse(texts[0]).version, version + 1, name);
        } else {
          const { texts } = await raw.readUntil(() => false);
          assert.deepEqual(texts, [], name);
          assert.equal(server.cart.current.state.version, version, name);
        }
      } finally {
        raw.conn.close();
      }
      await eventually(() => server.app.websocketSubscribers === 0, `${name}: socket forgotten`);
    }
  },
});
