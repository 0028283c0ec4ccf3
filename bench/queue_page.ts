/** A page following a drop's `/queue/status` from a chosen source address, over one transport. */
import { AddressedConnection } from "./addressed_http.ts";
import type { Transport } from "./subscribers.ts";

/** What a page reads of each status message. */
export interface QueueMessage {
  readonly phase: "before" | "queueing" | "open" | "soldOut";
  readonly seed: string | null;
  readonly commitment: string | null;
  readonly servingUpTo: number;
  readonly version: number;
  readonly epoch?: string;
}

/** An open page. */
export interface QueuePage {
  /** The newest message it has. */
  readonly latest: QueueMessage;
  /** Closes its connection; no more calls follow. */
  close(): void;
}

/** What a page tells its owner. */
export interface QueuePageEvents {
  /** A message newer than the one it had (the first one too). */
  onMessage(message: QueueMessage): void;
  /** Its connection failed after it had opened. */
  onLost(error: Error): void;
}

/** A version the feed never had, so that the first long poll answers at once. */
const UNSEEN = "999999999999999";

/**
 * Opens a page on `/queue/status?product=ID` and resolves once it has the first message.
 *
 * @param base The server's URL.
 * @param address The page's source address.
 * @param transport WebSocket, Server-Sent Events or long polling.
 * @param product The drop's product.
 * @param events Where its messages go.
 * @returns The page.
 * @throws {Error} When it cannot connect or the server refuses it.
 */
export async function openQueuePage(
  base: URL,
  address: string,
  transport: Transport,
  product: string,
  events: QueuePageEvents,
): Promise<QueuePage> {
  const path = `/queue/status?product=${encodeURIComponent(product)}`;
  const connection = await AddressedConnection.open(base, address);
  const first = Promise.withResolvers<void>();
  let latest: QueueMessage | undefined;
  let closed = false;
  const see = (message: QueueMessage) => {
    if (latest !== undefined && message.version <= latest.version) return;
    latest = message;
    events.onMessage(message);
    first.resolve();
  };
  connection.onClose = (error) => {
    if (closed) return;
    closed = true;
    if (latest === undefined) first.reject(error);
    else events.onLost(error);
  };
  const refused = (status: number) => {
    connection.close();
    throw new Error(`${transport} page answered ${status}`);
  };
  if (transport === "ws") {
    const status = await connection.upgrade(path, base.origin, (text) => see(JSON.parse(text)));
    if (status !== 101) refused(status);
  } else if (transport === "sse") {
    let pending = "";
    const status = await connection.stream(path, { accept: "text/event-stream" }, (text) => {
      pending += text;
      const end = pending.lastIndexOf("\n\n");
      if (end < 0) return;
      for (const match of pending.slice(0, end).matchAll(/^data: (.*)$/gm)) {
        see(JSON.parse(match[1]));
      }
      pending = pending.slice(end + 2);
    });
    if (status !== 200) refused(status);
  } else {
    // Each answer asks again from the version it brought; a timed-out poll brings the same one.
    const poll = async () => {
      let since = UNSEEN;
      while (!closed) {
        const { status, body } = await connection.request("GET", `${path}&since=${since}`);
        if (status !== 200) throw new Error(`long poll answered ${status}: ${body}`);
        const message: QueueMessage = JSON.parse(body);
        see(message);
        since = `${message.epoch}.${message.version}`;
      }
    };
    poll().catch((error) => {
      connection.close();
      connection.onClose(error);
    });
  }
  await first.promise;
  return {
    get latest() {
      return latest!;
    },
    close() {
      closed = true;
      connection.close();
    },
  };
}
