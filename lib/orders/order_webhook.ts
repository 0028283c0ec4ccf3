/** The shop's order service over HTTP: a signed, idempotent POST, retried within the deadline. */
import type { Order, OrderAnswer, OrderService } from "../inventory/checkout.ts";
import { readPrefix } from "./answer_prefix.ts";

/** How to reach the order service. */
export interface OrderWebhookOptions {
  /** Where orders are posted. */
  readonly url: string;
  /** The secret of the HMAC-SHA256 signature of each body. */
  readonly secret: string;
  /** Called after each try with its duration in seconds and its status (0: no answer). */
  readonly onAttempt?: (seconds: number, status: number) => void;
  /** A source of numbers in [0, 1), for the backoff's jitter. */
  readonly random?: () => number;
}

/** The header that carries the signature: `sha256=<hex of HMAC-SHA256(secret, body)>`. */
export const SIGNATURE_HEADER = "x-inventory-signature";

/** The first retry waits up to this long, in ms; each later one twice as long, up to the cap. */
const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 1_000;
/** The most of an order service's reason shown to a shopper. */
const MAX_REASON_LENGTH = 200;
/** The most of a refusal's body read for its reason: a JSON reason fits many times over. */
const MAX_REFUSAL_BYTES = 16 * 1024;

const encoder = new TextEncoder();

/**
 * Signs a body the way the order service checks it.
 *
 * @param secret The shared secret.
 * @param body The exact bytes posted, as text.
 * @returns `sha256=` and the HMAC-SHA256 in lowercase hex.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.match(await signBody("secret", "{}"), /^sha256=[0-9a-f]{64}$/);
 * ```
 */
export async function signBody(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
  return `sha256=${[...mac].map((byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * An {@linkcode OrderService} that posts each order as JSON to a URL.
 *
 * Every try of one order carries the same `Idempotency-Key` (the order id) and the body's
 * signature. The status line decides: a 2xx books it, its body unread; a 4xx refuses it, with the
 * service's reason (its JSON `error` or `message`, else its text, at most 200 characters) from
 * the first 16 KiB of its body, read within the signal's time; a 5xx, a redirect (never followed)
 * or a connection error is tried again after a jittered backoff (full jitter, 100 ms doubling up
 * to 1 s) until the signal aborts. The end is a timeout when the first try was still unanswered,
 * else the last try's failure.
 *
 * @param options The URL, the secret and a hook for each try.
 * @returns The service.
 */
export function orderWebhook(options: OrderWebhookOptions): OrderService {
  const random = options.random ?? Math.random;
  return {
    async place(order: Order, signal: AbortSignal): Promise<OrderAnswer> {
      const body = JSON.stringify(order);
      const headers = {
        "content-type": "application/json",
        "idempotency-key": order.orderId,
        [SIGNATURE_HEADER]: await signBody(options.secret, body),
      };
      let lastFailure = "the order service did not answer";
      for (let attempt = 0;; attempt++) {
        const started = performance.now();
        let status = 0;
        try {
          // A followed 301/302/303 turns the POST into a GET, whose 2xx would sell unbooked.
          const response = await fetch(options.url, {
            method: "POST",
            headers,
            body,
            signal,
            redirect: "manual",
          });
          status = response.status;
          // The status line decides: a booked order's body is never read, so a body that trickles
          // or never ends cannot turn a sale into a timeout, nor fill the memory.
          if (status >= 400 && status < 500) {
            const text = new TextDecoder().decode(
              await readPrefix(response.body, MAX_REFUSAL_BYTES),
            );
            return { kind: "refused", reason: reasonOf(text, status) };
          }
          response.body?.cancel().catch(() => {});
          if (response.ok) return { kind: "accepted" };
          lastFailure = `the order service answered ${status}`;
        } catch {
          if (signal.aborted) {
            // Once a try has failed, the end is that failure, not the jitter's luck of the draw.
            return attempt === 0
              ? {
                kind: "failed",
                reason: "the order service did not answer in time",
                timedOut: true,
              }
              : { kind: "failed", reason: lastFailure, timedOut: false };
          }
          lastFailure = "the order service could not be reached";
        } finally {
          options.onAttempt?.((performance.now() - started) / 1000, status);
        }
        const window = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
        if (!await pause(random() * window, signal)) {
          return { kind: "failed", reason: lastFailure, timedOut: false };
        }
      }
    },
  };
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
