/** The dashboard's list of recent orders, without a browser: merging the feed's entries, their words. */
import assert from "node:assert/strict";
import {
  MAX_ORDERS,
  mergeOrders,
  type OrderEntry,
  orderTimeText,
  STATUS_WORDS,
} from "../static/order_list.js";
import { ORDER_LOG_SIZE, ORDER_STATUSES } from "../lib/inventory/order_log.ts";

const entry = (seq: number): OrderEntry => ({
  seq,
  time: "2026-12-06T03:00:00.000Z",
  product: "a",
  orderId: `o${seq}`,
  status: "sold",
});

Deno.test("the page keeps one row per entry, newest first, as many as the server keeps", () => {
  assert.equal(MAX_ORDERS, ORDER_LOG_SIZE);
  let list: OrderEntry[] = [];
  // Entries arrive one by one and out of order (a snapshot and an event crossing).
  for (let seq = 150; seq >= 1; seq -= 2) list = mergeOrders(list, [entry(seq)]);
  list = mergeOrders(list, Array.from({ length: 150 }, (_, i) => entry(i + 1)));
  assert.equal(list.length, MAX_ORDERS);
  assert.deepEqual([list[0].seq, list[99].seq], [150, 51]);
  assert.deepEqual(mergeOrders(list, [entry(7)]), list, "an entry too old to show is dropped");
});

Deno.test("every status has its words, and times are the browser zone's", () => {
  assert.deepEqual(Object.keys(STATUS_WORDS).sort(), [...ORDER_STATUSES].sort());
  assert.equal(
    orderTimeText("2026-12-05T23:04:05.000Z", "en-GB", "Asia/Tokyo"),
    "06/12/2026, 08:04:05",
  );
});
