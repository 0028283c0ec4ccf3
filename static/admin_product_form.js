// The dashboard's product dialog: add a product (PUT) or change its fields (PATCH, changes only).
// @ts-check
/// <reference lib="dom" />
import { setText } from "./set_text.js";
import { formValuesOf, newProductBody, productChanges, refusedField } from "./product_edits.js";

/** @typedef {import("./product_edits.js").EditableProduct} EditableProduct */
/** @typedef {import("./product_edits.js").ProductFormValues} ProductFormValues */

/** The admin API's product, by id: `PUT` lists one, `PATCH` changes some of its fields. */
const productPath = (/** @type {string} */ id) => `/admin/products/${encodeURIComponent(id)}`;
/** Every product, retired ones too: an id already taken is refused before a PUT would update it. */
const PRODUCTS_PATH = "/admin/products";

/** The API's field names (as its refusals name them) by the name of the input that holds them. */
const FIELDS = /** @type {const} */ ({
  id: "id",
  name: "name",
  "price.amount": "amount",
  "price.currency": "currency",
  price: "amount",
  description: "description",
  image: "image",
  limitPerShopper: "limitPerShopper",
  total: "total",
  opensAt: "opensAt",
});

/**
 * @typedef {object} ProductFormElements
 * @property {HTMLDialogElement} dialog
 * @property {HTMLFormElement} form Its inputs named as {@linkcode ProductFormValues}, plus `id`.
 * @property {HTMLElement} title
 * @property {HTMLElement} note
 * @property {HTMLElement} error The form's alert line, for the API's refusals.
 * @property {HTMLButtonElement} save
 */

/**
 * @typedef {object} ProductFormActions
 * @property {(product: any) => void} done Takes the product the API answered with.
 * @property {(text: string) => void} tell Says what was done, in the page's status line.
 * @property {(id: string) => EditableProduct | undefined} find A product as last told.
 * @property {() => string} currency The currency a new product starts with: the shop's.
 */

/**
 * @typedef {object} ProductForm
 * @property {(opener: HTMLElement) => void} add Opens the dialog empty, to add a product.
 * @property {(product: EditableProduct, opener: HTMLElement) => void} edit Opens it filled with
 *   a product's fields, to change them.
 */

/**
 * @param {Response} response
 * @returns {Promise<string>} The API's `error` text, or what the status says.
 */
async function refusalOf(response) {
  const answer = await response.json().catch(() => ({}));
  return typeof answer.error === "string" ? answer.error : `the server answered ${response.status}`;
}

/**
 * Makes the product dialog, one form for adding and for editing.
 *
 * @param {ProductFormElements} elements
 * @param {ProductFormActions} actions
 * @returns {ProductForm}
 */
