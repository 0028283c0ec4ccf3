/** The waiting room's HTTP: joining a drop's line, a shopper's turn, the published draw and the live status. */
import type { Inventory } from "../inventory/inventory.ts";
import { bodyFields } from "../http/body_fields.ts";
import { CART_MEDIA_TYPES, MAX_BODY_BYTES, productOnSale } from "../http/cart_api.ts";
import type { AddGate, AddPass } from "../http/cart_api.ts";
import type { ClientLimits } from "../http/client_limits.ts";
import { publicRoutes } from "../http/any_origin.ts";
import type { ConnectionLimit } from "../http/guards.ts";
import { HttpError, jsonResponse, postAnswer } from "../http/http_error.ts";
import type { Guard, Route, RouteContext } from "../http/router.ts";
import { sessionFromCookie, sessionIdOf } from "../http/session.ts";
import { queriedProduct, subscribe } from "../http/status.ts";
import type { Subscriptions } from "../realtime/subscriptions.ts";
import type { Drops, JoinAnswer } from "./drops.ts";
import type { QueueFeed } from "./queue_feed.ts";
import type { JoinChallenge } from "./join_challenge.ts";

/** What the queue's routes work with. */
export interface QueueParts {
  /** The inventory, for the products. */
  readonly inventory: Inventory;
  /** The drops' lines. */
  readonly drops: Drops;
  /** The drops' live status. */
  readonly feed: QueueFeed;
  /** Serves a topic by the transport asked for. */
  readonly subscriptions: Subscriptions;
  /** The connection limit. */
  readonly limit: ConnectionLimit;
  /** Refuses requests from untrusted origins. */
  readonly sameOrigin: Guard;
  /** What each client address may do: its joins a second (as adds), its connections. */
  readonly clientLimits: ClientLimits;
  /** The proof of work a new ticket needs; none when `--queue-challenge` is off. */
  readonly challenge?: JoinChallenge;
}

/**
 * The gate `POST /cart` asks before an add: a drop's product only for an admitted session, and
 * the add uses the admission.
 *
 * @param inventory The inventory, for what a session holds.
 * @param drops The drops.
 * @returns The gate.
 */
export function dropGate(inventory: Inventory, drops: Drops): AddGate {
  return {
    async check(product: string, session: string): Promise<AddPass> {
      const turn = await drops.mayAdd(product, session, async () => {
        const units = await inventory.cartOf(session);
        return units.some((unit) => unit.product === product);
      });
      if (!turn.ok) return { ok: false, refusal: turn.reason };
      if (!turn.claimed) return { ok: true };
      return { ok: true, settle: (took) => drops.settle(product, session, took) };
    },
  };
}

/**
 * `POST /queue`, `GET /queue`, `GET /queue/draw`, `GET /queue/status` and `GET /queue/challenge`.
 *
 * @param parts What the routes work with.
 * @returns The routes.
 */
export function queueRoutes(parts: QueueParts): Route[] {
  const { inventory, drops, feed, subscriptions, limit, sameOrigin, clientLimits, challenge } =
    parts;
  return [
    {
      name: "queue_challenge",
      path: "/queue/challenge",
      methods: ["GET"],
      handle: async (context) => {
        if (challenge === undefined) throw new HttpError(404, "Joining needs no challenge");
        // Making one costs the server a signature: it counts against the address's rate.
        await clientLimits.admitAdd(context);
        return jsonResponse(await challenge.challenge(), {
          headers: { "cache-control": "no-store" },
        });
      },
    },
    {
      name: "queue_join",
      path: "/queue",
      methods: ["POST"],
      guards: [sameOrigin],
      body: { maxBytes: MAX_BODY_BYTES, mediaTypes: CART_MEDIA_TYPES },
      handle: (context) => join(parts, context),
    },
    {
      name: "queue_turn",
      path: "/queue",
      methods: ["GET"],
      handle: async ({ request, url }) => {
        const product = queriedProduct(inventory, url);
        const session = sessionFromCookie(request);
        const turn = await drops.turnOf(product, session ?? "");
        if (turn === undefined) throw noDrop(product);
        const { admissionExpiresAt, ...rest } = turn;
        return jsonResponse({
          product,
          ...rest,
          admissionExpiresAt: admissionExpiresAt === null
            ? null
            : new Date(admissionExpiresAt).toISOString(),
        });
      },
    },
    {
      name: "queue_draw",
      path: "/queue/draw",
      methods: ["GET"],
      handle: async ({ url }) => {
        const product = queriedProduct(inventory, url);
        const drawAt = inventory.get(product)?.info.opensAt;
        if (drawAt === undefined) throw noDrop(product);
        const draw = await drops.draw(product);
        if (draw === undefined) {
          throw new HttpError(409, `The draw of "${product}" is at ${drawAt}`, {
            fields: { drawAt },
          });
        }
        return jsonResponse({ product, ...draw });
      },
    },
    // A drop's line is public (its length, who is admitted by number), as the counts are.
    ...publicRoutes([{
      name: "queue_status",
      path: "/queue/status",
      methods: ["GET"],
      guards: [limit.guard],
      handle: (context) => {
        const product = queriedProduct(inventory, context.url);
        const topic = feed.topic(product);
        if (topic === undefined) throw noDrop(product);
        return subscribe(subscriptions, limit, clientLimits, context, topic);
      },
    }]),
  ];
}

/** Joins the line of the drop a request names. */
async function join(parts: QueueParts, context: RouteContext): Promise<Response> {
  const { inventory, drops, clientLimits } = parts;
  const fields = bodyFields(context.body!, ["product", "session", "altcha"]);
  const given = fields.session ?? sessionFromCookie(context.request);
  if (given === undefined) throw new HttpError(400, "Session is missing");
  const session = sessionIdOf(given);
  if (session === undefined) throw new HttpError(400, "Session must be a UUID");
  // A join costs what an add costs: it counts against the address's rate.
  await clientLimits.admitAdd(context);
  const product = productOnSale(inventory, fields.product);
  // A new ticket needs the challenge solved; the ticket a session has comes back without one.
  const known = (await drops.turnOf(product, session))?.ticket ?? null;
  if (parts.challenge !== undefined && known === null) {
    if (!await parts.challenge.verify(fields.altcha)) {
      throw new HttpError(
        403,
        "The browser check is missing or wrong: solve a new one and join again",
      );
    }
  }
  const answer = await drops.join(product, session, clientLimits.holdLimit(context).key);
  if (!answer.ok) throw joinRefusal(product, answer);
  const { ticket, drawAt } = answer;
  return postAnswer({ product, ticket: ticket.id, number: ticket.number, drawAt });
}

function joinRefusal(product: string, answer: Exclude<JoinAnswer, { ok: true }>): HttpError {
  switch (answer.reason) {
    case "no queue":
      return new HttpError(409, `"${product}" has no waiting room: add it to the cart`);
    case "not open yet":
      return new HttpError(409, `The queue for "${product}" is not open yet`, {
        fields: { opensAt: answer.opensAt },
      });
    case "sold out":
      return new HttpError(409, `"${product}" is sold out`);
    case "too many tickets":
      return new HttpError(429, "Too many tickets for this drop from your address");
  }
}

function noDrop(product: string): HttpError {
  return new HttpError(404, `"${product}" has no waiting room`);
}
