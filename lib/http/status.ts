/** Live-status requests: which product and version they name, and which transport serves them. */
import type { Inventory } from "../inventory/inventory.ts";
import { parseSince, type Since } from "../realtime/message.ts";
import type { Subscriptions } from "../realtime/subscriptions.ts";
import type { Topic } from "../realtime/topic.ts";
import type { Topics } from "../realtime/topics.ts";
import type { ClientLimits } from "./client_limits.ts";
import { type ConnectionLimit, isEventStream, isUpgrade } from "./guards.ts";
import { HttpError } from "./http_error.ts";
import type { RouteContext } from "./router.ts";

/**
 * Reads the optional `since` query parameter: `<epoch>.<version>` or a plain version.
 *
 * @param url The request URL.
 * @returns Where the client stands, or undefined when not given.
 * @throws {HttpError} 400 when given twice or malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(sinceOf(new URL("http://x/cart/status?since=4")), { epoch: undefined, version: 4 });
 * assert.deepEqual(sinceOf(new URL("http://x/cart/status?since=ab.4")), { epoch: "ab", version: 4 });
 * ```
 */
export function sinceOf(url: URL): Since | undefined {
  const values = url.searchParams.getAll("since");
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new HttpError(400, 'Parameter "since" is given more than once');
  const since = parseSince(values[0]);
  if (since === undefined || !Number.isSafeInteger(since.version)) {
    throw new HttpError(
      400,
      'Parameter "since" must be a version (a whole number of zero or more) or <epoch>.<version>',
    );
  }
  return since;
}

/**
 * The product a request's query names (`product`), or the only product on sale.
 *
 * @param inventory The inventory.
 * @param url The request's URL, with `product` unless the shop sells one product.
 * @returns The id of a product on sale.
 * @throws {HttpError} 400 for a missing or repeated `product`, 404 for an unknown one, 410 for a
 *   retired one.
 */
export function queriedProduct(inventory: Inventory, url: URL): string {
  const values = url.searchParams.getAll("product");
  if (values.length > 1) throw new HttpError(400, 'Parameter "product" is given more than once');
  let id = values[0];
  if (id === undefined) {
    const sole = inventory.soleProduct();
    if (sole === undefined) throw new HttpError(400, 'Parameter "product" is missing');
    id = sole.info.id;
  }
  const record = inventory.get(id);
  if (record === undefined) throw new HttpError(404, `No product "${id}"`);
  if (record.retired) throw new HttpError(410, `Product "${id}" is no longer on sale`);
  return id;
}

/**
 * The topic of the product a status request names, or of the only product.
 *
 * @param inventory The inventory.
 * @param topics The topics.
 * @param url The request's URL, with `product` unless the shop sells one product.
 * @returns The product's topic.
 * @throws {HttpError} As {@linkcode queriedProduct}.
 */
export function productTopicOf(inventory: Inventory, topics: Topics, url: URL): Topic {
  const id = queriedProduct(inventory, url);
  const topic = topics.product(id);
  if (topic === undefined) throw new HttpError(404, `No product "${id}"`);
  return topic;
}

/**
 * Serves a topic by the transport the request asks for: upgrade, event stream, else long poll.
 *
 * @param subscriptions The transports.
 * @param limit The connection limit, which an event stream past it is told of in a stream.
 * @param clientLimits The connections each client may hold; the place taken is freed when the
 * connection ends.
 * @param context The request, its head (which transport it asks for), its URL (`since`) and its
 * connection (whose client).
 * @param topic The topic.
 * @returns The response.
 * @throws {HttpError} 400 for a bad `since`, 429 past the client's connections.
 */
export function subscribe(
  subscriptions: Subscriptions,
  limit: ConnectionLimit,
  clientLimits: ClientLimits,
  context: RouteContext,
  topic: Topic,
): Response | Promise<Response> {
  const { request, head, url } = context;
  const since = sinceOf(url);
  const release = clientLimits.holdConnection(context);
  try {
    if (isUpgrade(head)) return subscriptions.websocket(request, topic, release);
    if (isEventStream(head)) {
      if (limit.hasRoom()) return subscriptions.stream(request, topic, release);
      release();
      return subscriptions.refusedStream();
    }
    return subscriptions.longPoll(request, topic, since, release);
  } catch (error) {
    // An upgrade Deno refuses holds nothing.
    release();
    throw error;
  }
}
