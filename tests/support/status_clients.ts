/** Test clients of the status feeds over WebSocket, SSE and long polling that await a message. */
import { type CartState, plainState } from "./clients.ts";
import { connectStatusSocket, connectStatusStream } from "./clients.ts";

/** How long a test waits for a state before it fails instead of hanging. */
const WAIT_LIMIT_MS = 10_000;

/** The feed of the only product of a one-product catalog. */
const PRODUCT_FEED = "cart/status";

/**
 * A status message as the server sends it: a product's state, or the catalog feed's snapshot
 * (`{epoch, version, products}`) or one of its entries.
 */
export interface StatusMessage {
  /** The product's version, or the catalog's on a snapshot. */
  readonly version: number;
  /** The store's epoch. */
  readonly epoch: string;
  /** The other fields: `product`, `inventoryCount`, `retired`, `products`, `name`, ... */
  readonly [field: string]: unknown;
}

/** A subscription that records every message it receives. */
export interface StateFeed extends AsyncDisposable {
  /** Every state received so far, oldest first (count and version of each message). */
  readonly states: readonly CartState[];
  /** Every message received so far, oldest first, as sent. */
  readonly messages: readonly StatusMessage[];
  /**
   * Resolves with the first received state (past or future) that satisfies the predicate.
   *
   * @throws {Error} After 10 s without one, or when the feed ends first.
   */
  waitFor(predicate: (state: CartState) => boolean): Promise<CartState>;
  /**
   * Resolves with the first received message (past or future) that satisfies the predicate.
   *
   * @throws {Error} After 10 s without one, or when the feed ends first.
   */
  waitForMessage(predicate: (message: StatusMessage) => boolean): Promise<StatusMessage>;
  /**
   * Resolves when the feed ends, with how: `socket closed with CODE`, `stream ended` (by the
   * server), `stream aborted`, `poll answered STATUS` or `polling stopped`.
   */
  readonly ended: Promise<string>;
}

/** A message's count and version (a catalog snapshot has no count: it is undefined). */
const stateOf = (message: StatusMessage): CartState => plainState(message as unknown as CartState);

/** Collects messages and wakes the tests waiting for one. */
class Feed {
  readonly states: CartState[] = [];
  readonly messages: StatusMessage[] = [];
  readonly #ended = Promise.withResolvers<string>();
  #waiters = new Set<() => void>();
  #endedBy: Error | undefined;

  push(message: StatusMessage): void {
    this.messages.push(message);
    this.states.push(stateOf(message));
    for (const wake of this.#waiters) wake();
  }

  end(reason: string): void {
    if (this.#endedBy !== undefined) return;
    this.#endedBy = new Error(`feed ended: ${reason}`);
    this.#ended.resolve(reason);
    for (const wake of this.#waiters) wake();
  }

  get ended(): Promise<string> {
    return this.#ended.promise;
  }

  async waitFor(predicate: (state: CartState) => boolean): Promise<CartState> {
    return stateOf(await this.waitForMessage((message) => predicate(stateOf(message))));
  }

  waitForMessage(predicate: (message: StatusMessage) => boolean): Promise<StatusMessage> {
    const { promise, resolve, reject } = Promise.withResolvers<StatusMessage>();
    const timer = setTimeout(() => check(true), WAIT_LIMIT_MS);
    const check = (timedOut = false) => {
      const found = this.messages.find(predicate);
      if (found === undefined && !timedOut && this.#endedBy === undefined) return;
      clearTimeout(timer);
      this.#waiters.delete(check);
      if (found !== undefined) resolve(found);
      else {
        reject(
          this.#endedBy ?? new Error(`no matching message in ${JSON.stringify(this.messages)}`),
        );
      }
    };
    this.#waiters.add(check);
    check();
    return promise;
  }

  /** The feed's public face; `dispose` stops it. */
  handle(dispose: () => Promise<void>): StateFeed {
    return {
      states: this.states,
      messages: this.messages,
      waitFor: (predicate) => this.waitFor(predicate),
      waitForMessage: (predicate) => this.waitForMessage(predicate),
      ended: this.ended,
      [Symbol.asyncDispose]: dispose,
    };
  }
}

/**
 * Opens a WebSocket on a status feed and waits until it is open.
 *
 * @param base The server's URL.
 * @param headers Extra handshake headers, e.g. the `Origin` a browser sends.
 * @param path The feed: `cart/status` (with `?product=ID` on a catalog) or `catalog/status`.
 * @returns The feed; disposing it closes the socket.
 */
export async function openWebSocketFeed(
  base: string,
  headers: Record<string, string> = {},
  path = PRODUCT_FEED,
): Promise<StateFeed> {
  const feed = new Feed();
  const { socket, closed } = await connectStatusSocket(
    base,
    (text) => feed.push(JSON.parse(text)),
    headers,
    path,
  );
  const ended = closed.then((event) => feed.end(`socket closed with ${event.code}`));
  return feed.handle(async () => {
    if (socket.readyState !== WebSocket.CLOSED) socket.close();
    await ended;
  });
}

/**
 * Opens a Server-Sent Events stream on a status feed and waits for its first message.
 *
 * @param base The server's URL.
 * @param path The feed: `cart/status` (with `?product=ID` on a catalog) or `catalog/status`.
 * @returns The feed; disposing it ends the stream.
 * @throws {Error} When the server does not answer 200.
 */
export async function openSseFeed(base: string, path = PRODUCT_FEED): Promise<StateFeed> {
  const feed = new Feed();
  const { response, reading, controller } = await connectStatusStream(
    base,
    {},
    (event) => feed.push(JSON.parse(event.data)),
    undefined,
    path,
  );
  const ended = reading.then(
    () => feed.end("stream ended"),
    () => feed.end("stream aborted"),
  );
  if (!response.ok || response.body === null) {
    controller.abort();
    await ended;
    throw new Error(`SSE answered ${response.status}`);
  }
  await feed.waitForMessage(() => true);
  return feed.handle(async () => {
    controller.abort();
    await ended;
  });
}

/**
 * Long-polls a status feed in a loop: `since` first, then each answer's `<epoch>.<version>`.
 *
 * A poll without `since` waits for the next change, so the caller names where it stands; a
 * change made before the first poll arrives is still answered at once. The loop ends at the first
 * answer other than 200 (e.g. 410 once the product is retired).
 *
 * @param base The server's URL.
 * @param since The version (or `<epoch>.<version>`) the test already knows.
 * @param path The feed: `cart/status` (with `?product=ID` on a catalog) or `catalog/status`.
 * @returns The feed of every answer; disposing it stops polling.
 */
export function openLongPollFeed(
  base: string,
  since: number | string,
  path = PRODUCT_FEED,
): StateFeed {
  const controller = new AbortController();
  const feed = new Feed();
  const polling = (async () => {
    try {
      for (let known = String(since);;) {
        const url = new URL(path, base);
        url.searchParams.set("since", known);
        const response = await fetch(url, { signal: controller.signal });
        if (response.status !== 200) {
          await response.body?.cancel();
          feed.end(`poll answered ${response.status}`);
          return;
        }
        const message: StatusMessage = await response.json();
        feed.push(message);
        known = `${message.epoch}.${message.version}`;
      }
    } catch {
      feed.end("polling stopped");
    }
  })();
  return feed.handle(async () => {
    controller.abort();
    await polling;
  });
}
