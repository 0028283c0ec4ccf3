/** readLimitedText over a real socket (declared length, chunked); acceptedMediaType's media rules in process. */
import { DeadlineQueue } from "../lib/time/deadline_queue.ts";
import assert from "node:assert/strict";
import { acceptedMediaType, readLimitedText } from "../lib/http/request_body.ts";
import { errorResponse, HttpError } from "../lib/http/http_error.ts";

/** Serves `readLimitedText(request, 16, ...)` (10 s to arrive) on a free port: the text, or the error. */
async function withEchoServer(fn: (url: string) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: controller.signal, onListen: () => {} },
    async (request) => {
      try {
        return new Response(await readLimitedText(request, 16, new DeadlineQueue(10_000)));
      } catch (error) {
        return errorResponse(error);
      }
    },
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}/`);
  } finally {
    controller.abort();
    await server.finished;
  }
}

function chunked(...parts: string[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(parts.map((part) => new TextEncoder().encode(part)));
}

Deno.test("a body with a declared length is read whole", async () => {
  await withEchoServer(async (url) => {
    const response = await fetch(url, { method: "POST", body: "action=add" });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "action=add");
  });
});

Deno.test("a chunked body without a declared length is read whole", async () => {
  await withEchoServer(async (url) => {
    const response = await fetch(url, { method: "POST", body: chunked("action=", "add") });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "action=add");
  });
});

Deno.test("a body over the limit is refused with 413, declared or not", async () => {
  await withEchoServer(async (url) => {
    const declared = await fetch(url, { method: "POST", body: "x".repeat(17) });
    assert.equal(declared.status, 413);
    await declared.body?.cancel();
    const streamed = await fetch(url, {
      method: "POST",
      body: chunked("x".repeat(10), "x".repeat(7)),
    });
    assert.equal(streamed.status, 413);
    await streamed.body?.cancel();
  });
});

Deno.test("a body that is not UTF-8 is refused with 400, declared or not", async () => {
  await withEchoServer(async (url) => {
    const bad = new Uint8Array([0x61, 0xff, 0x62]);
    const declared = await fetch(url, { method: "POST", body: bad });
    assert.equal(declared.status, 400);
    assert.deepEqual(await declared.json(), { error: "Body is not valid UTF-8" });
    const streamed = await fetch(url, { method: "POST", body: ReadableStream.from([bad]) });
    assert.equal(streamed.status, 400);
    await streamed.body?.cancel();
  });
});

Deno.test("a body holding U+FFFD itself is valid UTF-8 and read as sent, declared or not", async () => {
  await withEchoServer(async (url) => {
    const text = "a\uFFFDb é";
    const declared = await fetch(url, { method: "POST", body: text });
    assert.equal(declared.status, 200);
    assert.equal(await declared.text(), text);
    const bytes = new TextEncoder().encode(text);
    const streamed = await fetch(url, { method: "POST", body: ReadableStream.from([bytes]) });
    assert.equal(streamed.status, 200);
    assert.equal(await streamed.text(), text);
  });
});

Deno.test("an empty body is the empty string", async () => {
  await withEchoServer(async (url) => {
    const response = await fetch(url, { method: "POST" });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "");
  });
});

const FORM = ["application/x-www-form-urlencoded"];

Deno.test("acceptedMediaType takes a listed media type, with or without charset=utf-8 in any spelling", () => {
  for (
    const contentType of [
      "application/x-www-form-urlencoded",
      "Application/X-WWW-Form-Urlencoded; Charset=UTF-8",
      'application/x-www-form-urlencoded; charset="utf-8"',
      "application/x-www-form-urlencoded;foo=bar; charset=utf-8",
    ]
  ) {
    assert.equal(acceptedMediaType(contentType, FORM), "application/x-www-form-urlencoded");
  }
});

Deno.test("acceptedMediaType refuses a body labelled with a charset other than UTF-8 with 415", () => {
  // These bytes decode as UTF-8 all the same: acting on them would misread what the client meant.
  for (const charset of ["utf-16", "UTF-16LE", '"iso-8859-1"', "latin1", ""]) {
    const contentType = `application/x-www-form-urlencoded; charset=${charset}`;
    assert.throws(() => acceptedMediaType(contentType, FORM), (error) => {
      assert.ok(error instanceof HttpError);
      assert.equal(error.status, 415, charset);
      assert.match(error.message, /^Charset must be utf-8, got ".*"$/);
      return true;
    });
  }
});

Deno.test("acceptedMediaType refuses a media type its rule does not list, or none, with 415", () => {
  for (const contentType of ["text/plain", "multipart/form-data; boundary=x", "", null]) {
    assert.throws(() => acceptedMediaType(contentType, FORM), (error) => {
      assert.ok(error instanceof HttpError);
      assert.equal(error.status, 415, String(contentType));
      assert.equal(error.message, "Content-Type must be application/x-www-form-urlencoded");
      return true;
    });
  }
});
