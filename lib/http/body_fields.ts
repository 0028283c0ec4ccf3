/** Named text fields of a form or flat JSON body, as the cart and the queue read them. */
import { HttpError } from "./http_error.ts";
import { parseJsonBody, type RequestBody } from "./request_body.ts";

/**
 * Reads named text fields from a form (`application/x-www-form-urlencoded`, as
 * `URLSearchParams` reads it) or a flat JSON object; other fields are ignored.
 *
 * @param body The body, already read.
 * @param names The fields to read.
 * @returns Those given, by name.
 * @throws {HttpError} 400 when a form field is given more than once, or the JSON is not a flat
 *   object or a field is not a string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const form = { mediaType: "application/x-www-form-urlencoded", text: "product=a%20b&x=1" };
 * assert.deepEqual(bodyFields(form, ["product", "session"]), { product: "a b" });
 * const json = { mediaType: "application/json", text: '{"product": 1}' };
 * assert.throws(() => bodyFields(json, ["product"]), /must be a string/);
 * ```
 */
export function bodyFields<Name extends string>(
  body: RequestBody,
  names: readonly Name[],
): Partial<Record<Name, string>> {
  return body.mediaType === "application/json"
    ? jsonFields(body.text, names)
    : formFields(body.text, names);
}

function formFields<Name extends string>(
  text: string,
  names: readonly Name[],
): Partial<Record<Name, string>> {
  const params = new URLSearchParams(text);
  const fields: Partial<Record<Name, string>> = {};
  for (const name of names) {
    const values = params.getAll(name);
    if (values.length > 1) throw new HttpError(400, `Field "${name}" is given more than once`);
    if (values.length === 1) fields[name] = values[0];
  }
  return fields;
}

function jsonFields<Name extends string>(
  text: string,
  names: readonly Name[],
): Partial<Record<Name, string>> {
  const value = parseJsonBody(text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(400, "Body must be a JSON object");
  }
  // Nothing we read is nested; refusing nesting keeps odd payloads from looking acceptable.
  if (Object.values(value).some((field) => typeof field === "object" && field !== null)) {
    throw new HttpError(400, "Body must be a flat JSON object");
  }
  const fields: Partial<Record<Name, string>> = {};
  for (const name of names) {
    const field = (value as Record<string, unknown>)[name];
    if (field === undefined) continue;
    if (typeof field !== "string") throw new HttpError(400, `Field "${name}" must be a string`);
    fields[name] = field;
  }
  return fields;
}
