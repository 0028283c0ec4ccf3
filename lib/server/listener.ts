/** Keeps `Deno.serve` listening: when accepting fails (out of file descriptors) it listens again. */

/** Where and how to listen. */
export interface ListenOptions {
  /** TCP port; 0 picks a free one, which is then kept for every later listen. */
  port: number;
  /** Address to bind. */
  hostname: string;
  /** PEM certificate and key: serve HTTPS. */
  tls?: { cert: string; key: string };
  /** Called each time accepting failed and the listener died, with the error. */
  onAcceptError: (error: unknown) => void;
}

/** First wait before listening again, in ms; it doubles while failures go on. */
const RETRY_MS = 50;
/** Longest wait between attempts to listen again, in ms. */
const MAX_RETRY_MS = 1_000;

/** A listener that outlives accept failures. */
export interface ResilientServer {
  /** The bound address (the same across every listen). */
  readonly addr: Deno.NetAddr;
  /** Stops listening, waits for open connections to finish, and stops retrying. */
  shutdown(): Promise<void>;
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
 * @param options Address, TLS and the accept-error callback.
 * @param handler Answers each request.
 * @returns The running server.
 * @throws {Error} When the first listen fails (e.g. the port is taken).
 *
 * @example
 * ```ts
 * const server = serveResiliently(
 *   { port: 0, hostname: "127.0.0.1", onAcceptError: console.error },
 *   () => new Response("ok"),
 * );
 * await server.shutdown();
 * ```
 */
export function serveResiliently(
  options: ListenOptions,
  handler: Deno.ServeHandler<Deno.NetAddr>,
): ResilientServer {
  // Every server started, including dead ones whose accepted connections still live.
  const servers = new Set<Deno.HttpServer<Deno.NetAddr>>();
  let stopping = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  // While descriptors stay short, a new listener binds but dies at its first accept: back off
  // across those deaths too, and start afresh only after one has lived a while.
  let waitMs = RETRY_MS;
  let listenedAt = 0;

  const listen = (port: number): Deno.HttpServer<Deno.NetAddr> => {
    const server = Deno.serve({
      port,
      hostname: options.hostname,
      ...options.tls,
      onListen: () => {},
    }, handler);
    servers.add(server);
    listenedAt = Date.now();
    server.finished.then(
      () => servers.delete(server),
      (error) => {
        if (stopping) return;
        options.onAcceptError(error);
        const lived = Date.now() - listenedAt;
        waitMs = lived > 4 * MAX_RETRY_MS ? RETRY_MS : Math.min(waitMs * 2, MAX_RETRY_MS);
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
    async shutdown() {
      stopping = true;
      clearTimeout(retry);
      await Promise.allSettled([...servers].map((server) => server.shutdown()));
    },
  };
}
