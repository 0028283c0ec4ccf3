/**
 * Requests sent from a chosen loopback address (127.0.0.2, 127.0.0.3, …), so that a test can look
 * like many clients: `Deno.connect` and `fetch` cannot choose their source, Node's `localAddress`
 * (through Deno's `node:http`) can.
 */
import http from "node:http";

/** One answer, its body read whole. */
export interface AddressedAnswer {
  /** The status code. */
  readonly status: number;
  /** The headers, names in lower case. */
  readonly headers: Headers;
  /** The body, as text. */
  readonly body: string;
}

/** What to send. */
export interface AddressedRequest {
  /** The method; GET by default. */
  readonly method?: string;
  /** Extra headers. */
  readonly headers?: Record<string, string>;
  /** The body, sent as it is. */
  readonly body?: string;
  /** Ends the request (its connection closed) when aborted. */
  readonly signal?: AbortSignal;
}

/** A connection held open from an address: a stream's head, or a WebSocket upgraded. */
export interface HeldConnection {
  /** The status code: 101 for an upgrade. */
  readonly status: number;
  /** The headers, names in lower case. */
  readonly headers: Headers;
  /** Reads the rest of the body (nothing for an upgrade); resolves when the server ends it. */
  text(): Promise<string>;
  /** Closes the connection from the client's side. */
  close(): void;
}

/** The headers of a WebSocket upgrade from the server's own origin. */
export function upgradeHeaders(base: string): Record<string, string> {
  return {
    connection: "Upgrade",
    upgrade: "websocket",
    "sec-websocket-key": btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16)))),
    "sec-websocket-version": "13",
    origin: new URL(base).origin,
  };
}

/**
 * The nth address of the loopback range a test may use as a client: 127.0.0.2 for 0, then on,
 * across the third octet past 253 of them.
 *
 * @param index From 0.
 * @returns The address.
 */
export function loopbackAddress(index: number): string {
  return `127.0.${Math.floor(index / 253)}.${2 + index % 253}`;
}

/** node:http's options for one request from `address`, on a connection of its own. */
function requestOptions(
  address: string,
  url: string | URL,
  request: AddressedRequest,
): http.RequestOptions {
  const target = new URL(url);
  return {
    host: target.hostname,
    port: target.port,
    path: target.pathname + target.search,
    method: request.method ?? "GET",
    headers: request.headers,
    localAddress: address,
    agent: false,
    signal: request.signal,
  };
}

/**
 * Sends one request from `address` and reads its whole answer, on a connection of its own.
 *
 * @param address The source address, in 127.0.0.0/8.
 * @param url The URL, on a loopback host.
 * @param request Method, headers and body.
 * @returns The answer.
 */
export function requestFrom(
  address: string,
  url: string | URL,
  request: AddressedRequest = {},
): Promise<AddressedAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(requestOptions(address, url, request), (incoming) => {
      const chunks: Uint8Array[] = [];
      incoming.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      incoming.on("error", reject);
      incoming.on("end", () => {
        resolve({
          status: incoming.statusCode ?? 0,
          headers: headersOf(incoming.headers),
          body: new TextDecoder().decode(concat(chunks)),
        });
      });
    });
    outgoing.on("error", reject);
    outgoing.end(request.body);
  });
}

/**
 * Opens a connection from `address` and resolves at the answer's head, leaving it open: an event
 * stream, a long poll's answer, or a WebSocket upgrade (send {@linkcode upgradeHeaders}).
 *
 * @param address The source address, in 127.0.0.0/8.
 * @param url The URL, on a loopback host.
 * @param request Method and headers.
 * @returns The connection; the caller closes it.
 */
export function openFrom(
  address: string,
  url: string | URL,
  request: AddressedRequest = {},
): Promise<HeldConnection> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(requestOptions(address, url, request));
    outgoing.on("error", reject);
    outgoing.on("upgrade", (incoming, socket) => {
      resolve({
        status: incoming.statusCode ?? 0,
        headers: headersOf(incoming.headers),
        text: () =>
          new Promise((ended) => {
            if (socket.destroyed) ended("");
            else socket.on("close", () => ended(""));
          }),
        close: () => socket.destroy(),
      });
    });
    outgoing.on("response", (incoming) => {
      const chunks: Uint8Array[] = [];
      const ended = new Promise<string>((done) => {
        incoming.on("data", (chunk: Uint8Array) => chunks.push(chunk));
        incoming.on("error", () => done(new TextDecoder().decode(concat(chunks))));
        incoming.on("end", () => done(new TextDecoder().decode(concat(chunks))));
        incoming.on("close", () => done(new TextDecoder().decode(concat(chunks))));
      });
      resolve({
        status: incoming.statusCode ?? 0,
        headers: headersOf(incoming.headers),
        text: () => ended,
        close: () => outgoing.destroy(),
      });
    });
    outgoing.end(request.body);
  });
}

/**
 * Posts a cart action as JSON from `address`, the way the shop's page does (same origin).
 *
 * @param address The source address.
 * @param base The server's base URL.
 * @param action `add`, `remove` or `checkout`.
 * @param product The product's id.
 * @param session The session id sent in the body.
 * @returns The answer.
 */
export function postCartFrom(
  address: string,
  base: string,
  action: string,
  product: string,
  session: string,
): Promise<AddressedAnswer> {
  return requestFrom(address, new URL("/cart", base), {
    method: "POST",
    headers: { "content-type": "application/json", origin: new URL(base).origin },
    body: JSON.stringify({ action, product, session }),
  });
}

function headersOf(raw: http.IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return headers;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const whole = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    whole.set(chunk, offset);
    offset += chunk.length;
  }
  return whole;
}
