/** An HTTP/1.1 client on one bare TCP socket: raw bytes for tests, light requests for load tools. */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const HEAD_END = new Uint8Array([13, 10, 13, 10]);

/** One parsed answer. */
export interface RawResponse {
  /** The status code. */
  readonly status: number;
  /** Header names (lower case) and values. */
  readonly headers: Headers;
  /** The body, decoded as UTF-8. */
  readonly body: string;
}

/**
 * One kept-alive connection that sends a request at a time and reads its answer.
 *
 * Tests use it for what fetch will not send or cannot time: garbage, half requests, a stream
 * that never reads. Load tools use it because `fetch` keeps its own pool and allocates a Request
 * and a Response per call, while a load tool that holds 8,000 sockets per process, and shares two
 * cores with the server it measures, needs exactly one socket per subscriber and as little work
 * per message as possible; so the read buffer starts small and grows only as an answer needs.
 * It understands only what our server sends: `content-length` bodies, and `chunked` event streams.
 */
export class RawHttpConnection {
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
   * Opens a TCP connection to the server that `base` names.
   *
   * @param base Any URL on the server; only its host and port are used.
   * @returns The open connection.
   */
  static async open(base: string | URL): Promise<RawHttpConnection> {
    const url = new URL(base);
    const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port || 80) });
    conn.setNoDelay(true);
    return new RawHttpConnection(conn, url.host);
  }

  /**
   * Sends bytes as they are: a request, part of one, or garbage.
   *
   * @param data Text (encoded as UTF-8) or bytes.
   */
  async write(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    for (let offset = 0; offset < bytes.length;) {
      offset += await this.#conn.write(bytes.subarray(offset));
    }
  }

  /**
   * Reads one answer, tolerating a server that closes or resets the connection.
   *
   * @returns The answer (its body cut short if the server closed mid-body), or undefined when
   *   the server closed the connection before a whole head.
   */
  async read(): Promise<RawResponse | undefined> {
    return await this.#readAnswer(false);
  }

  /**
   * Sends raw request bytes and reads the answer.
   *
   * @param data The whole request.
   * @returns The answer, or undefined when the server closed the connection.
   */
  async request(data: string | Uint8Array): Promise<RawResponse | undefined> {
    await this.write(data);
    return await this.read();
  }

  /**
   * Sends a well-formed request and reads its whole answer, failing on anything less.
   *
   * @param method The HTTP method.
   * @param path The path and query.
   * @param body A form-encoded body, or undefined for none.
   * @returns The answer.
   * @throws {Error} When the server closes the connection or answers without a content-length.
   */
  async send(method: string, path: string, body?: string): Promise<RawResponse> {
    await this.#sendRequest(method, path, body, "");
    return (await this.#readAnswer(true))!;
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
    await this.#sendRequest("GET", path, undefined, "accept: text/event-stream\r\n");
    const { status } = (await this.#readHead(true))!;
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

  /** Closes the connection (abruptly, if a request is half sent); safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer.
    }
  }

  async #sendRequest(method: string, path: string, body: string | undefined, extra: string) {
    let text = `${method} ${path} HTTP/1.1\r\nhost: ${this.#host}\r\n${extra}`;
    if (body !== undefined) {
      text += "content-type: application/x-www-form-urlencoded\r\n" +
        `content-length: ${encoder.encode(body).byteLength}\r\n\r\n${body}`;
    } else text += "\r\n";
    await this.write(text);
  }

  /**
   * Reads a head and its `content-length` body. A strict read throws where a lenient one gives
   * up: undefined for a connection lost before the head, a short body for one lost after it.
   */
  async #readAnswer(strict: boolean): Promise<RawResponse | undefined> {
    const head = await this.#readHead(strict);
    if (head === undefined) return undefined;
    const declared = head.headers.get("content-length");
    if (strict && declared === null) throw new Error(`Answer has no content-length: ${head.text}`);
    const length = Number(declared ?? 0);
    while (this.#length < length) {
      if (strict) await this.#fill();
      else if (!await this.#tryFill()) break;
    }
    const taken = Math.min(length, this.#length);
    const body = decoder.decode(this.#buffer.subarray(0, taken));
    this.#consume(taken);
    return { status: head.status, headers: head.headers, body };
  }

  /** Reads a head; strict and lenient as in `#readAnswer`. */
  async #readHead(
    strict: boolean,
  ): Promise<{ status: number; headers: Headers; text: string } | undefined> {
    let end;
    while ((end = indexOf(this.#buffer.subarray(0, this.#length), HEAD_END)) < 0) {
      if (strict) await this.#fill();
      else if (!await this.#tryFill()) return undefined;
    }
    const text = decoder.decode(this.#buffer.subarray(0, end));
    this.#consume(end + HEAD_END.length);
    const [statusLine, ...lines] = text.split("\r\n");
    const headers = new Headers();
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    return { status: Number(statusLine.split(" ")[1]), headers, text };
  }

  /** Reads more bytes into the buffer, growing it when full; throws when the server closed. */
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

  /** Like `#fill`, but answers false when the server closed or reset the connection. */
  async #tryFill(): Promise<boolean> {
    try {
      await this.#fill();
      return true;
    } catch {
      return false;
    }
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
