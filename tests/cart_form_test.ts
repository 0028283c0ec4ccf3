/** The form reader of the cart (and the queue) against URLSearchParams, on bodies built to trip a hand-written parser. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { bodyFields } from "../lib/http/body_fields.ts";

type Fields = Partial<Record<"action" | "session" | "product", string>>;

/** The cart's fields of a form body. */
function cartFormFields(text: string): Fields {
  return bodyFields({ mediaType: "application/x-www-form-urlencoded", text }, [
    "action",
    "session",
    "product",
  ]);
}

/** What URLSearchParams reads, the way the reader must: the reference. */
function byUrlSearchParams(text: string): Fields | string {
  const params = new URLSearchParams(text);
  const fields: Record<string, string> = {};
  for (const name of ["action", "session", "product"]) {
    const values = params.getAll(name);
    if (values.length > 1) return `Field "${name}" is given more than once`;
    if (values.length === 1) fields[name] = values[0];
  }
  return fields;
}

function read(text: string): Fields | string {
  try {
    return cartFormFields(text);
  } catch (error) {
    return (error as Error).message;
  }
}

// Pieces a body is made of: the field names (whole or cut), separators, escapes and plain text.
const piece = fc.constantFrom(
  "action",
  "session",
  "product",
  "act",
  "=",
  "&",
  "&&",
  "%20",
  "%3D",
  "%26",
  "%",
  "%zz",
  "+",
  "add",
  "a b",
  "é",
  "",
);

Deno.test("the cart's form reader reads what URLSearchParams reads, 2,000 bodies", () => {
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
      const text = pieces.join("");
      assert.deepEqual(read(text), byUrlSearchParams(text), text);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("the cart's form reader: a field without '=' is empty, others are ignored", () => {
  assert.deepEqual(cartFormFields("action&other=1&&product="), { action: "", product: "" });
  assert.deepEqual(cartFormFields(""), {});
});

Deno.test("the cart's form reader names the first field given twice in the order action, session, product", () => {
  assert.throws(() => cartFormFields("product=a&product=b&action=x&action=y"), /"action" is given/);
  assert.throws(() => cartFormFields("product=a&session=1&product=b&session=2"), /"session" is/);
});
