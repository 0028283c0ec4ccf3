/** Test clients of the status feeds over WebSocket, SSE and long polling that await a message. */
import {
  type CartState,
  connectStatusSocket,
  connectStatusStream,
  eventually,
  metric,
  plainState,
  PRODUCT_FEED,
} from "./clients.ts";
import { within } from "./within.ts";

/** How long a test waits for a state before it fails instead of hanging. */
const WAIT_LIMIT_MS = 10_000;

/** A version no feed reaches, so that a poll from it is answered at once. */
const UNSEEN_VERSION = "999999999999999";

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
   * Resolves when the feed ends (past or future), with how: `socket closed with CODE`,
   * `stream ended` (by the server), `stream aborted`, `poll answered STATUS` or `polling stopped`.
   *
   * @throws {Error} After 10 s with the feed still open.
   */
  waitForEnd(): Promise<string>;
}

/** A message's count and version (a catalog snapshot has no count: it is undefined). */
const stateOf = (message: StatusMessage): CartState => plainState(message as unknown as CartState);

/** Collects messages and wakes the tests waiting for one. */
class Feed {
  readonly states: CartState[] = [];
  readonly messages: StatusMessage[] = [];
  #waiters = new Set<() => void>();
  #ended: string | undefined;

  push(message: StatusMessage): void {
    this.messages.push(message);
    this.states.push(stateOf(message));
    for (const wake of this.#waiters) wake();
  }

  end(reason: string): void {
    this.#ended ??= reason;
    for (const wake of this.#waiters) wake();
  }

  async waitFor(predicate: (state: CartState) => boolean): Promise<CartState> {
    return stateOf(await this.waitForMessage((message) => predicate(stateOf(message))));
  }

  waitForMessage(predicate: (message: StatusMessage) => boolean): Promise<StatusMessage> {
    return this.#until(() => {
      const found = this.messages.find(predicate);
      if (found !== undefined) return found;
      if (this.#ended !== undefined) throw new Error(`feed ended: ${this.#ended}`);
    }, () => `no matching message in ${JSON.stringify(this.messages)}`);
  }

  waitForEnd(): Promise<string> {
    return this.#until(() => this.#ended, () => "the feed is still open");
  }

  /** Resolves with `found()` once it is defined, checked at each message and at the end. */
  #until<T>(found: () => T | undefined, failure: () => string): Promise<T> {
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    const timer = setTimeout(() => settle(true), WAIT_LIMIT_MS);
    const settle = (timedOut = false) => {
      let value: T | undefined;
      try {
        value = found();
      } catch (error) {
        done();
        reject(error);
        return;
      }
      if (value !== undefined) {
        done();
        resolve(value);
      } else if (timedOut) {
        done();
        reject(new Error(failure()));
      }
    };
    const done = () => {
      clearTimeout(timer);
      this.#waiters.delete(settle);
    };
    this.#waiters.add(settle);
    settle();
    return promise;
  }

  /** The feed's public face; `dispose` stops it. */
  handle(dispose: () => Promise<void>): StateFeed {
    return {
      states: this.states,
      messages: this.messages,
      waitFor: (predicate) => this.waitFor(predicate),
      waitForMessage: (predicate) => this.waitForMessage(predicate),
      waitForEnd: () => this.waitForEnd(),
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

/**
 * Long-polls a feed once with `since`, and checks that the answer came at once rather than at the
 * poll's timeout: meanwhile another poll waits at the feed's current cursor, and it must still be
 * the server's only waiter when the answer comes (a poll that waited would be answered at its
 * timeout, after the other one).
 *
 * @param base The server's URL; no other long poll may wait on it.
 * @param since Where the client stands: a version or `<epoch>.<version>`.
 * @param path The feed: `cart/status` (with `?product=ID` on a catalog) or `catalog/status`.
 * @returns The answer, once the other poll has left again.
 * @throws {Error} When the answer is not 200, or came only once the poll had waited.
 */
export async function pollAtOnce(
  base: string,
  since: string,
  path = PRODUCT_FEED,
): Promise<StatusMessage> {
  const poll = async (from: string, signal?: AbortSignal) => {
    const url = new URL(path, base);
    url.searchParams.set("since", from);
    const response = await fetch(url, { signal });
    if (response.status !== 200) {
      throw new Error(`poll from ${from} answered ${response.status}: ${await response.text()}`);
    }
    return await response.json() as StatusMessage;
  };
  const current = await within(poll(UNSEEN_VERSION), "the answer at once to a poll from nowhere");
  const waiting = new AbortController();
  // Aborted too when its answer does not come, so that only the failure is reported.
  const asking = new AbortController();
  const other = poll(`${current.epoch}.${current.version}`, waiting.signal).catch(() => {});
  try {
    await eventually(
      async () => await metric(base, "inventory_long_poll_waiters") === 1,
      "a poll to wait at the current cursor",
    );
    const answer = await within(
      poll(since, asking.signal),
      `the answer at once to a poll from ${since}`,
    );
    if (await metric(base, "inventory_long_poll_waiters") !== 1) {
      throw new Error(`the poll from ${since} was answered only after waiting`);
    }
    return answer;
  } finally {
    waiting.abort();
    asking.abort();
    await other;
    await eventually(
      async () => await metric(base, "inventory_long_poll_waiters") === 0,
      "the waiting poll to leave",
    );
  }
}
