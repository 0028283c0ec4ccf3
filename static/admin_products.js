// The dashboard's product table: a row per product with its numbers and a restock form.
// @ts-check
/// <reference lib="dom" />
import { setText } from "./set_text.js";
import { numberCell, syncRows } from "./table_rows.js";

const RESTOCK_PATH = "/admin/inventory";

/**
 * @typedef {object} AdminProduct
 * A product as the feed tells of it.
 * @property {string} id
 * @property {string} name
 * @property {number} total
 * @property {number} held
 * @property {number} sold
 * @property {number} inventoryCount
 * @property {number} version
 * @property {boolean} retired
 */

/** The product table's number columns: the field each shows, and its heading for stacked rows. */
const COLUMNS = /** @type {const} */ ([
  ["inventoryCount", "available", "Available"],
  ["held", "held", "Held"],
  ["sold", "sold", "Sold"],
  ["total", "total", "Total"],
  ["version", "version", "Version"],
]);

const numbers = new Intl.NumberFormat();

/**
 * @typedef {object} ProductTable
 * @property {(list: AdminProduct[]) => void} replace Shows these products, and only these.
 * @property {(product: AdminProduct) => void} offer Takes a product's newer state.
 */

/**
 * Makes the product table in a `<tbody>`, with the status and error lines its restocks report in.
 *
 * @param {{ rows: HTMLElement, status: HTMLElement, error: HTMLElement }} elements
 * @returns {ProductTable}
 */
export function createProductTable({ rows, status, error }) {
  /** @type {Map<string, AdminProduct>} The products as last told, by id. */
  const products = new Map();

  /**
   * Makes a product's row: its name, its numbers and a restock form.
   *
   * @param {AdminProduct} product
   * @returns {HTMLTableRowElement}
   */
  function productRow(product) {
    const row = document.createElement("tr");
    row.dataset.product = product.id;
    const head = document.createElement("th");
    head.scope = "row";
    const name = document.createElement("span");
    name.className = "product-name";
    const id = document.createElement("span");
    id.className = "product-id";
    const state = document.createElement("span");
    state.className = "product-state";
    head.append(name, " ", id, " ", state);
    row.append(head);
    for (const [, className, label] of COLUMNS) row.append(numberCell(className, label));

    const cell = document.createElement("td");
    cell.className = "restock-cell";
    cell.dataset.label = "Restock";
    const form = document.createElement("form");
    form.className = "restock";
    const label = document.createElement("label");
    const labelText = document.createElement("span");
    labelText.className = "visually-hidden restock-label";
    const input = document.createElement("input");
    Object.assign(input, {
      type: "number",
      name: "total",
      min: "0",
      max: "1000000000",
      step: "1",
      required: true,
      inputMode: "numeric",
      className: "restock-input",
    });
    label.append(labelText, input);
    const button = document.createElement("button");
    button.type = "submit";
    button.className = "button secondary restock-button";
    button.textContent = "Set total";
    form.append(label, button);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      restock(product.id, input, button);
    });
    cell.append(form);
    row.append(cell);
    return row;
  }

  /**
   * Shows a product in its row.
   *
   * @param {HTMLTableRowElement} row
   * @param {AdminProduct} product
   */
  function showProduct(row, product) {
    const part = (
      /** @type {string} */ selector,
    ) => /** @type {HTMLElement} */ (row.querySelector(selector));
    setText(part(".product-name"), product.name);
    setText(part(".product-id"), product.id);
    setText(part(".product-state"), product.retired ? "Retired" : "");
    for (const [field, className] of COLUMNS) {
      setText(part(`.${className}`), numbers.format(product[field]));
    }
    row.dataset.version = String(product.version);
    row.dataset.retired = String(product.retired);
    setText(part(".restock-label"), `New total for ${product.name}`);
    const input = /** @type {HTMLInputElement} */ (part(".restock-input"));
    input.placeholder = String(product.total);
    input.disabled = product.retired;
    /** @type {HTMLButtonElement} */ (part(".restock-button")).disabled = product.retired;
  }

  function renderProducts() {
    syncRows(rows, [...products.values()], (p) => p.id, productRow, showProduct);
  }

  /**
   * Takes a product's newer state; an older one (a restock's answer overtaken by the feed) is
   * ignored.
   *
   * @param {AdminProduct} product
   */
  function offerProduct(product) {
    const known = products.get(product.id);
    if (known !== undefined && known.version > product.version) return;
    products.set(product.id, { ...known, ...product });
    renderProducts();
  }

  /**
   * Sets a product's total from its row's form, and says how it went.
   *
   * @param {string} id The product.
   * @param {HTMLInputElement} input The new total.
   * @param {HTMLButtonElement} button The form's button, disabled while the request runs.
   */
  async function restock(id, input, button) {
    const name = products.get(id)?.name ?? id;
    const total = Number(input.value);
    setText(status, "");
    setText(error, "");
    button.disabled = true;
    try {
      const response = await fetch(RESTOCK_PATH, {
        method: "POST",
        credentials: "same-origin",
        cache: "no-store",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ product: id, total }),
      });
      const answer = await response.json().catch(() => ({}));
      if (response.ok) {
        input.value = "";
        const known = products.get(id);
        if (known !== undefined) {
          offerProduct({
            ...known,
            total: answer.total,
            held: answer.held,
            inventoryCount: answer.inventoryCount,
            version: answer.version,
          });
        }
        setText(
          status,
          `${name}: total set to ${numbers.format(total)}, ` +
            `${numbers.format(answer.inventoryCount)} available.`,
        );
      } else {
        const reason = typeof answer.error === "string"
          ? answer.error
          : `the server answered ${response.status}`;
        setText(error, `Restock of ${name} refused: ${reason}`);
      }
    } catch {
      setText(
        error,
        `Could not reach the server to restock ${name}. Check the connection and try again.`,
      );
    } finally {
      button.disabled = products.get(id)?.retired ?? false;
    }
  }

  return {
    replace(list) {
      products.clear();
      for (const product of list) products.set(product.id, product);
      renderProducts();
    },
    offer: offerProduct,
  };
}
