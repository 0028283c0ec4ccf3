// Table rows kept in step with a list, shared by the dashboard's tables.
// @ts-check
/// <reference lib="dom" />

/**
 * Keeps a table body's rows in step with a list: one row per item, in the list's order, made
 * once and then updated in place (so that a restock being typed keeps its input).
 *
 * @template T
 * @param {HTMLElement} body The `<tbody>`.
 * @param {T[]} items The items.
 * @param {(item: T) => string} keyOf An item's key, kept in the row's `data-key`.
 * @param {(item: T) => HTMLTableRowElement} create Makes an item's row.
 * @param {(row: HTMLTableRowElement, item: T) => void} update Shows an item in its row.
 */
export function syncRows(body, items, keyOf, create, update) {
  /** @type {Map<string, HTMLTableRowElement>} */
  const rows = new Map();
  for (const row of /** @type {HTMLCollectionOf<HTMLTableRowElement>} */ (body.children)) {
    rows.set(row.dataset.key ?? "", row);
  }
  let previous = /** @type {Element | null} */ (null);
  for (const item of items) {
    const key = keyOf(item);
    let row = rows.get(key);
    rows.delete(key);
    if (row === undefined) {
      row = create(item);
      row.dataset.key = key;
    }
    update(row, item);
    const next = previous === null ? body.firstElementChild : previous.nextElementSibling;
    if (next !== row) body.insertBefore(row, next);
    previous = row;
  }
  for (const row of rows.values()) row.remove();
}

/**
 * @param {string} className
 * @param {string} label The column's heading, shown beside the value in stacked rows.
 * @returns {HTMLTableCellElement}
 */
export function numberCell(className, label) {
  const cell = document.createElement("td");
  cell.className = `num ${className}`;
  cell.dataset.label = label;
  return cell;
}
