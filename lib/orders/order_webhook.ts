/** The shop's order service over HTTP: Standard-Webhooks-signed, idempotent POSTs, retried within the deadline. */
import { Webhook } from "standardwebhooks";
import type { ExpiredOrder, Order, OrderAnswer, OrderService } from "../inventory/checkout.ts";
import { readPrefix } from "./answer_prefix.ts";

/** How to reach the order service. */
export interface OrderWebhookOptions {
  /** Where orders are posted. */
  readonly url: string;
  /** The Standard Webhooks secret (`whsec_` and the base64 of the key) signing each call. */
  readonly secret: string;
  /** Called after each try with its duration in seconds and its status (0: no answer). */
  readonly onAttempt?: (seconds: number, status: number) => void;
  /** A source of numbers in [0, 1), for the backoff's jitter. */
  readonly random?: () => number;
  /** The time each call is signed at; the real one by default. */
  readonly now?: () => number;
}

/** The first retry waits up to this long, in ms; each later one twice as long, up to the cap. */
const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 1_000;
/** The most of an order service's reason shown to a shopper. */
const MAX_REASON_LENGTH = 200;
/** The most of a refusal's (or a 202's) body read: a JSON reason or payment URL fits many times over. */
const MAX_REFUSAL_BYTES = 16 * 1024;

/**
 * Signs a call the way Standard Webhooks does, with the `standardwebhooks` package.
 *
 * @param secret The shared secret, `whsec_` and base64.
 * @param id The message's id (`webhook-id`): the same on every try of one message.
 * @param body The exact bytes posted, as text.
 * @param at When it is signed, in ms since the epoch.
 * @returns The three headers `webhook-id`, `webhook-timestamp` (seconds) and `webhook-signature`
 *   (`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const headers = signedHeaders(`whsec_${btoa("0123456789abcdef")}`, "o1", "{}", 1_700_000_000_000);
 * assert.equal(headers["webhook-timestamp"], "1700000000");
 * assert.match(headers["webhook-signature"], /^v1,[A-Za-z0-9+/]+=*$/);
 * ```
 */
export function signedHeaders(
  secret: string,
  id: string,
  body: string,
  at: number,
): Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string> {
  const timestamp = new Date(Math.floor(at / 1000) * 1000);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp.getTime() / 1000),
    "webhook-signature": new Webhook(secret).sign(id, timestamp, body),
  };
}

/**
 * An {@linkcode OrderService} that posts each order as JSON to a URL.
 *
 * Every try of one order carries the same `Idempotency-Key` and `webhook-id` (the order id) and a
 * Standard Webhooks signature made at the try. The status line decides: a 2xx books it, its body
 * unread, but a 202's, whose `paymentUrl` (an http(s) URL) sends the shopper to pay; a 4xx refuses
 * it, with the service's reason (its JSON `error` or `message`, else its text, at most 200
 * characters) from the first 16 KiB of its body, read within the signal's time; a 5xx, a redirect
 * (never followed) or a connection error is tried again after a jittered backoff (full jitter,
 * 100 ms doubling up to 1 s) until the signal aborts. The end is a timeout when the first try was
 * still unanswered, else the last try's failure. An expired payment is told the same way, as a
 * Standard Webhooks event `{"type": "order.expired", "timestamp", "data"}`.
 *
 * @param options The URL, the secret and a hook for each try.
 * @returns The service.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const service = orderWebhook({ url: "http://127.0.0.1:9/orders", secret: `whsec_${btoa("0123456789abcdef")}` });
 * assert.equal(typeof service.place, "function");
 * ```
 */
export function orderWebhook(options: OrderWebhookOptions): OrderService {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;

  /** Posts one message until an answer decides it or the signal aborts. */
  async function post(
    id: string,
    body: string,
    extraHeaders: Record<string, string>,
    signal: AbortSignal,
  ): Promise<OrderAnswer> {
    let lastFailure = "the order service did not answer";
    let lastStatus = 0;
    for (let attempt = 0;; attempt++) {
      const started = performance.now();
      let status = 0;
      try {
        // A followed 301/302/303 turns the POST into a GET, whose 2xx would sell unbooked.
        const response = await fetch(options.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...extraHeaders,
            ...signedHeaders(options.secret, id, body, now()),
          },
          body,
          signal,
          redirect: "manual",
        });
        status = response.status;
        // The status line decides: a booked order's body is never read (but a 202's, for its
        // payment page), so a body that trickles or never ends cannot turn a sale into a timeout.
        if (status >= 400 && status < 500) {
          const text = new TextDecoder().decode(
            await readPrefix(response.body, MAX_REFUSAL_BYTES),
          );
          return { kind: "refused", reason: reasonOf(text, status), status };
        }
        if (status === 202) {
          const text = new TextDecoder().decode(
            await readPrefix(response.body, MAX_REFUSAL_BYTES),
          );
          const paymentUrl = paymentUrlOf(text);
          return paymentUrl === undefined ? { kind: "accepted" } : { kind: "payment", paymentUrl };
        }
        response.body?.cancel().catch(() => {});
        if (response.ok) return { kind: "accepted" };
        lastFailure = `the order service answered ${status}`;
        lastStatus = status;
      } catch {
        if (signal.aborted) {
          // Once a try has failed, the end is that failure, not the jitter's luck of the draw.
          return attempt === 0
            ? {
              kind: "failed",
              reason: "the order service did not answer in time",
              timedOut: true,
              status: 0,
            }
            : { kind: "failed", reason: lastFailure, timedOut: false, status: lastStatus };
        }
        lastFailure = "the order service could not be reached";
        lastStatus = 0;
      } finally {
        options.onAttempt?.((performance.now() - started) / 1000, status);
      }
      const window = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
      if (!await pause(random() * window, signal)) {
        return { kind: "failed", reason: lastFailure, timedOut: false, status: lastStatus };
      }
    }
  }

  return {
    place(order: Order, signal: AbortSignal): Promise<OrderAnswer> {
      return post(order.orderId, JSON.stringify(order), {
        "idempotency-key": order.orderId,
      }, signal);
    },
    async expire(order: ExpiredOrder, signal: AbortSignal): Promise<boolean> {
      const body = JSON.stringify({
        type: "order.expired",
        timestamp: new Date(now()).toISOString(),
        data: order,
      });
      // One id per order's expiry: a receiver that sees it twice (a retry) drops the second.
      const answer = await post(`${order.orderId}.expired`, body, {}, signal);
      return answer.kind === "accepted" || answer.kind === "payment";
    },
  };
}

/** The payment page a 202 names: its JSON `paymentUrl`, an http(s) URL; else none. */
function paymentUrlOf(text: string): string | undefined {
  try {
    const given = JSON.parse(text)?.paymentUrl;
    if (typeof given !== "string") return undefined;
    const url = URL.parse(given);
    return url !== null && (url.protocol === "https:" || url.protocol === "http:")
      ? url.href
      : undefined;
  } catch {
    return undefined;
  }
}

/** Waits, unless the signal aborts first. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The reason a refusal gives: its JSON `error` or `message`, else its text; bounded. */
function reasonOf(text: string, status: number): string {
  let reason = text.trim();
  try {
    const value = JSON.parse(text);
    const given = value?.error ?? value?.message;
    if (typeof given === "string") reason = given.trim();
  } catch {
    // Not JSON: the text is the reason.
  }
  if (reason === "") reason = `the order service refused the order (${status})`;
  return reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH)}…` : reason;
}
