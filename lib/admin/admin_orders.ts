/** `GET /admin/orders`: the last orders, newest first, as the dashboard's table lists them. */
import type { OrderHistory } from "../inventory/order_history.ts";
import { jsonResponse } from "../http/http_error.ts";

/**
 * Handles `GET /admin/orders`.
 *
 * @param orders The order history.
 * @returns 200 `{"orders": [{"seq", "time", "product", "orderId", "status", "reason"?}]}`, at
 *   most 100, newest first; every process's on a fleet.
 * @throws {StoreUnavailableError} When the store cannot be read (answered 503).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../time/clock.ts";
 * import { OrderHistory } from "../inventory/order_history.ts";
 * import { orderLogInMemory } from "../inventory/order_log.ts";
 * const orders = new OrderHistory(orderLogInMemory(), { clock: systemClock, log: () => {} });
 * await orders.record({ product: "a", orderId: "o1", status: "refused", reason: "Card declined" });
 * const answer = await ordersResponse(orders);
 * assert.equal(answer.status, 200);
 * const { orders: [entry] } = await answer.json();
 * assert.deepEqual([entry.orderId, entry.status, entry.reason], ["o1", "refused", "Card declined"]);
 * ```
 */
export async function ordersResponse(orders: Pick<OrderHistory, "recent">): Promise<Response> {
  return jsonResponse({ orders: await orders.recent() });
}
