/** Long polling on `GET /cart/status`: hold the request until the cart changes or time runs out. */
import type { ShoppingCart } from "../inventory/cart.ts";
import { HttpError, jsonResponse } from "./http_error.ts";
import type { PollGate } from "../realtime/poll_gate.ts";

/**
 * Reads the optional `since` query parameter.
 *
 * @param url The request URL.
 * @returns The version the client has, or undefined when not given.
 * @throws {HttpError} 400 when given twice or not a whole number of zero or more.
 *
 * @example
 * ```ts
 * console.log(sinceVersion(new URL("http://x/cart/status?since=4"))); // 4
 * ```
 */
export function sinceVersion(url: URL): number | undefined {
  const values = url.searchParams.getAll("since");
  if (values.length === 0) return undefined;
  if (values.length > 1) {
    throw new HttpError(400, 'Parameter "since" is given more than once');
  }
  const since = /^\d{1,15}$/.test(values[0]) ? Number(values[0]) : NaN;
  if (!Number.isSafeInteger(since)) {
    throw new HttpError(
      400,
      'Parameter "since" must be a whole number of zero or more',
    );
  }
  return since;
}

/**
 * Answers a long poll: at once when the client is behind, else at the next change or timeout.
 *
 * A client that disconnects aborts `request.signal`, which removes its waiter and its timer. The
 * answer goes out at the next pass of the cart's {@linkcode PollGate}: at once on an idle server,
 * conflated with other changes under a storm of them; always with the newest state.
 *
 * @param cart The shared cart.
 * @param gate The cart's gate, through which every long poll is answered.
 * @param request The incoming request.
 * @param url The parsed request URL.
 * @param timeoutMs How long to wait before answering the current state.
 * @returns `{inventoryCount, version}` with `Cache-Control: no-store`.
 * @throws {HttpError} 400 for a bad `since`.
 */
export async function longPollResponse(
  cart: ShoppingCart,
  gate: PollGate,
  request: Request,
  url: URL,
  timeoutMs: number,
): Promise<Response> {
  const since = sinceVersion(url);
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  const onClientGone = () => timeout.abort();
  if (request.signal.aborted) timeout.abort();
  request.signal.addEventListener("abort", onClientGone, { once: true });
  try {
    await cart.nextChange(since, timeout.signal);
    return jsonResponse((await gate.through()).json);
  } finally {
    clearTimeout(timer);
    request.signal.removeEventListener("abort", onClientGone);
  }
}
