/**
 * One HTTP/1.1 connection from a chosen loopback source address, for load tools that must look
 * like many clients: `Deno.connect` and `fetch` cannot choose their source, `node:net` can
 * (`localAddress`). It understands only what our server sends: `content-length` answers, `chunked`
 * event streams, and a WebSocket upgrade's unmasked frames.
 */
import net from "node:net";
import { Buffer } from "node:buffer";

/** One answer read whole. */
export interface AddressedResponse {
  /** The status code. */
  readonly status: number;
  /** The body, as text. */
  readonly body: string;
}

/** How an answer's body goes on after its head. */
type BodyMode =
  | { kind: "length"; remaining: number; chunks: Buffer[] }
  | { kind: "chunked"; remaining: number; onText: (text: string) => void }
  | { kind: "websocket"; onText: (text: string) => void };

/** What the connection waits for next. */
interface Pending {
  /** The head is in: for a stream or an upgrade, the answer's status. */
  head: (status: number) => void;
  /** A `content-length` answer is in whole. */
  done: (response: AddressedResponse) => void;
  fail: (error: Error) => void;
  stream?: (text: string) => void;
}

const HEAD_END = Buffer.from("\r\n\r\n");

/**
 * A kept-alive connection from one source address that sends a request at a time, holds an event
 * stream, or upgrades to a WebSocket and reads its text frames.
 */
export class AddressedConnection {
  readonly #socket: net.Socket;
  readonly #host: string;
  #buffer: Buffer = Buffer.alloc(0);
  #pending: Pending | undefined;
  #mode: BodyMode | undefined;
  #status = 0;
  #closed = false;
  /** Called once when the connection ends or fails after it opened. */
  onClose: (error: Error) => void = () => {};

