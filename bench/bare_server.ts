/** The baseline for the benches: a bare-bones Deno server that pushes a count, with no checks. */

/**
 * What the baseline does beyond the bare minimum, so that a cost our server pays for a duty can be
 * measured on a bare server that pays it too.
 */
export interface BareDuties {
  /**
   * What every server that must leave nothing behind and refuse what it cannot hold does: a long
   * poll follows `request.signal` (a client that leaves takes its waiter out) and the answer's
   * `info.completed` is awaited (as a server that drains its connections on a stop must);
   * WebSockets get protocol pings (`idleTimeout`, 60 s) so that a dead peer is found; every
   * request's header bytes are counted (`Headers.forEach`: the only way to see them all), so that
   * an oversized head could be refused before it is held; and a state read by GET says
   * `Cache-Control: no-store`, so that no cache answers it with an old count.
   */
  readonly housekeeping?: boolean;
  /**
   * A Deno KV file each change is committed to before it is answered, as a durable store must:
   * changes that arrive during a commit go together in the next one (group commit), one key.
   */
  readonly kvPath?: string;
  /**
   * With {@linkcode BareDuties.kvPath}: each change is a commit of its own, answered once it is
   * written, none grouped: what a group commit saves (bench/group_commit.ts).
   */
  readonly kvEach?: boolean;
}

/** A listening baseline server. */
export interface BareServer {
  /** Its URL, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  /** Stops it. */
  stop(): Promise<void>;
}

/** The bare server's handler, to serve or to call in process (bench/app_bench.ts). */
export interface BareHandler {
  /**
   * Answers one request.
   *
   * @param request The request.
   * @param info `Deno.serve`'s handler info; absent in process, where no answer is awaited.
   */
  handle(request: Request, info?: Deno.ServeHandlerInfo): Promise<Response>;
  /** Long polls waiting now. */
  readonly waiting: number;
  /** The count's version: a long poll `since` it waits for the next change. */
  readonly version: number;
  /** Closes its WebSockets, answers its long polls and ends its event streams. */
  release(): void;
  /** Closes its Deno KV, if any; after {@linkcode BareHandler.release} and the last answer. */
  close(): void;
}

/**
 * Makes the handler of the smallest server our subscribers can follow: `POST /cart` changes the
 * count and pushes it, `GET /cart/status` is a WebSocket, an event stream or a long poll.
 *
 * It does what the bare-bones figures measured: no validation, no metrics, no origin
 * checks, no slow-reader care; only the one `since` comparison without which a long poll
 * subscriber could not start. Each change is serialized once. `duties` adds what a server that
 * keeps the project's promises cannot skip, one at a time, to measure what each costs.
 *
 * @param duties The duties it takes on besides; none by default.
 * @returns The handler.
 */
export async function createBareHandler(duties: BareDuties = {}): Promise<BareHandler> {
  const encoder = new TextEncoder();
  let inventoryCount = 1_000_000;
  let version = 0;
  let json = JSON.stringify({ inventoryCount, version });
  const sockets = new Set<WebSocket>();
  const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  let waiters = new Set<(json: string) => void>();
  const headers = { "content-type": "application/json" };
  const uncached = duties.housekeeping
    ? { "content-type": "application/json", "cache-control": "no-store" }
    : headers;
  const kv = duties.kvPath === undefined ? undefined : await Deno.openKv(duties.kvPath);
  const idleTimeout = duties.housekeeping ? 60 : 0;
  const noop = () => {};

  const publish = () => {
    for (const socket of sockets) socket.send(json);
    const frame = encoder.encode(`id: ${version}\ndata: ${json}\n\n`);
    for (const stream of streams) stream.enqueue(frame);
    const woken = waiters;
    waiters = new Set();
    for (const wake of woken) wake(json);
  };
  // Group commit: the answers of the changes made while a commit is in flight wait for the next.
  let batch: (() => void)[] = [];
  let committing = false;
  const commit = async () => {
    committing = true;
    while (batch.length > 0) {
      const answers = batch;
      batch = [];
      await kv!.set(["count"], { inventoryCount, version });
      publish();
      for (const answer of answers) answer();
    }
    committing = false;
  };

  return {
    async handle(request: Request, info?: Deno.ServeHandlerInfo): Promise<Response> {
      if (duties.housekeeping) {
        info?.completed.then(noop, noop);
        let headerBytes = 0;
        request.headers.forEach((value, name) => headerBytes += name.length + value.length);
        if (headerBytes > 16_384) return new Response(null, { status: 431 });
      }
      const url = new URL(request.url);
      if (request.method === "POST") {
        const body = await request.text();
        inventoryCount += body.includes("remove") ? 1 : -1;
        version++;
        json = JSON.stringify({ inventoryCount, version });
        if (kv === undefined) {
          publish();
        } else if (duties.kvEach) {
          await kv.set(["count"], { inventoryCount, version });
          publish();
        } else {
          const { promise, resolve } = Promise.withResolvers<void>();
          batch.push(resolve);
          if (!committing) commit();
          await promise;
        }
        return new Response(json, { headers });
      }
      if (request.headers.get("upgrade") === "websocket") {
        const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout });
        socket.onopen = () => {
          sockets.add(socket);
          socket.send(json);
        };
        socket.onclose = () => sockets.delete(socket);
        return response;
      }
      if (request.headers.get("accept") === "text/event-stream") {
        let own: ReadableStreamDefaultController<Uint8Array>;
        const body = new ReadableStream<Uint8Array>({
          start(stream) {
            own = stream;
            streams.add(stream);
            stream.enqueue(encoder.encode(`id: ${version}\ndata: ${json}\n\n`));
          },
          cancel() {
            streams.delete(own);
          },
        });
        return new Response(body, { headers: { "content-type": "text/event-stream" } });
      }
      const since = url.searchParams.get("since");
      if (since !== null && since !== String(version)) {
        return new Response(json, { headers: uncached });
      }
      const answer = await new Promise<string>((resolve) => {
        waiters.add(resolve);
        if (!duties.housekeeping) return;
        request.signal.addEventListener("abort", () => {
          waiters.delete(resolve);
          resolve(json);
        }, { once: true });
      });
      return new Response(answer, { headers: uncached });
    },
    get waiting() {
      return waiters.size;
    },
    get version() {
      return version;
    },
    release() {
      for (const socket of sockets) socket.close();
      for (const wake of waiters) wake(json);
      for (const stream of streams) stream.close();
    },
    close() {
      kv?.close();
    },
  };
}

/**
 * Starts the smallest server our subscribers can follow: `POST /cart` changes the count and
 * pushes it, `GET /cart/status` is a WebSocket, an event stream or a long poll.
 *
 * It does what the bare-bones figures measured: no validation, no metrics, no origin
 * checks, no slow-reader care; only the one `since` comparison without which a long poll
 * subscriber could not start. Each change is serialized once. `duties` adds what a server that
 * keeps the project's promises cannot skip, one at a time, to measure what each costs.
 *
 * @param duties The duties it takes on besides; none by default.
 * @returns The running server, on a free loopback port.
 */
export async function startBareServer(duties: BareDuties = {}): Promise<BareServer> {
  const bare = await createBareHandler(duties);
  const controller = new AbortController();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: controller.signal, onListen: () => {} },
    bare.handle,
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/`,
    async stop() {
      bare.release();
      controller.abort();
      await server.finished;
      bare.close();
    },
  };
}
