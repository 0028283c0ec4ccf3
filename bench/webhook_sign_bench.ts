/**
 * The cost of a Standard Webhooks signature per call to the order service, and of checking one per
 * callback (npm standardwebhooks, pure JS on the event loop), beside the Web Crypto HMAC it replaced.
 */
import { signedHeaders } from "../lib/orders/order_webhook.ts";
import { Webhook } from "standardwebhooks";

const SECRET = `whsec_${btoa("0123456789abcdef0123456789abcdef")}`;
const BODY = JSON.stringify({
  orderId: crypto.randomUUID(),
  product: "night-sky-print",
  session: crypto.randomUUID(),
  price: { amount: "40.00", currency: "EUR" },
  heldAt: new Date().toISOString(),
});
const AT = Date.now();
const HEADERS = signedHeaders(SECRET, "order-id", BODY, AT);
const encoder = new TextEncoder();

Deno.bench(
  "sign a call (signedHeaders: standardwebhooks)",
  { group: "sign", baseline: true },
  () => {
    signedHeaders(SECRET, "order-id", BODY, AT);
  },
);

Deno.bench(
  "sign a body with Web Crypto HMAC-SHA256 (the old header)",
  { group: "sign" },
  async () => {
    const key = await crypto.subtle.importKey(
      "raw",
      encoder.encode(SECRET),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    await crypto.subtle.sign("HMAC", key, encoder.encode(BODY));
  },
);

Deno.bench("check a callback's signature (standardwebhooks verify)", () => {
  new Webhook(SECRET).verify(BODY, HEADERS);
});
