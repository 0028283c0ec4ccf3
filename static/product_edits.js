// The dashboard's product form without the DOM: a product as form values, and the API body back.
// @ts-check

/**
 * @typedef {object} EditableProduct
 * What the form shows of a product, as the admin API and its feed tell of it.
 * @property {string} id
 * @property {string} name
 * @property {string} [description]
 * @property {{ amount: string, currency: string }} price
 * @property {string | null} [image]
 * @property {number} [limitPerShopper]
 * @property {string} [opensAt]
 * @property {number} [total]
 */

/**
 * @typedef {object} ProductFormValues
 * The form's fields as typed, each as the text its input holds.
 * @property {string} name
 * @property {string} amount
 * @property {string} currency
 * @property {string} description
 * @property {string} image
 * @property {string} limitPerShopper
 * @property {string} opensAt A `datetime-local` value, in the browser's time zone, or "".
 * @property {string} [total] Only when adding: units in stock.
 */

/** A whole or decimal number as typed; anything else goes to the server as text, to be named. */
const NUMBER_PATTERN = /^-?\d+(\.\d+)?$/;

/**
 * @param {number} n
 * @returns {string} Two digits or more.
 */
const twoDigits = (n) => String(n).padStart(2, "0");

/**
 * Writes an instant as a `datetime-local` input's value in the browser's time zone, to the
 * second when it has seconds.
 *
 * @param {string | undefined} iso An ISO 8601 date and time with a zone.
 * @returns {string} `YYYY-MM-DDTHH:MM` or `YYYY-MM-DDTHH:MM:SS`; "" for none or no date.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(localDateTimeOf(undefined), "");
 * const at = new Date(2026, 11, 12, 18, 0);
 * assert.equal(localDateTimeOf(at.toISOString()), "2026-12-12T18:00");
 * ```
 */
export function localDateTimeOf(iso) {
  const at = new Date(iso === undefined ? Number.NaN : Date.parse(iso));
  if (Number.isNaN(at.getTime())) return "";
  const day = `${at.getFullYear()}-${twoDigits(at.getMonth() + 1)}-${twoDigits(at.getDate())}`;
  const time = `${twoDigits(at.getHours())}:${twoDigits(at.getMinutes())}`;
  const seconds = at.getSeconds() === 0 ? "" : `:${twoDigits(at.getSeconds())}`;
  return `${day}T${time}${seconds}`;
}

/**
 * Reads a `datetime-local` value, in the browser's time zone, as the API's `opensAt`: UTC.
 *
 * @param {string} local The input's value.
 * @returns {string} ISO 8601 in UTC, to the second (`2026-12-12T17:00:00Z`); the text as given
 *   when it is no date, for the server to refuse by name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const local = localDateTimeOf("2026-12-12T17:00:00Z");
 * assert.equal(isoOfLocalDateTime(local), "2026-12-12T17:00:00Z");
 * assert.equal(isoOfLocalDateTime("soon"), "soon");
 * ```
 */
export function isoOfLocalDateTime(local) {
  const at = new Date(local);
  if (Number.isNaN(at.getTime())) return local;
  return at.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Shows a product in the form's fields.
 *
 * @param {EditableProduct} product
 * @returns {ProductFormValues}
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const values = formValuesOf({
 *   id: "moon-pin", name: "Moon pin", price: { amount: "9.00", currency: "EUR" }, image: null,
 * });
 * assert.equal(values.amount, "9.00");
 * assert.equal(values.image, "");
 * assert.equal(values.limitPerShopper, "1");
 * ```
 */
export function formValuesOf(product) {
  return {
    name: product.name,
    amount: product.price.amount,
    currency: product.price.currency,
    description: product.description ?? "",
    image: product.image ?? "",
    limitPerShopper: String(product.limitPerShopper ?? 1),
    opensAt: localDateTimeOf(product.opensAt),
  };
}

/**
 * @param {string} text
 * @returns {number | string} The number typed, or the text when it is none.
 */
function numberOf(text) {
  const trimmed = text.trim();
  return NUMBER_PATTERN.test(trimmed) ? Number(trimmed) : trimmed;
}

/**
 * The body of `PUT /admin/products/{id}` that lists a new product: every field typed, the empty
 * optional ones left out.
 *
 * @param {ProductFormValues} values
 * @returns {Record<string, unknown>}
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(
 *   newProductBody({
 *     name: "Moon pin", amount: "9.00", currency: "eur", description: "", image: "",
 *     limitPerShopper: "2", opensAt: "", total: "50",
 *   }),
 *   {
 *     name: "Moon pin", price: { amount: "9.00", currency: "EUR" }, description: "",
 *     limitPerShopper: 2, total: 50,
 *   },
 * );
 * ```
 */
export function newProductBody(values) {
  /** @type {Record<string, unknown>} */
  const body = {
    name: values.name,
    price: { amount: values.amount.trim(), currency: values.currency.trim().toUpperCase() },
    description: values.description,
    limitPerShopper: numberOf(values.limitPerShopper),
    total: numberOf(values.total ?? ""),
  };
  if (values.image.trim() !== "") body.image = values.image.trim();
  if (values.opensAt !== "") body.opensAt = isoOfLocalDateTime(values.opensAt);
  return body;
}

/**
 * The body of `PATCH /admin/products/{id}`: only the fields changed since the form was filled.
 * A price goes whole when its amount or currency changed; an image or opening time emptied goes
 * as null, which removes it.
 *
 * @param {ProductFormValues} before The values the form was filled with.
 * @param {ProductFormValues} after The values as the owner left them.
 * @returns {Record<string, unknown>} The changed fields; empty when nothing changed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const before = {
 *   name: "Moon pin", amount: "9.00", currency: "EUR", description: "", image: "/media/pin.svg",
 *   limitPerShopper: "1", opensAt: "",
 * };
 * assert.deepEqual(productChanges(before, { ...before }), {});
 * assert.deepEqual(productChanges(before, { ...before, amount: "11.00", limitPerShopper: "3" }), {
 *   price: { amount: "11.00", currency: "EUR" },
 *   limitPerShopper: 3,
 * });
 * assert.deepEqual(productChanges(before, { ...before, image: "" }), { image: null });
 * ```
 */
export function productChanges(before, after) {
  /** @type {Record<string, unknown>} */
  const changes = {};
  if (after.name !== before.name) changes.name = after.name;
  if (after.amount !== before.amount || after.currency !== before.currency) {
    changes.price = { amount: after.amount.trim(), currency: after.currency.trim().toUpperCase() };
  }
  if (after.description !== before.description) changes.description = after.description;
  if (after.image.trim() !== before.image) {
    changes.image = after.image.trim() === "" ? null : after.image.trim();
  }
  if (after.limitPerShopper !== before.limitPerShopper) {
    changes.limitPerShopper = numberOf(after.limitPerShopper);
  }
  if (after.opensAt !== before.opensAt) {
    changes.opensAt = after.opensAt === "" ? null : isoOfLocalDateTime(after.opensAt);
  }
  return changes;
}

/**
 * Finds the field an API refusal names (`field "price.amount" must be …`), to mark its input.
 *
 * @param {string} message The server's `error` text.
 * @returns {string | undefined} The field's name, e.g. `price.amount`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(refusedField('product "pin": field "price.amount" must be…'), "price.amount");
 * assert.equal(refusedField("The catalog is full"), undefined);
 * ```
 */
export function refusedField(message) {
  return /field "([\w.]+)"/i.exec(message)?.[1];
}
