/** The per-address limits of the shop's routes: adds per second, holds and connections at once. */
import type { ClientLimit } from "../inventory/store_port.ts";
import type { ClientConnections } from "../limits/client_connections.ts";
import type { ClientRefusals } from "../limits/client_refusals.ts";
import type { RateLimiter } from "../limits/rate_limiter.ts";
import { clientAddress } from "./client_address.ts";
import { HttpError, retryAfterHeader } from "./http_error.ts";
import type { RouteContext } from "./router.ts";

/**
 * The kinds of per-address refusal, as /metrics labels them: one series each from the start.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(CLIENT_REFUSAL_KINDS.includes("add_rate"));
 * ```
 */
export const CLIENT_REFUSAL_KINDS: readonly string[] = [
  "add_rate",
  "holds_per_client",
  "connections_per_client",
];

/**
 * How long a client refused for its connections is asked to wait: long enough that a page that
 * reconnects at once does not hammer us, short enough that a page whose tab closed gets back soon.
 */
const CONNECTIONS_RETRY_AFTER_SECONDS = 5;

/** What the per-address limits are made of; a limit left out is off. */
export interface ClientLimitsOptions {
  /** Believe the proxy's `X-Forwarded-For` for the client's address. */
  readonly trustProxy: boolean;
  /** Holds at once per client, over its sessions and products, decided by the store; 0 for none. */
  readonly maxHoldsPerClient: number;
  /** Adds per second per client. */
  readonly addRate?: RateLimiter;
  /** Long polls, event streams and WebSockets per client. */
  readonly connections?: ClientConnections;
  /** Counts and logs every refusal. */
  readonly refusals: ClientRefusals;
}

/**
 * The per-address limits, asked by the routes they guard; each refusal is a 429 with
 * `Retry-After`, counted and logged by its kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ClientConnections } from "../limits/client_connections.ts";
 * import { ClientRefusals } from "../limits/client_refusals.ts";
 * import { MemoryRateLimiter } from "../limits/rate_limiter.ts";
 * import { HttpError } from "./http_error.ts";
 * import { RequestHead } from "./request_head.ts";
 * const clock = { now: () => 0 };
 * const limits = new ClientLimits({
 *   trustProxy: false,
 *   maxHoldsPerClient: 4,
 *   addRate: new MemoryRateLimiter({ perSecond: 1, burst: 1, maxClients: 10 }, clock),
 *   connections: new ClientConnections(1),
 *   refusals: new ClientRefusals({ clock, log: () => {}, count: () => {} }),
 * });
 * const request = new Request("http://shop.test/cart");
 * const context = {
 *   request, url: new URL(request.url), head: RequestHead.of(request), params: {}, body: undefined,
 * };
 * await limits.admitAdd(context);
 * await assert.rejects(limits.admitAdd(context), (error: HttpError) => error.status === 429);
 * const release = limits.holdConnection(context);
 * assert.throws(() => limits.holdConnection(context), HttpError);
 * release();
 * assert.deepEqual(limits.holdLimit(context), { key: "unknown", maxHolds: 4 });
 * ```
 */
export class ClientLimits {
  readonly #options: ClientLimitsOptions;

  /**
   * Gathers the limits.
   *
   * @param options The limits, the proxy rule and where refusals go.
   */
  constructor(options: ClientLimitsOptions) {
    this.#options = options;
  }

  /**
   * Takes one add of the request's client from its rate.
   *
   * @param context The route's context.
   * @throws {HttpError} 429 with `Retry-After` (whole seconds until the next add, at least 1).
   */
  async admitAdd(context: RouteContext): Promise<void> {
    const { addRate, trustProxy, refusals } = this.#options;
    if (addRate === undefined) return;
    const client = clientAddress(context, trustProxy);
    const decision = await addRate.take(client);
    if (decision.allowed) return;
    refusals.refuse("add_rate", client);
    throw new HttpError(429, "Too many adds from your address, try again later", {
      headers: retryAfterHeader(decision.retryAfterMs),
    });
  }

  /**
   * The client an add of this request is counted against, with its limit of holds at once: the
   * store checks and changes the count together with the hold.
   *
   * @param context The route's context.
   * @returns The client's key and limit.
   */
  holdLimit(context: RouteContext): ClientLimit {
    const { trustProxy, maxHoldsPerClient } = this.#options;
    return { key: clientAddress(context, trustProxy), maxHolds: maxHoldsPerClient };
  }

  /**
   * Counts and logs an add the store refused because its client holds the most it may.
   *
   * @param client The client's key.
   */
  refuseHolds(client: string): void {
    this.#options.refusals.refuse("holds_per_client", client);
  }

  /**
   * Takes a place for one connection of the request's client.
   *
   * @param context The route's context.
   * @returns What to call when the connection ends.
   * @throws {HttpError} 429 with `Retry-After` when the client holds the most it may.
   */
  holdConnection(context: RouteContext): () => void {
    const { connections, trustProxy, refusals } = this.#options;
    if (connections === undefined) return () => {};
    const client = clientAddress(context, trustProxy);
    const release = connections.take(client);
    if (release !== undefined) return release;
    refusals.refuse("connections_per_client", client);
    throw new HttpError(429, "Too many connections from your address, try again later", {
      headers: { "retry-after": String(CONNECTIONS_RETRY_AFTER_SECONDS) },
    });
  }
}
