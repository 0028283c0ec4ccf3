/** The order webhook alone: how the end of its time is answered, whatever the backoff's jitter. */
import assert from "node:assert/strict";
import type { Order } from "../lib/inventory/checkout.ts";
import { orderWebhook } from "../lib/orders/order_webhook.ts";
import { startOrderService } from "./support/order_service.ts";

const SECRET = `whsec_${btoa("order-secret-0123456789")}`;
const ORDER: Order = {
  orderId: "6f1c09a2-0000-4000-8000-000000000001",
  product: "night-sky-print",
  session: "6f1c09a2-0000-4000-8000-000000000002",
  price: { amount: "40.00", currency: "EUR" },
  heldAt: "2026-01-01T00:00:00.000Z",
};

Deno.test("a service that only fails is answered as failed, wherever the time runs out", async () => {
  await using service = await startOrderService({ secret: SECRET, otherwise: { status: 503 } });
  // No backoff at all: the time almost always runs out during a try, not during a pause.
  const webhook = orderWebhook({ url: service.url, secret: SECRET, random: () => 0 });
  const answer = await webhook.place(ORDER, AbortSignal.timeout(200));
  assert.deepEqual(answer, {
    kind: "failed",
    reason: "the order service answered 503",
    timedOut: false,
    status: 503,
  });
  assert.ok(service.requests.length > 1);
});

Deno.test("a first try that never comes back is a timeout", async () => {
  await using service = await startOrderService({ secret: SECRET, otherwise: "hang" });
  const webhook = orderWebhook({ url: service.url, secret: SECRET });
  const answer = await webhook.place(ORDER, AbortSignal.timeout(100));
  assert.deepEqual(answer, {
    kind: "failed",
    reason: "the order service did not answer in time",
    timedOut: true,
    status: 0,
  });
  assert.equal(service.requests.length, 1);
});
