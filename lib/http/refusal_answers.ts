/** Each kind of refusal as an answer: its HTTP status, its `error` text and its metric label. */
import type { CheckoutOutcome } from "../inventory/checkout.ts";
import {
  type CheckoutRefusal,
  isAddRefusal,
  isRefusal,
  type Refusal,
  REFUSALS,
} from "../inventory/refusal.ts";
import { limitPerShopperOf, type ProductInfo } from "../inventory/product.ts";
import { HttpError, retryAfterHeader } from "./http_error.ts";

/** How one kind of refusal is answered and counted. */
export interface RefusalAnswer {
  /** The HTTP status. */
  readonly status: number;
  /**
   * The answer's `error` text.
   *
   * @param product The product asked about.
   * @param action What the shopper asked for, when a cart command was refused.
   * @param info What the product is, when the answer names its name or limit.
   * @returns The text.
   */
  readonly message: (
    product: string,
    action?: "add" | "remove" | "checkout",
    info?: ProductInfo,
  ) => string;
  /** The label the refusal is counted under in metrics. */
  readonly metric: string;
}

const notOnSale = (product: string) => `No product "${product}" is on sale`;

/**
 * Each kind of refusal's status, `error` text and metric label: the one place they are set.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(REFUSAL_ANSWERS["sold out"].status, 409);
 * assert.equal(REFUSAL_ANSWERS["retired"].message("tee", "add"), 'No product "tee" is on sale');
 * assert.equal(REFUSAL_ANSWERS["not in cart"].metric, "not_in_cart");
 * ```
 */
export const REFUSAL_ANSWERS: { readonly [kind in Refusal]: RefusalAnswer } = {
  "sold out": { status: 409, message: () => "sold out", metric: "sold_out" },
  "retired": { status: 404, message: notOnSale, metric: "retired" },
  "unknown product": { status: 404, message: notOnSale, metric: "unknown_product" },
  "not in cart": { status: 409, message: () => "not in cart", metric: "not_in_cart" },
  "checkout in progress": {
    status: 409,
    message: (_, action) =>
      action === "remove"
        ? "Checkout in progress: the unit is being paid for"
        : "checkout in progress",
    metric: "in_progress",
  },
  "order mismatch": {
    status: 409,
    message: () => "the hold is no longer this order's",
    metric: "order_mismatch",
  },
  "limit per shopper": { status: 409, message: limitMessage, metric: "limit_per_shopper" },
  "too many holds": {
    status: 429,
    message: () =>
      "Too many units held from your address at once: buy or put one back, or try again later",
    metric: "too_many_holds",
  },
  "not open yet": {
    status: 409,
    message: (product, _, info) =>
      `${info?.name ?? product} goes on sale at ${info?.opensAt ?? "its opening"}`,
    metric: "not_open_yet",
  },
  "not your turn": {
    status: 409,
    message: () => "It is not your turn yet: join the queue and wait for your number",
    metric: "not_your_turn",
  },
};

function limitMessage(product: string, _?: string, info?: ProductInfo): string {
  if (info === undefined) return `You have bought as many of "${product}" as one shopper may`;
  const limit = limitPerShopperOf(info);
  const rule = limit === 1 ? "One per shopper" : `Limit ${limit} per shopper`;
  return `${rule}: you have bought ${limit} of ${info.name}`;
}

/**
 * The error that answers a refusal.
 *
 * @param kind The kind of refusal.
 * @param product The product asked about.
 * @param action What the shopper asked for, when a cart command was refused.
 * @param info What the product is, for the answers that name it.
 * @param retryAfterMs How long until trying again may succeed: sent as `Retry-After`, in whole
 *   seconds and at least 1.
 * @returns An {@linkcode HttpError} with the kind's status and text (and `opensAt` for a drop not
 *   yet open).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const error = refusalError("not in cart", "tee", "checkout");
 * assert.deepEqual([error.status, error.message], [409, "not in cart"]);
 * const info = { id: "tee", name: "Tee", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const wait = refusalError("too many holds", "tee", "add", undefined, 1_500);
 * assert.equal(wait.status, 429);
 * assert.equal(new Headers(wait.options.headers).get("retry-after"), "2");
 * assert.equal(
 *   refusalError("limit per shopper", "tee", "add", info).message,
 *   "One per shopper: you have bought 1 of Tee",
 * );
 * ```
 */
export function refusalError(
  kind: Refusal,
  product: string,
  action?: "add" | "remove" | "checkout",
  info?: ProductInfo,
  retryAfterMs?: number,
): HttpError {
  const answer = REFUSAL_ANSWERS[kind];
  const message = answer.message(product, action, info);
  // A drop not yet open says when it opens, for the page's countdown.
  const fields = kind === "not open yet" && info?.opensAt !== undefined
    ? { opensAt: info.opensAt }
    : undefined;
  const headers = retryAfterMs === undefined ? undefined : retryAfterHeader(retryAfterMs);
  return new HttpError(answer.status, message, { fields, headers });
}

/**
 * The label a checkout's outcome is counted under: the order service's outcome as it is, a
 * refusal by its kind's metric label.
 *
 * @param outcome How the checkout ended.
 * @returns The label.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(checkoutLabel("timeout"), "timeout");
 * assert.equal(checkoutLabel("checkout in progress"), "in_progress");
 * ```
 */
export function checkoutLabel(outcome: CheckoutOutcome): string {
  return isRefusal(outcome) ? REFUSAL_ANSWERS[outcome].metric : outcome;
}

/**
 * Every label a checkout is counted under: the order service's outcomes, then the refusals a
 * checkout may end in.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(CHECKOUT_LABELS.includes("not_in_cart"));
 * assert.ok(!CHECKOUT_LABELS.includes("sold_out"));
 * ```
 */
export const CHECKOUT_LABELS: readonly string[] = [
  "sold",
  "refused",
  "failed",
  "timeout",
  "payment",
  ...REFUSALS.filter(isCheckoutRefusal).map(checkoutLabel),
];

function isCheckoutRefusal(kind: Refusal): kind is CheckoutRefusal {
  return !isAddRefusal(kind);
}
