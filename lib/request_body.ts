/** Reads a request body as text, refusing bodies over a size limit before they are buffered. */
import { HttpError } from "./http_error.ts";

/**
 * Reads at most `limit` bytes of a request body and decodes them as strict UTF-8.
 *
 * @param request The incoming request.
 * @param limit The largest body accepted, in bytes.
 * @returns The body text ("" when there is none).
 * @throws {HttpError} 413 when the body is larger than the limit, 400 when it is not UTF-8.
 *
 * @example
 * ```ts
 * const text = await readLimitedText(new Request("http://x/", { method: "POST", body: "a=1" }), 4096);
 * console.log(text); // a=1
 * ```
 */
export async function readLimitedText(
  request: Request,
  limit: number,
): Promise<string> {
  const tooLarge = () => new HttpError(413, `Body is larger than ${limit} bytes`);
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge();
  // A declared length is enforced by the HTTP layer, so the body can be read in one go; touching
  // `request.body` first would make Deno take the slower stream path.
  if (declared !== null) return decodeStrict(new Uint8Array(await request.arrayBuffer()));
  if (request.body === null) return "";

  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) throw tooLarge();
      chunks.push(value);
    }
  } finally {
    // Stops reading a refused body without waiting for the rest of it.
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return decodeStrict(bytes);
}

const strictDecoder = new TextDecoder("utf-8", { fatal: true });

function decodeStrict(bytes: Uint8Array): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new HttpError(400, "Body is not valid UTF-8");
  }
}