  private constructor(socket: net.Socket, host: string) {
    this.#socket = socket;
    this.#host = host;
    socket.on("data", (data: Buffer) => this.#read(data));
    socket.on("error", (error: Error) => this.#end(error));
    socket.on("close", () => this.#end(new Error("connection closed")));
  }

  /**
   * Connects to the server that `base` names, from `address`.
   *
   * @param base Any URL on the server; its host and port are used.
   * @param address The source address, in 127.0.0.0/8.
   * @returns The open connection.
   */
  static open(base: URL, address: string): Promise<AddressedConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({
        host: base.hostname,
        port: Number(base.port),
        localAddress: address,
        noDelay: true,
      });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new AddressedConnection(socket, base.host));
      });
    });
  }

  /**
   * Sends one request and reads its `content-length` answer whole.
   *
   * @param method The method.
   * @param path The path and query.
   * @param headers More headers.
   * @param body The body, if any.
   * @returns The answer.
   */
  request(
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: string,
  ): Promise<AddressedResponse> {
    return new Promise((done, fail) => {
      this.#pending = { head: () => {}, done, fail };
      this.#send(method, path, headers, body);
    });
  }

  /**
   * Opens a `chunked` answer (an event stream) and hands on its body's text as it comes.
   *
   * @param path The path and query.
   * @param headers More headers.
   * @param onText Called with each piece of the body.
   * @returns The answer's status, once its head is in.
   */
  stream(
    path: string,
    headers: Record<string, string>,
    onText: (text: string) => void,
  ): Promise<number> {
    return new Promise((head, fail) => {
      this.#pending = { head, done: () => {}, fail, stream: onText };
      this.#send("GET", path, headers);
    });
  }

  /**
   * Upgrades to a WebSocket from `origin` and hands on each text frame; answers pings.
   *
   * @param path The path and query.
   * @param origin The page's origin (the server refuses cross-site upgrades).
   * @param onText Called with each text frame.
   * @returns The answer's status (101), once its head is in.
   */
  upgrade(path: string, origin: string, onText: (text: string) => void): Promise<number> {
    const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
    return new Promise((head, fail) => {
      this.#pending = { head, done: () => {}, fail, stream: onText };
      this.#send("GET", path, {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-key": key,
        "sec-websocket-version": "13",
        origin,
      });
    });
  }

  /** Closes the connection; no more calls follow. */
  close(): void {
    this.#closed = true;
    this.#socket.destroy();
  }

  #send(method: string, path: string, headers: Record<string, string>, body?: string): void {
    const lines = [`${method} ${path} HTTP/1.1`, `host: ${this.#host}`];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    if (body !== undefined) lines.push(`content-length: ${Buffer.byteLength(body)}`);
    this.#socket.write(lines.join("\r\n") + "\r\n\r\n" + (body ?? ""));
  }

  #end(error: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    this.#pending?.fail(error);
    this.#pending = undefined;
    this.onClose(error);
  }

  #read(data: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? data : Buffer.concat([this.#buffer, data]);
    // Each pass takes one whole piece (a head, a body, a chunk, a frame) or waits for more bytes.
    while (!this.#closed && this.#take()) { /* taken */ }
  }

  /** Takes one piece from the buffer; false when more bytes are needed. */
  #take(): boolean {
    const mode = this.#mode;
    if (mode === undefined) return this.#takeHead();
    if (mode.kind === "length") {
      const piece = this.#consume(Math.min(mode.remaining, this.#buffer.length));
      mode.chunks.push(piece);
      mode.remaining -= piece.length;
      if (mode.remaining > 0) return false;
      const pending = this.#pending;
      this.#mode = this.#pending = undefined;
      pending?.done({ status: this.#status, body: Buffer.concat(mode.chunks).toString() });
      return this.#buffer.length > 0;
    }
    if (mode.kind === "chunked") return this.#takeChunk(mode);
    return this.#takeFrame(mode.onText);
  }

  #takeHead(): boolean {
    const end = this.#buffer.indexOf(HEAD_END);
    if (end < 0) return false;
    const head = this.#consume(end + 4).toString("latin1");
    this.#status = Number(head.slice(9, 12));
    const pending = this.#pending;
    const length = /^content-length:\s*(\d+)/im.exec(head);
    if (this.#status === 101 && pending?.stream) {
      this.#mode = { kind: "websocket", onText: pending.stream };
    } else if (/^transfer-encoding:\s*chunked/im.test(head)) {
      this.#mode = { kind: "chunked", remaining: -1, onText: pending?.stream ?? (() => {}) };
    } else this.#mode = { kind: "length", remaining: Number(length?.[1] ?? 0), chunks: [] };
    pending?.head(this.#status);
    if (this.#mode.kind === "length" && this.#mode.remaining === 0) {
      this.#mode = this.#pending = undefined;
      pending?.done({ status: this.#status, body: "" });
    }
    return true;
  }

  #takeChunk(mode: Extract<BodyMode, { kind: "chunked" }>): boolean {
    if (mode.remaining < 0) {
      const end = this.#buffer.indexOf("\r\n");
      if (end < 0) return false;
      const size = parseInt(this.#consume(end + 2).toString("latin1"), 16);
      // The last chunk ends the stream: the server closed it.
      if (size === 0) {
        this.#end(new Error("stream ended"));
        return false;
      }
      mode.remaining = size;
      return true;
    }
    // The chunk and its closing CRLF, whole.
    if (this.#buffer.length < mode.remaining + 2) return false;
    const text = this.#consume(mode.remaining).toString();
    this.#consume(2);
    mode.remaining = -1;
    mode.onText(text);
    return true;
  }

  #takeFrame(onText: (text: string) => void): boolean {
    const buffer = this.#buffer;
    if (buffer.length < 2) return false;
    const opcode = buffer[0] & 0x0f;
    let length = buffer[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buffer.length < 4) return false;
      length = buffer.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (buffer.length < 10) return false;
      length = Number(buffer.readBigUInt64BE(2));
      offset = 10;
    }
    if (buffer.length < offset + length) return false;
    this.#consume(offset);
    const payload = this.#consume(length);
    if (opcode === 1) onText(payload.toString());
    else if (opcode === 9) this.#pong(payload);
    else if (opcode === 8) {
      this.#end(new Error(`closed with ${payload.length >= 2 ? payload.readUInt16BE(0) : 1005}`));
    }
    return true;
  }

  /** Answers a ping: a client's frames are masked (a zero mask leaves the payload as it is). */
  #pong(payload: Buffer): void {
    this.#socket.write(
      Buffer.concat([Buffer.from([0x8a, 0x80 | payload.length, 0, 0, 0, 0]), payload]),
    );
  }

  #consume(n: number): Buffer {
    const piece = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return piece;
  }
}
