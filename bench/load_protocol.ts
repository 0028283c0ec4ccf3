/** The messages between `bench/load.ts` and its children: one JSON object per line. */

/** What the parent asks a child to do. */
export type ParentMessage =
  /** Wait for every subscriber to reach a version; answer `armed` at once, `reached` later. */
  | { type: "arm"; version: number }
  /** Count subscribers below a version, duplicates and losses; answer `checked`. */
  | { type: "check"; version: number }
  /** Close every subscriber and exit. */
  | { type: "close" };

/** What a child tells the parent. */
export type ChildMessage =
  | {
    type: "opened";
    opened: number;
    failed: number;
    firstError?: string;
    /** Wall-clock times of the first connect and the last first state. */
    start: number;
    end: number;
  }
  | { type: "armed" }
  /** The wall-clock time at which the child's last subscriber reached the armed version. */
  | { type: "reached"; version: number; at: number }
  | {
    type: "checked";
    behind: number;
    duplicates: number;
    lost: number;
    firstLoss?: string;
  };

const encoder = new TextEncoder();

/**
 * Writes one message as a line of JSON.
 *
 * @param writer Where to write (a child's stdin, or stdout).
 * @param message The message.
 */
export async function writeMessage(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  message: ParentMessage | ChildMessage,
): Promise<void> {
  await writer.write(encoder.encode(JSON.stringify(message) + "\n"));
}

/**
 * Reads a byte stream as lines of JSON.
 *
 * @param stream A child's stdout, or stdin.
 * @returns The parsed messages, in order, until the stream ends.
 */
export async function* readMessages<T>(stream: ReadableStream<Uint8Array>): AsyncGenerator<T> {
  let pending = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 1);
      if (line.trim() !== "") yield JSON.parse(line) as T;
    }
  }
}
