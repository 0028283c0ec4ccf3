/** `POST /cart` and `GET /cart`: a shopper's add or remove, and what the shopper holds. */
import type { Checkouts } from "../inventory/checkout.ts";
import type { Inventory } from "../inventory/inventory.ts";
import type { Refusal } from "../inventory/refusal.ts";
import type { ClientLimit, StoreOutcome } from "../inventory/store_port.ts";
import { inventoryCountOf } from "../inventory/ledger.ts";
import { HttpError, jsonResponse, postAnswer } from "./http_error.ts";
import { REFUSAL_ANSWERS, refusalError } from "./refusal_answers.ts";
import { bodyFields } from "./body_fields.ts";
import type { RequestBody } from "./request_body.ts";
import { sessionFromCookie, sessionIdOf } from "./session.ts";

/** The largest request body accepted, in bytes. */
export const MAX_BODY_BYTES = 4096;

/** The media types `POST /cart` takes. */
export const CART_MEDIA_TYPES = ["application/x-www-form-urlencoded", "application/json"] as const;

/** What the gate answered an add: refused, or let through (and told how the add ended). */
export type AddPass =
  | { readonly ok: false; readonly refusal: Refusal }
  | {
    readonly ok: true;
    /** Hears whether the add took a unit; present when the add uses something up (an admission). */
    readonly settle?: (took: boolean) => Promise<void>;
  };

/** Whether a session may add a product now: a drop lets only its admitted shoppers in. */
export interface AddGate {
  /**
   * Tells whether the session may add the product now.
   *
   * @param product The product's id.
   * @param session The session.
   * @returns The pass, or why not.
   */
  check(product: string, session: string): Promise<AddPass>;
}

/** A validated cart request. */
export interface CartCommand {
  /** What to do with the session's unit. */
  readonly action: "add" | "remove" | "checkout";
  /** Whose cart. */
  readonly session: string;
  /** Which product; undefined when the request named none. */
  readonly product: string | undefined;
}

const FIELDS = ["action", "session", "product"] as const;

/**
 * Validates the body of `POST /cart`: `action`, `session` (else the `sid` cookie) and `product`.
 *
 * @param request The incoming request, for its cookie.
 * @param body Its body, already read.
 * @returns The command.
 * @throws {HttpError} 400 for a malformed body or a missing or invalid field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const session = crypto.randomUUID();
 * const command = cartCommandOf(new Request("http://x/cart"), {
 *   mediaType: "application/x-www-form-urlencoded",
 *   text: `action=add&session=${session}&product=poster`,
 * });
 * assert.deepEqual(command, { action: "add", session, product: "poster" });
 * ```
 */
export function cartCommandOf(request: Request, body: RequestBody): CartCommand {
  const fields = bodyFields(body, FIELDS);
  const action = fields.action;
  if (action === undefined) throw new HttpError(400, "Action is missing");
  if (action !== "add" && action !== "remove" && action !== "checkout") {
    throw new HttpError(400, 'Action must be "add", "remove" or "checkout"');
  }
  const given = fields.session ?? sessionFromCookie(request);
  if (given === undefined) throw new HttpError(400, "Session is missing");
  // In lower case: an upper-case copy of a session is the same shopper.
  const session = sessionIdOf(given);
  if (session === undefined) throw new HttpError(400, "Session must be a UUID");
  return { action, session, product: fields.product };
}

/**
 * Finds the product a request names, or the only one when it names none.
 *
 * @param inventory The inventory.
 * @param product The id given, if any.
 * @returns The id of a product on sale.
 * @throws {HttpError} 400 when none is named and the catalog has several, 404 for an unknown or
 * retired product.
 */
export function productOnSale(inventory: Inventory, product: string | undefined): string {
  if (product === undefined) {
    const sole = inventory.soleProduct();
    if (sole === undefined) throw new HttpError(400, "Product is missing");
    return sole.info.id;
  }
  const record = inventory.get(product);
  if (record === undefined) throw refusalError("unknown product", product);
  if (record.retired) throw refusalError("retired", product);
  return product;
}

