/** Tests of the dashboard's product form without a browser: values, a new product's body, changes. */
import assert from "node:assert/strict";
import {
  formValuesOf,
  isoOfLocalDateTime,
  localDateTimeOf,
  newProductBody,
  productChanges,
  refusedField,
} from "../static/product_edits.js";

const pin = {
  id: "moon-pin",
  name: "Moon pin",
  description: "Enamel",
  price: { amount: "9.00", currency: "EUR" },
  image: "https://shop.example/pin.png",
  limitPerShopper: 2,
  opensAt: "2030-12-24T17:00:00Z",
};

Deno.test("a product shown in the form and saved untouched changes nothing", () => {
  const before = formValuesOf(pin);
  assert.equal(before.limitPerShopper, "2");
  assert.equal(isoOfLocalDateTime(before.opensAt), pin.opensAt);
  assert.deepEqual(productChanges(before, { ...before }), {});
});

Deno.test("each field changed goes alone; a price goes whole; emptied optional fields go as null", () => {
  const before = formValuesOf(pin);
  assert.deepEqual(productChanges(before, { ...before, name: "Sun pin" }), { name: "Sun pin" });
  assert.deepEqual(productChanges(before, { ...before, currency: "usd" }), {
    price: { amount: "9.00", currency: "USD" },
  });
  assert.deepEqual(productChanges(before, { ...before, description: "" }), { description: "" });
  assert.deepEqual(productChanges(before, { ...before, image: " " }), { image: null });
  assert.deepEqual(productChanges(before, { ...before, opensAt: "" }), { opensAt: null });
  assert.deepEqual(productChanges(before, { ...before, limitPerShopper: "x" }), {
    limitPerShopper: "x",
  });
  const later = localDateTimeOf("2030-12-24T18:30:15Z");
  assert.deepEqual(productChanges(before, { ...before, opensAt: later }), {
    opensAt: "2030-12-24T18:30:15Z",
  });
});

Deno.test("a new product's body has every field typed, and numbers as numbers", () => {
  const body = newProductBody({ ...formValuesOf(pin), total: " 50 " });
  assert.deepEqual(body, {
    name: "Moon pin",
    price: { amount: "9.00", currency: "EUR" },
    description: "Enamel",
    image: "https://shop.example/pin.png",
    limitPerShopper: 2,
    total: 50,
    opensAt: "2030-12-24T17:00:00Z",
  });
  // What is no number goes as typed, for the server to refuse it by name.
  assert.equal(newProductBody({ ...formValuesOf(pin), total: "" }).total, "");
});

Deno.test("the field a refusal names is found, nested ones too", () => {
  assert.equal(
    refusedField('product "moon-pin": field "price.currency" must be an ISO 4217 currency code'),
    "price.currency",
  );
  assert.equal(refusedField('Field "id" must be "pin" as in the URL, got "tote"'), "id");
  assert.equal(refusedField("Admin token is wrong"), undefined);
});
