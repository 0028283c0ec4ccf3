// The dashboard's product table: a row per product with its numbers, a restock form, edit, retire.
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
 * @property {string} [description]
 * @property {{ amount: string, currency: string }} price
 * @property {string | null} [image]
 * @property {number} [limitPerShopper]
 * @property {string} [opensAt]
 * @property {number} total Units in stock: not yet sold, held or not.
 * @property {number} held
 * @property {number} sold
 * @property {number} inventoryCount
 * @property {number} version
 * @property {boolean} retired
 */

/**
 * The product table's number columns: the field each shows, its class, and its heading for
 * stacked rows. The catalog's `total` is what is in stock (not yet sold), held units included.
 */
const COLUMNS = /** @type {const} */ ([
  ["total", "total", "In stock"],
  ["held", "held", "Held"],
  ["inventoryCount", "available", "Available"],
  ["sold", "sold", "Sold"],
]);

const numbers = new Intl.NumberFormat();

/**
 * @typedef {object} ProductTable
 * @property {(list: AdminProduct[]) => void} replace Shows these products, and only these.
 * @property {(product: AdminProduct) => void} offer Takes a product's newer state.
 * @property {(id: string) => AdminProduct | undefined} find A product as last told.
 * @property {(text: string) => void} tell Says what was done, in the status line.
 */

/**
 * @typedef {object} ProductTableElements
 * @property {HTMLElement} rows The products' `<tbody>`.
 * @property {HTMLElement} versions The `<tbody>` of each product's version, in the details.
 * @property {HTMLElement} status The status line the table's actions report in.
 * @property {HTMLElement} error The alert line of their refusals.
 */

/**
 * @typedef {object} ProductRowActions
 * @property {(product: AdminProduct, opener: HTMLElement) => void} edit Opens a product's editor.
 * @property {(product: AdminProduct, opener: HTMLElement) => void} retire Asks to retire it.
 */

/**
 * Makes the product table, with a restock form, an edit and a retire button in each row.
 *
 * @param {ProductTableElements} elements
 * @param {ProductRowActions} actions
 * @returns {ProductTable}
 */
export function createProductTable({ rows, versions, status, error }, actions) {
  /** @type {Map<string, AdminProduct>} The products as last told, by id. */
  const products = new Map();

  /**
   * Makes a button of a row that names its product for a screen reader ("Edit Moon pin").
   *
   * @param {string} text
   * @param {string} className
   * @param {(product: AdminProduct, button: HTMLButtonElement) => void} act
   * @param {string} id The row's product.
   * @returns {HTMLButtonElement}
   */
  function rowButton(text, className, act, id) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = `button secondary ${className}`;
    const name = document.createElement("span");
    name.className = "visually-hidden button-name";
    button.append(text, name);
    button.addEventListener("click", () => {
      const product = products.get(id);
      if (product !== undefined) act(product, button);
    });
    return button;
  }

  /**
   * Makes a product's row: its name, its numbers, a restock form, edit and retire.
   *
   * @param {AdminProduct} product
   * @returns {HTMLTableRowElement}
   */
  function productRow(product) {
    const row = document.createElement("tr");
    row.dataset.product = product.id;
    const head = document.createElement("th");
    head.scope = "row";
    // The focus lands here once the row's retire button is gone.
    head.tabIndex = -1;
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
    button.textContent = "Set stock";
    form.append(label, button);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      restock(product.id, input, button);
    });
    cell.append(form);
    row.append(cell);

    const change = document.createElement("td");
    change.className = "change-cell";
    change.dataset.label = "Change";
    const buttons = document.createElement("div");
    buttons.className = "row-buttons";
    buttons.append(
      rowButton("Edit", "edit-button", actions.edit, product.id),
      rowButton("Retire", "retire-button", actions.retire, product.id),
    );
    change.append(buttons);
    row.append(change);
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
    setText(part(".restock-label"), `New stock for ${product.name}`);
    const input = /** @type {HTMLInputElement} */ (part(".restock-input"));
    input.placeholder = String(product.total);
    input.disabled = product.retired;
    for (const button of row.querySelectorAll("button")) {
      button.disabled = product.retired;
    }
    for (const name of row.querySelectorAll(".button-name")) setText(name, ` ${product.name}`);
  }

  /**
   * Makes a product's line in the details' table of versions.
   *
   * @returns {HTMLTableRowElement}
   */
  function versionRow() {
    const row = document.createElement("tr");
    const head = document.createElement("th");
    head.scope = "row";
    row.append(head, numberCell("version", "Version"));
    return row;
  }

  /**
   * @param {HTMLTableRowElement} row
   * @param {AdminProduct} product
   */
  function showVersion(row, product) {
    setText(row.children[0], product.id);
    setText(row.children[1], numbers.format(product.version));
  }

  function renderProducts() {
    const list = [...products.values()];
    syncRows(rows, list, (p) => p.id, productRow, showProduct);
    syncRows(versions, list, (p) => p.id, versionRow, showVersion);
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
          `${name}: ${numbers.format(total)} in stock, ` +
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
    find: (id) => products.get(id),
    tell(text) {
      setText(error, "");
      setText(status, text);
    },
  };
}
