// The dashboard's recent orders: a table of the last 100 checkout outcomes, newest first, kept live.
// @ts-check
/// <reference lib="dom" />
import { mergeOrders, orderTimeText, STATUS_WORDS } from "./order_list.js";
import { setText } from "./set_text.js";
import { syncRows } from "./table_rows.js";

/** @typedef {import("./order_list.js").OrderEntry} OrderEntry */

/**
 * @typedef {object} OrderTable
 * @property {(entries: OrderEntry[]) => void} replace Shows these entries, and only these.
 * @property {(entry: OrderEntry) => void} offer Takes a new entry.
 */

/** The cells of a row after its time, which heads it: the class of each, and its heading. */
const CELLS = /** @type {const} */ ([
  ["order-product", "Product"],
  ["order-id", "Order id"],
  ["status", "Status"],
  ["reason", "Reason"],
]);

/**
 * Makes the recent orders' table.
 *
 * @param {{ rows: HTMLElement, empty: HTMLElement }} elements The `<tbody>`, and the line that
 *   says there are no orders yet.
 * @param {(id: string) => string} productName A product's name, as the product table knows it.
 * @returns {OrderTable}
 */
export function createOrderTable({ rows, empty }, productName) {
  /** @type {OrderEntry[]} */
  let shown = [];

  const render = () => {
    empty.hidden = shown.length > 0;
    syncRows(rows, shown, (entry) => String(entry.seq), () => {
      const row = document.createElement("tr");
      const head = document.createElement("th");
      head.scope = "row";
      head.className = "time";
      head.append(document.createElement("time"));
      row.append(head);
      for (const [className, label] of CELLS) {
        const cell = document.createElement("td");
        cell.className = className;
        cell.dataset.label = label;
        row.append(cell);
      }
      return row;
    }, (row, entry) => {
      const cells = row.children;
      const time = /** @type {HTMLTimeElement} */ (cells[0].firstElementChild);
      time.dateTime = entry.time;
      setText(time, orderTimeText(entry.time));
      setText(cells[1], productName(entry.product));
      setText(cells[2], entry.orderId);
      setText(cells[3], STATUS_WORDS[entry.status] ?? entry.status);
      setText(cells[4], entry.reason ?? "");
    });
  };

  return {
    replace(entries) {
      shown = mergeOrders([], entries);
      render();
    },
    offer(entry) {
      shown = mergeOrders(shown, [entry]);
      render();
    },
  };
}
