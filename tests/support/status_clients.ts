/** Test clients of `GET /cart/status` over WebSocket, SSE and long polling that await a state. */
import { type CartState, plainState } from "./clients.ts";
import { connectStatusSocket, connectStatusStream, statusUrl } from "./clients.ts";

/** How long a test waits for a state before it fails instead of hanging. */
const WAIT_LIMIT_MS = 10_000;

/** A subscription that records every state it receives. */
export interface StateFeed extends AsyncDisposable {
  /** Every state received so far, oldest first. */
  readonly states: readonly CartState[];
  /**
   * Resolves with the first received state (past or future) that satisfies the predicate.
   *
   * @throws {Error} After 10 s without one, or when the feed ends first.
   */
  waitFor(predicate: (state: CartState) => boolean): Promise<CartState>;
}

/** Collects states and wakes the tests waiting for one. */
class Feed {
  readonly states: CartState[] = [];
  #waiters = new Set<() => void>();
  #ended: Error | undefined;

  push(state: CartState): void {
    this.states.push(state);
    for (const wake of this.#waiters) wake();
  }

  end(reason: string): void {
    this.#ended ??= new Error(`feed ended: ${reason}`);
    for (const wake of this.#waiters) wake();
  }

  waitFor(predicate: (state: CartState) => boolean): Promise<CartState> {
    const { promise, resolve, reject } = Promise.withResolvers<CartState>();
    const timer = setTimeout(() => check(true), WAIT_LIMIT_MS);
    const check = (timedOut = false) => {
      const found = this.states.find(predicate);
      if (found === undefined && !timedOut && this.#ended === undefined) return;
      clearTimeout(timer);
      this.#waiters.delete(check);
      if (found !== undefined) resolve(found);
      else {
        reject(this.#ended ?? new Error(`no matching state in ${JSON.stringify(this.states)}`));
      }
    };
    this.#waiters.add(check);
    check();
    return promise;
  }
}

/**
 * Opens a WebSocket on `/cart/status` and waits until it is open.
 *
 * @param base The server's URL.
 * @param product The product's id; none for a one-product catalog.
 * @param headers Extra handshake headers, e.g. the `Origin` a browser sends.
 * @returns The feed; disposing it closes the socket.
 */
export async function openWebSocketFeed(
  base: string,
  product?: string,
  headers: Record<string, string> = {},
): Promise<StateFeed> {
  const feed = new Feed();
  const { socket, closed } = await connectStatusSocket(
    base,
    (state) => feed.push(state),
    product,
    headers,
  );
  const ended = closed.then(() => feed.end("socket closed"));
  return {
    states: feed.states,
    waitFor: (predicate) => feed.waitFor(predicate),
    async [Symbol.asyncDispose]() {
      if (socket.readyState !== WebSocket.CLOSED) socket.close();
      await ended;
    },
  };
}

/**
 * Opens a Server-Sent Events stream on `/cart/status` and waits for its first state.
 *
 * @param base The server's URL.
 * @param product The product's id; none for a one-product catalog.
 * @returns The feed; disposing it ends the stream.
 */
export async function openSseFeed(base: string, product?: string): Promise<StateFeed> {
  const feed = new Feed();
  const { response, reading, controller } = await connectStatusStream(
    base,
    {},
    (event) => feed.push(plainState(JSON.parse(event.data))),
    undefined,
    undefined,
    product,
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
  await feed.waitFor(() => true);
  return {
    states: feed.states,
    waitFor: (predicate) => feed.waitFor(predicate),
    async [Symbol.asyncDispose]() {
      controller.abort();
      await ended;
    },
  };
}

/**
 * Long-polls `/cart/status?since=V` in a loop, re-polling with each answer's version.
 *
 * A poll without `since` waits for the next change, so the caller names the version it knows;
 * a change made before the first poll arrives is still answered at once.
 *
 * @param base The server's URL.
 * @param since The version the test already knows.
 * @param product The product's id; none for a one-product catalog.
 * @returns The feed of every answer; disposing it stops polling.
 */
export function openLongPollFeed(base: string, since: number, product?: string): StateFeed {
  const controller = new AbortController();
  const feed = new Feed();
  const polling = (async () => {
    try {
      for (let known = since;;) {
        const url = statusUrl(base, product);
        url.searchParams.set("since", String(known));
        const response = await fetch(url, { signal: controller.signal });
        const state = plainState(await response.json());
        feed.push(state);
        known = state.version;
      }
    } catch {
      feed.end("polling stopped");
    }
  })();
  return {
    states: feed.states,
    waitFor: (predicate) => feed.waitFor(predicate),
    async [Symbol.asyncDispose]() {
      controller.abort();
      await polling;
    },
  };
}
