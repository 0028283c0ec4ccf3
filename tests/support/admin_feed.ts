/** A test client of `GET /admin/feed`: its named events, parsed as they arrive and awaited. */
import { readEventStream } from "./clients.ts";

/** How long a test waits for an event before it fails instead of hanging. */
const WAIT_LIMIT_MS = 10_000;

/** One event of the admin feed. */
export interface AdminEvent {
  /** `snapshot`, `product` or `tick`. */
  readonly name: string;
  /** Its data, parsed. */
  // deno-lint-ignore no-explicit-any
  readonly data: any;
}

/** An admin feed being read. */
export interface AdminFeedClient extends AsyncDisposable {
  /** The response's status and headers. */
  readonly response: Response;
  /** Every event so far, oldest first. */
  readonly events: readonly AdminEvent[];
  /**
   * Resolves with the first event (past or future) of a name that satisfies the predicate.
   *
   * @throws {Error} After 10 s without one, or when the feed ends first.
   */
  next(name: string, predicate?: (data: AdminEvent["data"]) => boolean): Promise<AdminEvent>;
  /** Resolves when the feed ends, however it ends. */
  readonly ended: Promise<void>;
}

/** An event as a failure names it: a snapshot's name alone (its history is long). */
function brief(event: AdminEvent): unknown {
  return event.name === "snapshot" ? event.name : event;
}

/**
 * Reads an admin feed's response (from a real server or from `app.handle`).
 *
 * @param response The response, an event stream.
 * @param leave Aborts the request (a fetch's), and cancels the stream; a new one by default.
 * @returns The client; disposing it cancels the stream, as a client that leaves does.
 */
export function readAdminFeed(
  response: Response,
  leave: AbortController = new AbortController(),
): AdminFeedClient {
  const events: AdminEvent[] = [];
  const wakers = new Set<() => void>();
  let over = false;
  const body = response.body?.pipeThrough(new TransformStream(), { signal: leave.signal }) ?? null;
  const ended = readEventStream(new Response(body), (event) => {
    events.push({ name: event.event ?? "message", data: JSON.parse(event.data) });
    for (const wake of wakers) wake();
  }).catch(() => {}).finally(() => {
    over = true;
    for (const wake of wakers) wake();
  });
  const next = (name: string, predicate: (data: AdminEvent["data"]) => boolean = () => true) => {
    const { promise, resolve, reject } = Promise.withResolvers<AdminEvent>();
    const settle = (timedOut = false) => {
      const found = events.find((event) => event.name === name && predicate(event.data));
      if (found === undefined && !over && !timedOut) return;
      clearTimeout(timer);
      wakers.delete(settle);
      if (found !== undefined) resolve(found);
      else {reject(
          new Error(`no matching "${name}" event among ${JSON.stringify(events.map(brief))}`),
        );}
    };
    const timer = setTimeout(() => settle(true), WAIT_LIMIT_MS);
    wakers.add(settle);
    settle();
    return promise;
  };
  return {
    response,
    events,
    next,
    ended,
    async [Symbol.asyncDispose]() {
      leave.abort();
      await ended;
    },
  };
}

/**
 * Opens the admin feed of a server.
 *
 * @param base The server's URL.
 * @param headers Request headers, e.g. `Authorization: Bearer ...`.
 * @returns The client, once the server answered (read its status before the events).
 */
export async function openAdminFeed(
  base: string,
  headers: Record<string, string> = {},
): Promise<AdminFeedClient> {
  const leave = new AbortController();
  const response = await fetch(new URL("admin/feed", base), {
    headers: { accept: "text/event-stream", ...headers },
    signal: leave.signal,
  });
  return readAdminFeed(response, leave);
}
