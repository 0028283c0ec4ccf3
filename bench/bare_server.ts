/** The baseline for the benches: a bare-bones Deno server that pushes a count, with no checks. */

/** A listening baseline server. */
export interface BareServer {
  /** Its URL, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  /** Stops it. */
  stop(): Promise<void>;
}

/**
 * Starts the smallest server our subscribers can follow: `POST /cart` changes the count and
 * pushes it, `GET /cart/status` is a WebSocket, an event stream or a long poll.
 *
 * It does what the bare-bones figures measured: no validation, no metrics, no origin
 * checks, no slow-reader care; only the one `since` comparison without which a long poll
 * subscriber could not start. Each change is serialized once.
 *
 * @returns The running server, on a free loopback port.
 */
export function startBareServer(): BareServer {
  const encoder = new TextEncoder();
  let inventoryCount = 1_000_000;
  let version = 0;
  let json = JSON.stringify({ inventoryCount, version });
  const sockets = new Set<WebSocket>();
  const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  let waiters: ((json: string) => void)[] = [];
  const controller = new AbortController();
  const headers = { "content-type": "application/json" };

  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: controller.signal, onListen: () => {} },
    async (request) => {
      const url = new URL(request.url);
      if (request.method === "POST") {
        const body = await request.text();
        inventoryCount += body.includes("remove") ? 1 : -1;
        version++;
        json = JSON.stringify({ inventoryCount, version });
        for (const socket of sockets) socket.send(json);
        const frame = encoder.encode(`id: ${version}\ndata: ${json}\n\n`);
        for (const stream of streams) stream.enqueue(frame);
        const woken = waiters;
        waiters = [];
        for (const wake of woken) wake(json);
        return new Response(json, { headers });
      }
      if (request.headers.get("upgrade") === "websocket") {
        const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
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
      if (since !== null && since !== String(version)) return new Response(json, { headers });
      const answer = await new Promise<string>((resolve) => waiters.push(resolve));
      return new Response(answer, { headers });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/`,
    async stop() {
      for (const socket of sockets) socket.close();
      for (const wake of waiters) wake(json);
      for (const stream of streams) stream.close();
      controller.abort();
      await server.finished;
    },
  };
}
