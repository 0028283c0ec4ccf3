/** The order service's callbacks: a payment paid or cancelled, Standard-Webhooks-signed, answered idempotently. */
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import type { Payments } from "../inventory/payments.ts";
import { inventoryCountOf } from "../inventory/ledger.ts";

/** What a callback's answer needs. */
export interface PaymentCallbackOptions {
  /** The payments awaited. */
  readonly payments: Payments;
  /** The Standard Webhooks secret the order service signs with: the order webhook's. */
  readonly secret: string;
  /**
   * Writes a line per refused callback (a bad signature is a wrong secret or a forgery); the
   * server throttles it (lib/orders/refusal_throttle.ts).
   */
  readonly log: (line: string) => void;
}

/** The longest reason a refused signature's log line quotes. */
const MAX_LOGGED_REASON = 100;

/**
 * Answers `POST /orders/{orderId}/paid` or `/cancelled`: checks the Standard Webhooks signature
 * on the raw body (timestamps more than 5 minutes off refused) with the `standardwebhooks`
 * package, then settles the payment.
 *
 * Answers: 200 `{"orderId", "status": "paid", "product", "inventoryCount", "version"}` or
 * `{"orderId", "status": "cancelled"}` (the same again when asked again); 401 for a missing,
 * forged or stale signature (nothing changes; logged, without the secret); 400 for a body that
 * is not a JSON object; 404 for an order never sent to pay (or forgotten); 503 with
 * `Retry-After: 1` for one whose checkout call has not ended yet (the service's 202 is on its way); 409 `{"error", "status"}` for one
 * that ended otherwise (its time ran out and its unit went back, or it was paid or cancelled).
 *
 * @param options The payments, the secret and the log.
 * @param orderId The order, from the path.
 * @param how Paid or cancelled, from the path.
 * @param headers The request's headers.
 * @param body The raw body, as text.
 * @returns The answer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Payments } from "../inventory/payments.ts";
 * const lines: string[] = [];
 * const options = { payments: {} as Payments, secret: `whsec_${btoa("0123456789abcdef")}`, log: (line: string) => lines.push(line) };
 * const answer = await paymentCallback(options, "o1", "paid", new Headers(), "{}");
 * assert.equal(answer.status, 401);
 * assert.equal(lines.length, 1);
 * ```
 */
export async function paymentCallback(
  options: PaymentCallbackOptions,
  orderId: string,
  how: "paid" | "cancelled",
  headers: Headers,
  body: string,
): Promise<Response> {
  let payload: unknown;
  try {
    payload = new Webhook(options.secret).verify(body, {
      "webhook-id": headers.get("webhook-id") ?? "",
      "webhook-timestamp": headers.get("webhook-timestamp") ?? "",
      "webhook-signature": headers.get("webhook-signature") ?? "",
    });
  } catch (error) {
    // Signed, but not JSON: the package parses the body once the signature holds.
    if (!(error instanceof WebhookVerificationError)) payload = undefined;
    else return refuse(options, orderId, how, error);
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    return Response.json({ error: "The body must be a JSON object" }, { status: 400 });
  }
  const settled = await options.payments.settle(orderId, how);
  switch (settled.kind) {
    case "unknown":
      return Response.json({ error: "unknown order" }, { status: 404 });
    case "not yet":
      // Sent before the service's 202 reached us: its sender retries a 503, and finds it then.
      return Response.json(
        { error: "the order is still being sent to pay: try again" },
        { status: 503, headers: { "retry-after": "1" } },
      );
    case "paid":
      return Response.json({
        orderId,
        status: "paid",
        ...(settled.record && {
          product: settled.record.info.id,
          inventoryCount: inventoryCountOf(settled.record),
          version: settled.record.version,
        }),
      });
    case "cancelled":
      return Response.json({ orderId, status: "cancelled" });
    case "ended":
      return Response.json({
        error: settled.ended === "expired"
          ? "the payment's time ran out: its unit went back"
          : `the order was ${settled.ended} already`,
        status: settled.ended,
      }, { status: 409 });
  }
}

/** Logs a refused signature (never the secret) and answers 401. */
function refuse(
  options: PaymentCallbackOptions,
  orderId: string,
  how: string,
  error: Error,
): Response {
  const reason = error.message.slice(0, MAX_LOGGED_REASON);
  options.log(
    `Order service callback refused (401): ${how} of order ${JSON.stringify(orderId)}: ` +
      `${reason} (a wrong --webhook-secret, a forgery, or a clock more than 5 minutes off)`,
  );
  return Response.json({ error: "bad signature" }, { status: 401 });
}
