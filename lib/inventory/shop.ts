/** What the shop calls itself and says of itself on its pages: its name and tagline. */

/** The shop's name and tagline, as its pages show them. */
export interface ShopWords {
  /** The shop's name: the catalog's heading, and the end of every page's title. */
  readonly name: string;
  /** One line under the catalog's heading, and its pages' description; may be empty. */
  readonly tagline: string;
}

/** What a shop whose catalog file gives no `shop` is called. */
export const DEFAULT_SHOP: ShopWords = {
  name: "The drop",
  tagline: "Everything in this drop, with its stock counted live.",
};

const MAX_NAME_LENGTH = 100;
const MAX_TAGLINE_LENGTH = 300;
const SHOP_KEYS: ReadonlySet<string> = new Set(["name", "tagline"]);

/**
 * Validates the `shop` of a catalog file: `{"name", "tagline"}`, both optional (each left out
 * takes {@linkcode DEFAULT_SHOP}'s), trimmed, without control characters.
 *
 * @param value The parsed JSON of `shop`, or undefined when the file gives none.
 * @returns The shop's words.
 * @throws {RangeError} For a value that is no object, an unknown field, or a bad name (1 to 100
 *   characters) or tagline (at most 300), naming the field and the value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(shopWordsOf({ name: " Moonlit Press " }), {
 *   name: "Moonlit Press",
 *   tagline: DEFAULT_SHOP.tagline,
 * });
 * assert.equal(shopWordsOf(undefined), DEFAULT_SHOP);
 * assert.throws(() => shopWordsOf({ name: "" }), {
 *   message: 'field "shop.name" must be text of 1 to 100 characters without control characters, got ""',
 * });
 * assert.throws(() => shopWordsOf({ logo: "x" }), { message: 'unknown field "shop.logo"' });
 * ```
 */
export function shopWordsOf(value: unknown): ShopWords {
  if (value === undefined) return DEFAULT_SHOP;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new RangeError(
      `field "shop" must be an object {"name", "tagline"}, got ${JSON.stringify(value)}`,
    );
  }
  const unknown = Object.keys(value).find((key) => !SHOP_KEYS.has(key));
  if (unknown !== undefined) throw new RangeError(`unknown field "shop.${unknown}"`);
  const { name, tagline } = value as { name?: unknown; tagline?: unknown };
  return {
    name: name === undefined ? DEFAULT_SHOP.name : textOf("name", name, 1, MAX_NAME_LENGTH),
    tagline: tagline === undefined
      ? DEFAULT_SHOP.tagline
      : textOf("tagline", tagline, 0, MAX_TAGLINE_LENGTH),
  };
}

function textOf(field: string, value: unknown, min: number, max: number): string {
  const text = typeof value === "string" ? value.trim() : undefined;
  const length = text === undefined ? 0 : [...text].length;
  if (text === undefined || length < min || length > max || /\p{Cc}/u.test(text)) {
    throw new RangeError(
      `field "shop.${field}" must be text of ${
        min === 0 ? "at most" : `${min} to`
      } ${max} characters without control characters, got ${JSON.stringify(value)}`,
    );
  }
  return text;
}
