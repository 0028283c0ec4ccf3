/** A bare HTTP/1.1 keep-alive client on one TCP socket: light enough to hold thousands per process. */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const HEAD_END = new Uint8Array([13, 10, 13, 10]);

/** One answered request. */
export interface RawResponse {
  /** The HTTP status code. */
  readonly status: number;
  /** The body, decoded as UTF-8. */
  readonly body: string;
}

/**
 * One keep-alive connection that sends a request at a time and reads its answer.
 *
 * `fetch` keeps its own pool and allocates a Request and a Response per call; a load tool that
 * holds 8,000 sockets per process, and shares two cores with the server it measures, needs
 * exactly one socket per subscriber and as little work per message as possible. It understands
 * only what our server sends: `content-length` bodies, and `chunked` event streams.
 */
export class HttpConnection {
  readonly #conn: Deno.TcpConn;
  readonly #host: string;
  #buffer = new Uint8Array(1024);
  #length = 0;
  #closed = false;

  private constructor(conn: Deno.TcpConn, host: string) {
    this.#conn = conn;
    this.#host = host;
  }

  /**
   * Opens a TCP connection to the server that `url` names.
   *
   * @param url Any URL on the server; only its host and port are used.
   * @returns The connection.
   */
  static async open(url: URL): Promise<HttpConnection> {
    const conn = await Deno.connect({
      hostname: url.hostname,
      port: Number(url.port || 80),
    });
    conn.setNoDelay(true);
    return new HttpConnection(conn, url.host);
  }

  /**
   * Sends a request and reads its whole answer.
   *
   * @param method The HTTP method.
   * @param path The path and query.
   * @param body A form-encoded body, or undefined for none.
   * @returns The status and body.
   * @throws {Error} When the server closes the connection or answers with a chunked body.
   */
  async request(method: string, path: string, body?: string): Promise<RawResponse> {
    await this.#send(method, path, body, "");
    const head = await this.#readHead();
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
    if (!Number.isSafeInteger(length)) {
      throw new Error(`Answer has no content-length: ${head}`);
    }
    while (this.#length < length) await this.#fill();
    const text = decoder.decode(this.#buffer.subarray(0, length));
    this.#consume(length);
    return { status: Number(head.slice(9, 12)), body: text };
  }

  /**
   * Opens an event stream and calls `onText` with each piece of it as it arrives.
   *
   * The pieces still hold the chunked encoding's size lines; our server writes each event in
   * one chunk, so a reader that looks for whole `id:` lines between blank lines is not misled.
   *
   * @param path The path and query.
   * @param onText Called with each decoded piece of the body.
   * @param onEnd Called once when the stream ends or fails after the head was read.
   * @returns Resolves with the status once the head is read; the stream then goes on until closed.
   */
  async stream(
    path: string,
    onText: (text: string) => void,
    onEnd: (error: unknown) => void,
  ): Promise<number> {
    await this.#send("GET", path, undefined, "accept: text/event-stream\r\n");
    const head = await this.#readHead();
    const status = Number(head.slice(9, 12));
    const pump = async () => {
      for (;;) {
        if (this.#length > 0) {
          onText(decoder.decode(this.#buffer.subarray(0, this.#length)));
          this.#length = 0;
        }
        await this.#fill();
      }
    };
    pump().catch((error) => {
      this.close();
      onEnd(error);
    });
    return status;
  }

  /** Closes the socket; a pending read then fails. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer.
    }
  }

  async #send(method: string, path: string, body: string | undefined, extra: string) {
    let text = `${method} ${path} HTTP/1.1\r\nhost: ${this.#host}\r\n${extra}`;
    if (body !== undefined) {
      text += "content-type: application/x-www-form-urlencoded\r\n" +
        `content-length: ${encoder.encode(body).byteLength}\r\n\r\n${body}`;
    } else text += "\r\n";
    const bytes = encoder.encode(text);
    let written = 0;
    while (written < bytes.byteLength) {
      written += await this.#conn.write(bytes.subarray(written));
    }
  }

  async #readHead(): Promise<string> {
    for (;;) {
      const end = indexOf(this.#buffer.subarray(0, this.#length), HEAD_END);
      if (end >= 0) {
        const head = decoder.decode(this.#buffer.subarray(0, end));
        this.#consume(end + HEAD_END.length);
        return head;
      }
      await this.#fill();
    }
  }

  async #fill(): Promise<void> {
    if (this.#length === this.#buffer.byteLength) {
      const bigger = new Uint8Array(this.#buffer.byteLength * 2);
      bigger.set(this.#buffer);
      this.#buffer = bigger;
    }
    const n = await this.#conn.read(this.#buffer.subarray(this.#length));
    if (n === null) throw new Error("Server closed the connection");
    this.#length += n;
  }

  #consume(n: number): void {
    this.#buffer.copyWithin(0, n, this.#length);
    this.#length -= n;
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}
