/** Test clients for the server's protocol: cart posts, metrics, WebSocket and SSE subscribers. */
import { WAIT_MS, within } from "./within.ts";

/** What the one-product tests compare: a status message's count and version. */
export interface CartState {
  /** Units still free to add. */
  readonly inventoryCount: number;
  /** The product's version. */
  readonly version: number;
}

/**
 * Keeps a status message's count and version; its `product` and `epoch` are checked elsewhere.
 *
 * @param message A parsed status message.
 * @returns `{inventoryCount, version}`.
 */
export function plainState(message: CartState): CartState {
  return { inventoryCount: message.inventoryCount, version: message.version };
}

/** A `POST /cart` answer, its body already read so that no caller leaks it. */
export interface CartAnswer {
  /** The status code. */
  readonly status: number;
  /** The response headers. */
  readonly headers: Headers;
  /** The parsed JSON body: the state, plus `inCart` (and a sale's `orderId`) or `error`. */
  readonly body: CartState & {
    product?: string;
    inCart?: boolean;
    error?: string;
    orderId?: string;
  };
}

/**
 * Posts one cart command as JSON and reads the JSON answer.
 *
 * @param base The server URL.
 * @param action "add", "remove" or "checkout".
 * @param session The shopper's session id.
 * @param product The product's id; none lets a one-product catalog pick its product.
 * @param headers Extra request headers, e.g. the `Origin` a browser sends.
 * @returns The status, headers and parsed body.
 */
export async function postCart(
  base: string,
  action: "add" | "remove" | "checkout",
  session: string,
  product?: string,
  headers: Record<string, string> = {},
): Promise<CartAnswer> {
  const response = await fetch(new URL("cart", base), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ action, session, product }),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/**
 * Reads one unlabelled metric from /metrics.
 *
 * @param base The server URL.
 * @param name The metric's name, e.g. `inventory_long_poll_waiters`.
 * @returns Its value.
 * @throws {Error} When the metric is missing.
 */
export async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(new URL("metrics", base))).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`metric ${name} not found`);
  return Number(line.slice(name.length + 1));
}

/**
 * Polls a condition until it holds, for state that has no event to await (server-side counts).
 *
 * @param check Returns true when done.
 * @param what Names the condition in the timeout error.
 * @param timeoutMs Gives up after this long.
 */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A queue of messages that a test can await one by one. */
export class MessageQueue<T> {
  readonly #items: T[] = [];
  readonly #takers: ((item: T) => void)[] = [];

  /** Adds an item, handing it to a waiting taker if there is one. */
  push(item: T): void {
    const taker = this.#takers.shift();
    if (taker) taker(item);
    else this.#items.push(item);
  }

  /**
   * Resolves with the next item, or fails when none comes in time.
   *
   * @param what What the item is, as the failure names it.
   * @param ms How long to wait for it.
   */
  next(what = "the next message", ms = WAIT_MS): Promise<T> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    const { promise, resolve } = Promise.withResolvers<T>();
    this.#takers.push(resolve);
    return within(promise, what, ms).catch((error) => {
      // A taker that gave up takes nothing: the item goes to the next one.
      const at = this.#takers.indexOf(resolve);
      if (at >= 0) this.#takers.splice(at, 1);
      throw error;
    });
  }

  /** Items received but not yet taken. */
  get pending(): number {
    return this.#items.length;
  }
}

/** Deno's WebSocket, which takes handshake headers: the DOM types browser.ts brings in hide them. */
const DenoWebSocket = WebSocket as unknown as new (
  url: URL,
  options: WebSocketOptions,
) => WebSocket;

/** The feed of the catalog's only product (or of the product a `?product=` names). */
export const PRODUCT_FEED = "cart/status";

/** The catalog feed. */
export const CATALOG_FEED = "catalog/status";

/**
 * The feed of one product.
 *
 * @param product The product's id.
 * @returns `cart/status?product=ID`, relative to the server URL.
 */
export function productFeed(product: string): string {
  return `${PRODUCT_FEED}?product=${encodeURIComponent(product)}`;
}

/**
 * Opens a WebSocket on a status feed, hands each message's text to `onMessage`, and waits until
 * it is open.
 *
 * @param base The server URL.
 * @param onMessage Called with each message received.
 * @param headers Extra handshake headers, e.g. the `Origin` a browser sends.
 * @param path The feed: {@linkcode PRODUCT_FEED}, {@linkcode productFeed} or {@linkcode CATALOG_FEED}.
 * @returns The open socket and a promise of its close event.
 * @throws {Error} When the socket fails to open.
 */
export async function connectStatusSocket(
  base: string,
  onMessage: (text: string) => void,
  headers: Record<string, string> = {},
  path: string = PRODUCT_FEED,
): Promise<{ socket: WebSocket; closed: Promise<CloseEvent> }> {
  const url = new URL(path, base);
  url.protocol = "ws:";
  const socket = new DenoWebSocket(url, { headers });
  socket.onmessage = (event) => onMessage(event.data);
  const closed = new Promise<CloseEvent>((resolve) => socket.onclose = resolve);
  await within(
    new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error("WebSocket failed to open"));
    }),
    `the open of a WebSocket on ${path}`,
  );
  return { socket, closed };
}

/** A WebSocket status subscriber. */
export interface StatusSocket extends AsyncDisposable {
  /** The socket. */
  readonly socket: WebSocket;
  /** Each state received. */
  readonly states: MessageQueue<CartState>;
  /** Resolves with the close event. */
  readonly closed: Promise<CloseEvent>;
}

