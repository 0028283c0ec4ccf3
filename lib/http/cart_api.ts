/** `POST /cart`: validates a shopper's add or remove and applies it to the cart. */
import type { ShoppingCart } from "../inventory/cart.ts";
import { HttpError, jsonResponse } from "./http_error.ts";
import { mediaTypeOf, parseJsonBody, readLimitedText } from "./request_body.ts";
import { isSessionId, sessionFromCookie } from "./session.ts";

/** The largest request body accepted, in bytes. */
export const MAX_BODY_BYTES = 4096;

/** A validated cart request. */
export interface CartCommand {
  /** What to do with the session's unit. */
  action: "add" | "remove";
  /** Whose cart. */
  session: string;
}

/**
 * Reads and validates the body of `POST /cart`.
 *
 * Accepts `application/x-www-form-urlencoded` and `application/json` bodies with `action` and
 * `session` strings; the session falls back to the `sid` cookie.
 *
 * @param request The incoming request.
 * @param bodyTimeoutMs How long the body may take to arrive.
 * @returns The command to apply.
 * @throws {HttpError} 415 for another content type, 413 for a body over 4 KiB, 400 for a
 * malformed body or a missing or invalid field.
 */
export async function readCartCommand(
  request: Request,
  bodyTimeoutMs: number,
): Promise<CartCommand> {
  const mediaType = mediaTypeOf(request);
  if (
    mediaType !== "application/x-www-form-urlencoded" &&
    mediaType !== "application/json"
  ) {
    throw new HttpError(
      415,
      "Content-Type must be application/x-www-form-urlencoded or application/json",
    );
  }
  const text = await readLimitedText(request, MAX_BODY_BYTES, bodyTimeoutMs);
  const fields = mediaType === "application/json" ? jsonFields(text) : formFields(text);

  const action = fields.action;
  if (action === undefined) throw new HttpError(400, "Action is missing");
  if (action !== "add" && action !== "remove") {
    throw new HttpError(400, 'Action must be "add" or "remove"');
  }
  const session = fields.session ?? sessionFromCookie(request);
  if (session === undefined) throw new HttpError(400, "Session is missing");
  if (!isSessionId(session)) throw new HttpError(400, "Session must be a UUID");
  return { action, session };
}

/** The two fields a cart request may carry; anything else is ignored. */
type Fields = { action?: unknown; session?: unknown };

function jsonFields(text: string): Fields {
  const value = parseJsonBody(text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(400, "Body must be a JSON object");
  }
  const { action, session } = value as Record<string, unknown>;
  for (
    const [name, field] of [["action", action], ["session", session]] as const
  ) {
    if (field !== undefined && typeof field !== "string") {
      throw new HttpError(400, `Field "${name}" must be a string`);
    }
  }
  // Nothing we read is nested; refusing nesting keeps odd payloads from looking acceptable.
  if (Object.values(value).some((field) => typeof field === "object" && field !== null)) {
    throw new HttpError(400, "Body must be a flat JSON object");
  }
  return { action, session };
}

function formFields(text: string): Fields {
  const params = new URLSearchParams(text);
  const fields: Fields = {};
  for (const name of ["action", "session"] as const) {
    const values = params.getAll(name);
    if (values.length > 1) {
      throw new HttpError(400, `Field "${name}" is given more than once`);
    }
    if (values.length === 1) fields[name] = values[0];
  }
  return fields;
}

/**
 * Handles `POST /cart`: applies the command and answers the new state.
 *
 * @param cart The shared cart.
 * @param request The incoming request (method and origin already checked).
 * @param bodyTimeoutMs How long the body may take to arrive.
 * @returns 200 `{inventoryCount, version, inCart}`, or 409 `{error: "sold out", ...}`.
 */
export async function handleCartCommand(
  cart: ShoppingCart,
  request: Request,
  bodyTimeoutMs: number,
): Promise<Response> {
  const { action, session } = await readCartCommand(request, bodyTimeoutMs);
  const result = action === "add" ? await cart.add(session) : await cart.remove(session);
  if (!result.ok) {
    return jsonResponse({ error: result.reason, ...result.message.state }, {
      status: 409,
    });
  }
  return jsonResponse({ ...result.message.state, inCart: result.inCart });
}
