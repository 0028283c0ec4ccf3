/** Keeps `Deno.serve` listening: when accepting fails (out of file descriptors) it listens again. */
import { RequestHead } from "../http/request_head.ts";

/** Where and how to listen. */
export interface ListenOptions {
  /** TCP port; 0 picks a free one, which is then kept for every later listen. */
  port: number;
  /** Address to bind. */
  hostname: string;
  /** Share the port with other processes that bind it so too (`SO_REUSEPORT`, Linux). */
  reusePort?: boolean;
  /** PEM certificate and key: serve HTTPS. */
  tls?: { cert: string; key: string };
  /** Called each time accepting failed and the listener died, with the error. */
  onAcceptError: (error: unknown) => void;
}

/** First wait before listening again, in ms; it doubles while failures go on. */
const RETRY_MS = 50;
/** Longest wait between attempts to listen again, in ms. */
const MAX_RETRY_MS = 1_000;

/**
 * Answers a request, given its head as the listener read it (it looks at `Upgrade`), so that the
 * headers are read once.
 */
export type HeadHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  head: RequestHead,
) => Response | Promise<Response>;

/** A listener that outlives accept failures. */
export interface ResilientServer {
  /** The bound address (the same across every listen). */
  readonly addr: Deno.NetAddr;
  /**
   * Servers still serving: the one listening, and those whose accept loop died but that may still
   * hold connections. Each death adds one; one that holds nothing any more is shut down and no
   * longer counted.
   */
  readonly listeners: number;
  /** Stops listening, waits for open connections to finish, and stops retrying. */
  shutdown(): Promise<void>;
}

/** What we know of the connections one `Deno.serve` still has. */
interface Listening {
  /** Requests it is answering: from the handler's call until their response is sent. */
  requests: number;
  /** It took an upgrade: its WebSockets outlive their requests, and we cannot see them end. */
  upgraded: boolean;
  /** It has answered a request: its listener accepts. */
  accepted: boolean;
  /** Its accept loop died; it serves only the connections it had. */
  dead: boolean;
  /** Its graceful shutdown has begun. */
  draining: boolean;
}

/**
 * Serves a handler like `Deno.serve`, but survives the accept loop dying.
 *
 * When `accept` fails with "Too many open files", Deno's server rejects `finished` and closes its
 * listener for good, while the connections it already accepted keep being served. So we catch
 * that, count it, and bind the same port again, retrying with backoff while descriptors are still
 * short (binding needs one too). Meanwhile the kernel refuses new connections, which clients see
 * as "connection refused" and retry later; existing subscribers are untouched.
 *
 * A dead server must still be shut down at the end, or its connections would outlive the stop; but
 * kept until then, every death would stay in memory for good. So one is shut down (gracefully)
 * and forgotten as soon as nothing can be lost by it: it answers no request, it never took a
 * WebSocket upgrade (a shutdown closes those, and their end is not visible here), and a newer
 * listener has accepted a connection, so that the idle kept-alive connections the shutdown closes
 * can connect again. One that upgraded is kept until the stop.
 *
 * @param options Address, TLS and the accept-error callback.
 * @param handler Answers each request, given its head.
 * @returns The running server.
 * @throws {Error} When the first listen fails (e.g. the port is taken).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const server = serveResiliently(
 *   { port: 0, hostname: "127.0.0.1", onAcceptError: console.error },
 *   () => new Response("ok"),
 * );
 * assert.equal(server.listeners, 1);
 * await server.shutdown();
 * ```
 */
export function serveResiliently(
  options: ListenOptions,
  handler: HeadHandler,
): ResilientServer {
  // Every server started and not yet forgotten, dead ones whose connections may live included.
  const listenings = new Map<Listening, Deno.HttpServer<Deno.NetAddr>>();
  let current: Listening | undefined;
  let stopping = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  // While descriptors stay short, a new listener binds but dies at its first accept: back off
  // across those deaths too, and start afresh only after one has lived a while.
  let waitMs = RETRY_MS;
  let listenedAt = 0;

  /** Shuts a dead server down once that can cost nothing (see above), then forgets it. */
  const forgetIfIdle = (listening: Listening) => {
    const accepting = current !== undefined && !current.dead && current.accepted;
    if (
      stopping || !accepting || !listening.dead || listening.draining ||
      listening.requests > 0 || listening.upgraded
    ) return;
    listening.draining = true;
    const forget = () => listenings.delete(listening);
    listenings.get(listening)?.shutdown().then(forget, forget);
  };

  /** Counts a request of a server until its answer is out. */
  const track = (listening: Listening, head: RequestHead, info: Deno.ServeHandlerInfo) => {
    if (head.upgrade !== null) {
      // A server that took an upgrade is kept until the stop, so its count no longer matters;
      // and waiting for `completed` would keep the request alive as long as its socket.
      listening.upgraded = true;
    } else {
      listening.requests++;
      const answered = () => {
        listening.requests--;
        forgetIfIdle(listening);
      };
      // Rejects when the client left before the answer was out: answered all the same.
      info.completed.then(answered, answered);
    }
    if (!listening.accepted) {
      listening.accepted = true;
      // The first answer of a new listener: the dead ones may go now.
      if (listening === current) {
        for (const other of listenings.keys()) forgetIfIdle(other);
      }
    }
  };

  const listen = (port: number): Deno.HttpServer<Deno.NetAddr> => {
    const listening: Listening = {
      requests: 0,
      upgraded: false,
      accepted: false,
      dead: false,
      draining: false,
    };
    const server = Deno.serve({
      port,
      hostname: options.hostname,
      reusePort: options.reusePort,
      ...options.tls,
      onListen: () => {},
    }, (request, info) => {
      const head = RequestHead.of(request);
      track(listening, head, info);
      return handler(request, info, head);
    });
    listenings.set(listening, server);
    current = listening;
    listenedAt = Date.now();
    server.finished.then(
      () => listenings.delete(listening),
      (error) => {
        if (stopping) return;
        listening.dead = true;
        options.onAcceptError(error);
        const lived = Date.now() - listenedAt;
        waitMs = lived > 4 * MAX_RETRY_MS ? RETRY_MS : Math.min(waitMs * 2, MAX_RETRY_MS);
        forgetIfIdle(listening);
        relisten();
      },
    );
    return server;
  };

  const first = listen(options.port);
  const addr = first.addr;

  const relisten = () => {
    retry = setTimeout(() => {
      retry = undefined;
      if (stopping) return;
      try {
        listen(addr.port);
      } catch {
        // Still no descriptor to bind with (or the port is briefly busy): try again later.
        waitMs = Math.min(waitMs * 2, MAX_RETRY_MS);
        relisten();
      }
    }, waitMs);
  };

  return {
    addr,
    get listeners() {
      return listenings.size;
    },
    async shutdown() {
      stopping = true;
      clearTimeout(retry);
      await Promise.allSettled([...listenings.values()].map((server) => server.shutdown()));
    },
  };
}
