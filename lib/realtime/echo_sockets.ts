/** `GET /echo`: the demo's WebSocket echo, for checking that WebSockets reach the server. */
import { CLOSE_GOING_AWAY } from "./websocket_hub.ts";

/**
 * The open echo sockets: each greets with `connected!` and sends back every message it gets.
 * They are counted (they hold a connection as any WebSocket does) and closed with 1001 by
 * `close()`, after which a new one is closed as soon as it opens.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const echoes = new EchoSockets();
 * assert.equal(echoes.size, 0);
 * echoes.close();
 * assert.throws(() => echoes.accept(new Request("http://x/echo")));
 * ```
 */
export class EchoSockets {
  readonly #sockets = new Set<WebSocket>();
  #closed = false;

  /** Echo sockets held now, opening ones too. */
  get size(): number {
    return this.#sockets.size;
  }

  /**
   * Upgrades a request to an echo socket.
   *
   * @param request A request with `Upgrade: websocket`.
   * @returns The 101 response.
   * @throws {TypeError} When the request is not an upgrade.
   */
  accept(request: Request): Response {
    const { socket, response } = Deno.upgradeWebSocket(request);
    this.#sockets.add(socket);
    socket.addEventListener("open", this.#onOpen);
    socket.addEventListener("message", this.#onMessage);
    socket.addEventListener("close", this.#onEnd);
    socket.addEventListener("error", this.#onEnd);
    return response;
  }

  readonly #onOpen = (event: Event) => {
    const socket = event.target as WebSocket;
    if (this.#closed) this.#close(socket);
    else socket.send("connected!");
  };

  readonly #onMessage = (event: MessageEvent) => (event.target as WebSocket).send(event.data);

  readonly #onEnd = (event: Event) => this.#sockets.delete(event.target as WebSocket);

  /** Closes every echo socket with 1001; later ones are closed as they open. */
  close(): void {
    this.#closed = true;
    for (const socket of [...this.#sockets]) this.#close(socket);
  }

  #close(socket: WebSocket): void {
    // Deno may not fire `close` for a close we start (deno#27924): forget the socket now.
    this.#sockets.delete(socket);
    try {
      socket.close(CLOSE_GOING_AWAY, "server stopping");
    } catch {
      // Not open yet, or already closing: a socket still opening is closed by its open event.
    }
  }
}
