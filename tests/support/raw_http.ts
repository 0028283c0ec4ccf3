/** An HTTP/1.1 client on a bare TCP connection, for requests fetch will not send or cannot time. */

/** One parsed answer. */
export interface RawResponse {
  /** The status code. */
  status: number;
  /** Header names (lower case) and values. */
  headers: Headers;
  /** The body as text. */
  body: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A kept-alive connection that sends raw bytes and reads `Content-Length` answers. */
export class RawHttpConnection {
  readonly #conn: Deno.TcpConn;
  #pending = new Uint8Array(0);

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /**
   * Connects to the server behind a URL.
   *
   * @param base The server URL.
   * @returns The open connection.
   */
  static async open(base: string): Promise<RawHttpConnection> {
    const url = new URL(base);
    return new RawHttpConnection(
      await Deno.connect({ hostname: url.hostname, port: Number(url.port) }),
    );
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
   * Reads one answer.
   *
   * @returns The answer, or undefined when the server closed the connection first.
   */
  async read(): Promise<RawResponse | undefined> {
    let end;
    while ((end = indexOfBlankLine(this.#pending)) < 0) {
      if (!await this.#fill()) return undefined;
    }
    const [statusLine, ...lines] = decoder.decode(this.#pending.subarray(0, end)).split("\r\n");
    this.#pending = this.#pending.slice(end + 4);
    const headers = new Headers();
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    const length = Number(headers.get("content-length") ?? 0);
    while (this.#pending.length < length) {
      if (!await this.#fill()) break;
    }
    const body = decoder.decode(this.#pending.subarray(0, length));
    this.#pending = this.#pending.slice(length);
    return { status: Number(statusLine.split(" ")[1]), headers, body };
  }

  /**
   * Sends a request and reads its answer.
   *
   * @param data The whole request.
   * @returns The answer, or undefined when the server closed the connection.
   */
  async request(data: string | Uint8Array): Promise<RawResponse | undefined> {
    await this.write(data);
    return await this.read();
  }

  /**
   * Reads until the server closes the connection.
   *
   * @returns Everything left unread, as text.
   */
  async readToEnd(): Promise<string> {
    while (await this.#fill());
    return decoder.decode(this.#pending);
  }

  /** Closes the connection (abruptly, if a request is half sent). */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    let n;
    try {
      n = await this.#conn.read(chunk);
    } catch {
      return false; // Reset by the server.
    }
    if (n === null) return false;
    const joined = new Uint8Array(this.#pending.length + n);
    joined.set(this.#pending);
    joined.set(chunk.subarray(0, n), this.#pending.length);
    this.#pending = joined;
    return true;
  }
}

function indexOfBlankLine(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}