/**
 * Handles `POST /cart`: applies the command and answers the product's new state.
 *
 * @param inventory The inventory.
 * @param checkouts Runs checkouts.
 * @param request The incoming request.
 * @param body Its body.
 * @param client The client an add is counted against, with its limit of holds at once.
 * @param limits Refuses an add past its client's rate (429) or before the session's turn in a
 *   drop (409), and hears of every refused add or remove, to count it.
 * @returns 200 `{product, inventoryCount, version, inCart}` (and `orderId` for a checkout), 202
 *   `{product, orderId, paymentUrl, payBy}` for a checkout to be paid on the order service's page, or
 * 409 `{error: "sold out", ...}`.
 * @throws {HttpError} 400 or 404 as {@linkcode cartCommandOf} and {@linkcode productOnSale} say;
 * 429 for an add past its client's rate or holds;
 * for a checkout 409 (no hold, or one in flight), 402 (refused), 502 or 504 (the order service
 * failed or was late).
 */
export async function handleCartCommand(
  inventory: Inventory,
  checkouts: Checkouts,
  request: Request,
  body: RequestBody,
  client: ClientLimit,
  limits: { admitAdd(): Promise<void>; gate: AddGate; onRefusal(kind: Refusal): void },
): Promise<Response> {
  const command = cartCommandOf(request, body);
  if (command.action === "add") await limits.admitAdd();
  const product = productOnSale(inventory, command.product);
  if (command.action === "checkout") {
    return checkoutResponse(checkouts, product, command.session);
  }
  const outcome = command.action === "add"
    ? await gatedAdd(inventory, limits, product, command.session, client)
    : await inventory.remove(product, command.session);
  if (!outcome.ok) {
    const { reason, record } = outcome;
    limits.onRefusal(reason);
    if (reason !== "sold out" || record === undefined) {
      throw refusalError(reason, product, command.action, record?.info, outcome.retryAfterMs);
    }
    // Sold out is an answer with the product's state, as a page shows it.
    const { status, message } = REFUSAL_ANSWERS[reason];
    const error = message(product, command.action);
    return postAnswer({ error, product, inventoryCount: 0, version: record.version }, status);
  }
  const { record, inCart } = outcome;
  return postAnswer({
    product,
    inventoryCount: inventoryCountOf(record),
    version: record.version,
    inCart,
  });
}

/** Adds through the gate: a refusal there is answered like the store's, and the gate hears the end. */
async function gatedAdd(
  inventory: Inventory,
  limits: { gate: AddGate; onRefusal(kind: Refusal): void },
  product: string,
  session: string,
  client: ClientLimit,
): Promise<StoreOutcome> {
  const pass = await limits.gate.check(product, session);
  if (!pass.ok) {
    limits.onRefusal(pass.refusal);
    throw refusalError(pass.refusal, product, "add", inventory.get(product)?.info);
  }
  let took = false;
  try {
    const outcome = await inventory.add(product, session, client);
    took = outcome.ok && outcome.inCart;
    return outcome;
  } finally {
    await pass.settle?.(took);
  }
}

/** Runs a checkout and answers it. */
async function checkoutResponse(
  checkouts: Checkouts,
  product: string,
  session: string,
): Promise<Response> {
  const result = await checkouts.checkout(product, session);
  switch (result.kind) {
    case "sold":
      return postAnswer({
        product,
        inventoryCount: inventoryCountOf(result.record),
        version: result.record.version,
        inCart: false,
        orderId: result.orderId,
      });
    case "awaiting payment":
      // The shopper pays on the order service's page; the hold waits for its callback.
      return postAnswer({
        product,
        orderId: result.orderId,
        paymentUrl: result.paymentUrl,
        payBy: new Date(result.payBy).toISOString(),
      }, 202);
    case "refused":
      throw new HttpError(402, result.reason);
    case "failed":
      throw new HttpError(result.timedOut ? 504 : 502, result.reason);
    case "not possible":
      throw refusalError(result.reason, product, "checkout");
  }
}

/**
 * Handles `GET /cart`: the units the session of the `sid` cookie holds.
 *
 * @param inventory The inventory.
 * @param request The incoming request.
 * @returns 200 `{items: [{product, expiresAt}]}` (`expiresAt` in ISO 8601); no cookie, no items.
 */
export async function cartResponse(inventory: Inventory, request: Request): Promise<Response> {
  const session = sessionFromCookie(request);
  const units = session === undefined ? [] : await inventory.cartOf(session);
  return jsonResponse({
    items: units.map(({ product, expiresAt }) => ({
      product,
      expiresAt: new Date(expiresAt).toISOString(),
    })),
  });
}