export function createProductForm({ dialog, form, title, note, error, save }, actions) {
  const input = (
    /** @type {string} */ name,
  ) => /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
  const fieldBox = (
    /** @type {string} */ name,
  ) => /** @type {HTMLElement} */ (input(name).closest(".field"));
  /** @type {ProductFormValues | undefined} What an edit started from; undefined when adding. */
  let before;
  /** @type {string} The product being edited. */
  let editing = "";
  /** @type {HTMLElement | undefined} Where the focus goes back to when the dialog closes. */
  let opener;

  /** @returns {ProductFormValues} */
  function values() {
    return {
      name: input("name").value,
      amount: input("amount").value,
      currency: input("currency").value,
      description: input("description").value,
      image: input("image").value,
      limitPerShopper: input("limitPerShopper").value,
      opensAt: input("opensAt").value,
      total: input("total").value,
    };
  }

  /** @param {ProductFormValues & { id?: string }} shown */
  function fill(shown) {
    for (const [name, value] of Object.entries(shown)) input(name).value = value ?? "";
  }

  function clearRefusal() {
    setText(error, "");
    for (const field of form.querySelectorAll("[aria-invalid]")) {
      field.removeAttribute("aria-invalid");
    }
  }

  /**
   * Shows a refusal next to the form, and marks and focuses the field it names.
   *
   * @param {string} text
   */
  function refuse(text) {
    setText(error, text);
    const named = refusedField(text);
    const name = named === undefined ? undefined : FIELDS[/** @type {keyof FIELDS} */ (named)];
    if (name === undefined) return;
    const field = input(name);
    field.setAttribute("aria-invalid", "true");
    field.focus();
  }

  /**
   * @param {"add" | "edit"} mode
   * @param {HTMLElement} from
   */
  function open(mode, from) {
    opener = from;
    clearRefusal();
    const adding = mode === "add";
    fieldBox("id").hidden = !adding;
    fieldBox("total").hidden = !adding;
    input("id").disabled = !adding;
    input("total").disabled = !adding;
    setText(save, adding ? "Add product" : "Save changes");
    setText(
      note,
      adding
        ? "Every field but the id can be changed later."
        : "Only the fields you change are sent; the stock is set in the product's row.",
    );
    dialog.showModal();
    input(adding ? "id" : "name").focus();
  }

  /** Adds the product typed, unless its id is taken (a PUT would change that product instead). */
  async function add() {
    const id = input("id").value.trim();
    if (id === "") {
      refuse('Type an id first (field "id"): the page\'s address, such as moon-pin.');
      return;
    }
    const listed = await fetch(PRODUCTS_PATH, { credentials: "same-origin", cache: "no-store" });
    if (!listed.ok) {
      refuse(`Could not add ${id}: ${await refusalOf(listed)}`);
      return;
    }
    const { products } = await listed.json();
    const taken = products.find((/** @type {{ id: string }} */ p) => p.id === id);
    if (taken !== undefined) {
      refuse(
        `That id is taken (field "id"): ${id} is ${taken.retired ? "a retired" : "a"} product. ` +
          "Choose another id.",
      );
      return;
    }
    const response = await fetch(productPath(id), {
      method: "PUT",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(newProductBody(values())),
    });
    if (!response.ok) {
      refuse(`Could not add ${id}: ${await refusalOf(response)}`);
      return;
    }
    const product = await response.json();
    actions.done(product);
    dialog.close();
    actions.tell(`${product.name} added: its page is /products/${product.id}.`);
  }

  /** Sends the fields changed since the form was filled, and only those. */
  async function change() {
    const id = editing;
    const name = actions.find(id)?.name ?? id;
    const changes = productChanges(/** @type {ProductFormValues} */ (before), values());
    if (Object.keys(changes).length === 0) {
      dialog.close();
      actions.tell(`${name}: nothing changed.`);
      return;
    }
    const response = await fetch(productPath(id), {
      method: "PATCH",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(changes),
    });
    if (!response.ok) {
      refuse(`Could not change ${name}: ${await refusalOf(response)}`);
      return;
    }
    actions.done(await response.json());
    dialog.close();
    actions.tell(`${name}: saved ${Object.keys(changes).join(", ")}.`);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearRefusal();
    save.disabled = true;
    try {
      await (before === undefined ? add() : change());
    } catch {
      refuse("Could not reach the server. Check the connection and try again.");
    } finally {
      save.disabled = false;
    }
  });
  for (const button of form.querySelectorAll("[data-close]")) {
    button.addEventListener("click", () => dialog.close());
  }
  dialog.addEventListener("close", () => opener?.focus());

  return {
    add(from) {
      before = undefined;
      editing = "";
      const currency = actions.currency();
      form.reset();
      fill({ ...formValuesOf({ id: "", name: "", price: { amount: "", currency } }), total: "" });
      setText(title, "Add a product");
      open("add", from);
    },
    edit(product, from) {
      before = formValuesOf(product);
      editing = product.id;
      form.reset();
      fill({ ...before, id: product.id, total: "" });
      setText(title, `Edit ${product.name}`);
      open("edit", from);
    },
  };
}