/**
 * Opens a WebSocket to /cart/status and waits until it is open.
 *
 * @param base The server URL.
 * @returns The subscriber; disposing it closes the socket and waits for the close.
 */
export async function openStatusSocket(base: string): Promise<StatusSocket> {
  const states = new MessageQueue<CartState>();
  const { socket, closed } = await connectStatusSocket(
    base,
    (text) => states.push(plainState(JSON.parse(text))),
  );
  return {
    socket,
    states,
    closed,
    async [Symbol.asyncDispose]() {
      socket.close();
      await within(closed, "the close of a status socket");
    },
  };
}

/** One Server-Sent Event. */
export interface SseEvent {
  /** The `event:` field (its name), if any. */
  event?: string;
  /** The `id:` field, if any. */
  id?: string;
  /** The `data:` field. */
  data: string;
}

/** An event stream on `/cart/status`, being read. */
export interface StatusStreamConnection {
  /** The response's headers and status. */
  readonly response: Response;
  /** Resolves when the server ends the stream; rejects when it is aborted or fails. */
  readonly reading: Promise<void>;
  /** Aborts the request. */
  readonly controller: AbortController;
}

/**
 * Requests an event stream on `/cart/status` and parses its events as they arrive.
 *
 * @param base The server URL.
 * @param headers Extra request headers, e.g. `Last-Event-ID`.
 * @param onEvent Called with each event that carries data.
 * @param onComment Called with each comment line's text (heartbeats).
 * @param onRetry Called with each `retry:` field's reconnection time, in ms.
 * @param path The feed: {@linkcode PRODUCT_FEED}, {@linkcode productFeed} or {@linkcode CATALOG_FEED}.
 * @returns The response and the read in progress.
 */
export async function connectStatusStream(
  base: string,
  headers: Record<string, string>,
  onEvent: (event: SseEvent) => void,
  onComment: (text: string) => void = () => {},
  onRetry: (ms: number) => void = () => {},
  path: string = PRODUCT_FEED,
): Promise<StatusStreamConnection> {
  const controller = new AbortController();
  const response = await fetch(new URL(path, base), {
    headers: { accept: "text/event-stream", ...headers },
    signal: controller.signal,
  });
  const reading = readEventStream(response, onEvent, onComment, onRetry);
  // Callers attach their own handlers once this returns; until then a failure is not unhandled.
  reading.catch(() => {});
  return { response, reading, controller };
}

/**
 * Parses an event stream's body as it arrives.
 *
 * It takes the Response, not its body: Deno's fetch reaches the body of an aborted request only
 * through its Response, so the Response must stay alive while the body is read (once collected,
 * an abort never ends the read).
 *
 * @param response The response (one without a body reads nothing).
 * @param onEvent Called with each event that carries data.
 * @param onComment Called with each comment line's text (heartbeats).
 * @param onRetry Called with each `retry:` field's reconnection time, in ms.
 * @returns Resolves when the stream ends; rejects when it is aborted or fails.
 */
export async function readEventStream(
  response: Response,
  onEvent: (event: SseEvent) => void,
  onComment: (text: string) => void = () => {},
  onRetry: (ms: number) => void = () => {},
): Promise<void> {
  if (response.body === null) return;
  let buffer = "";
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event: SseEvent = { data: "" };
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) onComment(line.slice(1).trim());
        else if (line.startsWith("event: ")) event.event = line.slice(7);
        else if (line.startsWith("id: ")) event.id = line.slice(4);
        else if (line.startsWith("data: ")) event.data = line.slice(6);
        else if (line.startsWith("retry: ")) onRetry(Number(line.slice(7)));
      }
      if (event.data !== "") onEvent(event);
    }
  }
}

/** An SSE status subscriber. */
export interface StatusStream extends AsyncDisposable {
  /** The response's headers and status. */
  readonly response: Response;
  /** Each event received (comments are counted in `comments`). */
  readonly events: MessageQueue<SseEvent>;
  /** Comment lines received (heartbeats). */
  readonly comments: MessageQueue<string>;
  /** Reconnection times received in `retry:` fields, in ms. */
  readonly retries: MessageQueue<number>;
  /** Resolves when the server ends the stream (or the test aborts it). */
  readonly ended: Promise<void>;
}

/**
 * Opens an event stream on a status feed and parses its events as they arrive.
 *
 * @param base The server URL.
 * @param headers Extra request headers, e.g. `Last-Event-ID`.
 * @param path The feed: {@linkcode PRODUCT_FEED}, {@linkcode productFeed} or {@linkcode CATALOG_FEED}.
 * @returns The subscriber; disposing it aborts the request.
 */
export async function openStatusStream(
  base: string,
  headers: Record<string, string> = {},
  path: string = PRODUCT_FEED,
): Promise<StatusStream> {
  const events = new MessageQueue<SseEvent>();
  const comments = new MessageQueue<string>();
  const retries = new MessageQueue<number>();
  const { response, reading, controller } = await connectStatusStream(
    base,
    headers,
    (event) => events.push(event),
    (text) => comments.push(text),
    (ms) => retries.push(ms),
    path,
  );
  const ended = reading.catch(() => {});
  return {
    response,
    events,
    comments,
    retries,
    ended,
    async [Symbol.asyncDispose]() {
      controller.abort();
      await ended;
    },
  };
}
