/** A WebSocket client on a bare TCP connection, so a test can stop reading at will. */

/** A WebSocket whose frames are read only when the test asks. */
export interface RawWebSocket {
  /** The TCP connection. */
  readonly conn: Deno.TcpConn;
  /**
   * Reads frames until one satisfies `done` or the server closes; returns the text frames read.
   *
   * @param done Called with each text frame.
   * @returns Text frames in order, and the close code if the server closed.
   */
  readUntil(done: (text: string) => boolean): Promise<{ texts: string[]; closeCode?: number }>;
}

/**
 * Opens a WebSocket by hand: sends the handshake and reads the 101 answer, nothing more.
 *
 * @param base The server's http URL.
 * @param path The path (and query) to upgrade, e.g. `/cart/status?product=poster`.
 * @returns The raw socket.
 * @throws {Error} When the server does not answer 101.
 */
export async function openRawWebSocket(base: string, path: string): Promise<RawWebSocket> {
  const url = new URL(path, base);
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  await conn.write(new TextEncoder().encode(
    `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
      `Sec-WebSocket-Version: 13\r\n\r\n`,
  ));
  let pending = new Uint8Array(0);
  const fill = async (): Promise<boolean> => {
    const chunk = new Uint8Array(64 * 1024);
    const n = await conn.read(chunk);
    if (n === null) return false;
    const joined = new Uint8Array(pending.length + n);
    joined.set(pending);
    joined.set(chunk.subarray(0, n), pending.length);
    pending = joined;
    return true;
  };
  let headerEnd = -1;
  while (headerEnd < 0) {
    if (!await fill()) throw new Error("connection closed during the handshake");
    headerEnd = new TextDecoder().decode(pending).indexOf("\r\n\r\n");
  }
  const head = new TextDecoder().decode(pending.subarray(0, headerEnd));
  if (!head.startsWith("HTTP/1.1 101")) throw new Error(`no upgrade: ${head}`);
  pending = pending.slice(headerEnd + 4);

  return {
    conn,
    async readUntil(done) {
      const texts: string[] = [];
      for (;;) {
        // Server frames are unmasked: 2 header bytes, then a 16- or 64-bit length when needed.
        while (pending.length < 2) if (!await fill()) return { texts };
        const opcode = pending[0] & 0x0f;
        let length = pending[1] & 0x7f;
        let offset = 2;
        if (length === 126) {
          while (pending.length < 4) if (!await fill()) return { texts };
          length = (pending[2] << 8) | pending[3];
          offset = 4;
        } else if (length === 127) {
          while (pending.length < 10) if (!await fill()) return { texts };
          length = Number(new DataView(pending.buffer, pending.byteOffset + 2).getBigUint64(0));
          offset = 10;
        }
        while (pending.length < offset + length) if (!await fill()) return { texts };
        const payload = pending.slice(offset, offset + length);
        pending = pending.slice(offset + length);
        if (opcode === 0x8) {
          return { texts, closeCode: payload.length >= 2 ? (payload[0] << 8) | payload[1] : 1005 };
        }
        if (opcode === 0x1) {
          const text = new TextDecoder().decode(payload);
          texts.push(text);
          if (done(text)) return { texts };
        }
      }
    },
  };
}
