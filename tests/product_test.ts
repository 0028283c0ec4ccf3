/** Unit tests for validating one product's fields and writing its price. */
import assert from "node:assert/strict";
import { formatPrice, MAX_TOTAL, ProductError } from "../lib/inventory/product.ts";
import { type ImageRule, parseProductFields } from "../lib/inventory/product_fields.ts";

const PRINT = {
  id: "night-sky-print",
  name: "Night sky print",
  description: "A2 giclée print of the winter sky.",
  price: { amount: "40.00", currency: "EUR" },
  total: 10,
  image: "night-sky.svg",
  limitPerShopper: 2,
};

const inFile = { label: "#2", imageRule: "file-or-https" } as const;

Deno.test("a full product from a catalog file is kept as given, its image a file", () => {
  assert.deepEqual(parseProductFields(PRINT, inFile), {
    ...PRINT,
    image: { kind: "file", path: "night-sky.svg" },
  });
});

Deno.test("good products", async (t) => {
  const cases: Array<[string, unknown, ImageRule, Record<string, unknown>]> = [
    [
      "only the required fields",
      { ...PRINT, description: undefined, image: undefined, limitPerShopper: undefined },
      "file-or-https",
      {
        description: "",
        image: null,
        limitPerShopper: 1,
      },
    ],
    ["image null", { ...PRINT, image: null }, "https-only", { image: null }],
    ["name trimmed", { ...PRINT, name: "  Night sky print \n" }, "file-or-https", {
      name: "Night sky print",
    }],
    ["200-character name of emoji", { ...PRINT, name: "🌙".repeat(200) }, "file-or-https", {
      name: "🌙".repeat(200),
    }],
    [
      "2000-character description with line breaks and tabs",
      {
        ...PRINT,
        description: "a\r\n\t".repeat(500),
      },
      "file-or-https",
      { description: "a\r\n\t".repeat(500) },
    ],
    ["one-character id", { ...PRINT, id: "7" }, "file-or-https", { id: "7" }],
    ["64-character id", { ...PRINT, id: "a".repeat(64) }, "file-or-https", { id: "a".repeat(64) }],
    ["total 0", { ...PRINT, total: 0 }, "file-or-https", { total: 0 }],
    ["limit 1 per shopper", { ...PRINT, limitPerShopper: 1 }, "file-or-https", {
      limitPerShopper: 1,
    }],
    ["limit 100 per shopper", { ...PRINT, limitPerShopper: 100 }, "file-or-https", {
      limitPerShopper: 100,
    }],
    ["total at the maximum", { ...PRINT, total: MAX_TOTAL }, "file-or-https", { total: MAX_TOTAL }],
    [
      "largest amount",
      {
        ...PRINT,
        price: { amount: "999999999.9999", currency: "JPY" },
      },
      "file-or-https",
      { price: { amount: "999999999.9999", currency: "JPY" } },
    ],
    ["whole amount", { ...PRINT, price: { amount: "5", currency: "CHF" } }, "file-or-https", {
      price: { amount: "5", currency: "CHF" },
    }],
    [
      "file in a subfolder, normalized",
      { ...PRINT, image: "./img//../img/a.png" },
      "file-or-https",
      {
        image: { kind: "file", path: "img/a.png" },
      },
    ],
    [
      "https image from a file",
      {
        ...PRINT,
        image: "https://cdn.example/a b.png",
      },
      "file-or-https",
      { image: { kind: "https", url: "https://cdn.example/a%20b.png" } },
    ],
    ["https image from the admin", { ...PRINT, image: "HTTPS://CDN.example/x.png" }, "https-only", {
      image: { kind: "https", url: "https://cdn.example/x.png" },
    }],
  ];
  for (const [title, value, imageRule, changed] of cases) {
    await t.step(title, () => {
      const fields = parseProductFields(value, { label: "#1", imageRule });
      const expected = {
        ...PRINT,
        image: { kind: "file", path: PRINT.image },
        ...changed,
      };
      assert.deepEqual(fields, expected);
    });
  }
});

/** One bad product: the error must name exactly this product and field, in exactly this message. */
interface BadCase {
  readonly value: unknown;
  readonly imageRule?: ImageRule;
  readonly product?: string;
  readonly field: string;
  readonly message: string;
}

const P = 'product "night-sky-print": ';
const ID = 'product #2: field "id" must be a slug ([a-z0-9][a-z0-9-]{0,63}), got ';
const NAME = P +
  'field "name" must be text of 1 to 200 characters without control characters, got ';
const DESCRIPTION = P +
  'field "description" must be text of at most 2000 characters without control characters but line breaks and tabs, got ';
const AMOUNT = P +
  'field "price.amount" must be a decimal text of up to 9 digits and 4 decimals (e.g. "40.00"), got ';
const CURRENCY = P + 'field "price.currency" must be an ISO 4217 currency code (e.g. "EUR"), got ';
const TOTAL = P + 'field "total" must be a whole number from 0 to 1000000000, got ';
const LIMIT = P + 'field "limitPerShopper" must be a whole number from 1 to 100, got ';
const IMAGE_FILE = P +
  `field "image" must be an https:// URL or a file inside the catalog's folder, got `;
const IMAGE_URL = P + 'field "image" must be an https:// URL with a host and no user name, got ';
const IMAGE_TEXT = P +
  'field "image" must be an https:// URL or a file name of at most 2048 characters without control characters, got ';
/** A value as the message shows it when long: its JSON, cut after 80 characters. */
const cut = (value: unknown) => `${JSON.stringify(value).slice(0, 80)}…`;

const BAD: BadCase[] = [
  {
    value: null,
    product: "#2",
    field: "",
    message: "product #2: must be an object of product fields, got null",
  },
  {
    value: "poster",
    product: "#2",
    field: "",
    message: 'product #2: must be an object of product fields, got "poster"',
  },
  {
    value: [PRINT],
    product: "#2",
    field: "",
    message: `product #2: must be an object of product fields, got ${cut([PRINT])}`,
  },
  {
    value: { ...PRINT, id: undefined },
    product: "#2",
    field: "id",
    message: 'product #2: field "id" is missing',
  },
  { value: { ...PRINT, id: "Bad Id" }, product: "#2", field: "id", message: ID + '"Bad Id"' },
  { value: { ...PRINT, id: "-dash" }, product: "#2", field: "id", message: ID + '"-dash"' },
  {
    value: { ...PRINT, id: "a".repeat(65) },
    product: "#2",
    field: "id",
    message: ID + `"${"a".repeat(65)}"`,
  },
  { value: { ...PRINT, id: 7 }, product: "#2", field: "id", message: ID + "7" },
  {
    value: { id: "x", colour: "blue" },
    product: "x",
    field: "colour",
    message: 'product "x": unknown field "colour"',
  },
  {
    value: JSON.parse('{"id": "x", "__proto__": {}}'),
    product: "x",
    field: "__proto__",
    message: 'product "x": unknown field "__proto__"',
  },
  { value: { ...PRINT, name: undefined }, field: "name", message: P + 'field "name" is missing' },
  { value: { ...PRINT, name: "   " }, field: "name", message: NAME + '"   "' },
  {
    value: { ...PRINT, name: "a".repeat(201) },
    field: "name",
    message: NAME + cut("a".repeat(201)),
  },
  { value: { ...PRINT, name: "Bell\u0007" }, field: "name", message: NAME + '"Bell\\u0007"' },
  { value: { ...PRINT, name: "Two\nlines" }, field: "name", message: NAME + '"Two\\nlines"' },
  { value: { ...PRINT, name: 3 }, field: "name", message: NAME + "3" },
  {
    value: { ...PRINT, description: "d".repeat(2001) },
    field: "description",
    message: DESCRIPTION + cut("d".repeat(2001)),
  },
  {
    value: { ...PRINT, description: "nul\u0000" },
    field: "description",
    message: DESCRIPTION + '"nul\\u0000"',
  },
  { value: { ...PRINT, description: null }, field: "description", message: DESCRIPTION + "null" },
  {
    value: { ...PRINT, price: undefined },
    field: "price",
    message: P + 'field "price" is missing',
  },
  {
    value: { ...PRINT, price: "40.00 EUR" },
    field: "price",
    message: P + 'field "price" must be an object {"amount", "currency"}, got "40.00 EUR"',
  },
  {
    value: { ...PRINT, price: { amount: "40.00", currency: "EUR", vat: "20%" } },
    field: "price.vat",
    message: P + 'unknown field "price.vat"',
  },
  {
    value: { ...PRINT, price: { amount: 40, currency: "EUR" } },
    field: "price.amount",
    message: AMOUNT + "40",
  },
  ...["-1.00", "1e3", "40.", ".5", "1.23456", "1234567890", " 4", "4,00"].map((amount) => ({
    value: { ...PRINT, price: { amount, currency: "EUR" } },
    field: "price.amount",
    message: AMOUNT + JSON.stringify(amount),
  })),
  {
    value: { ...PRINT, price: { amount: "40.00" } },
    field: "price.currency",
    message: P + 'field "price.currency" is missing',
  },
  ...["eur", "EURO", "ABC", "XYZ", "€"].map((currency) => ({
    value: { ...PRINT, price: { amount: "40.00", currency } },
    field: "price.currency",
    message: CURRENCY + JSON.stringify(currency),
  })),
  {
    value: { ...PRINT, id: "poster-a", total: -1 },
    product: "poster-a",
    field: "total",
    message:
      'product "poster-a": field "total" must be a whole number from 0 to 1000000000, got -1',
  },
  {
    value: { ...PRINT, total: undefined },
    field: "total",
    message: P + 'field "total" is missing',
  },
  { value: { ...PRINT, total: 1.5 }, field: "total", message: TOTAL + "1.5" },
  { value: { ...PRINT, total: MAX_TOTAL + 1 }, field: "total", message: TOTAL + "1000000001" },
  { value: { ...PRINT, total: "10" }, field: "total", message: TOTAL + '"10"' },
  { value: { ...PRINT, limitPerShopper: 0 }, field: "limitPerShopper", message: LIMIT + "0" },
  { value: { ...PRINT, limitPerShopper: 101 }, field: "limitPerShopper", message: LIMIT + "101" },
  { value: { ...PRINT, limitPerShopper: 1.5 }, field: "limitPerShopper", message: LIMIT + "1.5" },
  { value: { ...PRINT, limitPerShopper: "2" }, field: "limitPerShopper", message: LIMIT + '"2"' },
  { value: { ...PRINT, limitPerShopper: null }, field: "limitPerShopper", message: LIMIT + "null" },
  ...["/etc/passwd", "../secret.png", "img/../../x.svg", "", "."].map((image) => ({
    value: { ...PRINT, image },
    field: "image",
    message: IMAGE_FILE + JSON.stringify(image),
  })),
  ...[
    "http://cdn.example/a.png",
    "file:///etc/passwd",
    "https://me:pw@cdn.example/a.png",
    "https://",
    "C:\\images\\a.png",
  ].map((image) => ({
    value: { ...PRINT, image },
    field: "image",
    message: IMAGE_URL + JSON.stringify(image),
  })),
  {
    value: { ...PRINT, image: "a\u0000.svg" },
    field: "image",
    message: IMAGE_TEXT + '"a\\u0000.svg"',
  },
  {
    value: { ...PRINT, image: `https://cdn.example/${"x".repeat(2048)}` },
    field: "image",
    message: IMAGE_TEXT + cut(`https://cdn.example/${"x".repeat(2048)}`),
  },
  { value: { ...PRINT, image: 5 }, field: "image", message: IMAGE_TEXT + "5" },
  {
    value: { ...PRINT, image: "night-sky.svg" },
    imageRule: "https-only",
    field: "image",
    message: P + 'field "image" must be an https:// URL, got "night-sky.svg"',
  },
  {
    value: { ...PRINT, image: 5 },
    imageRule: "https-only",
    field: "image",
    message: P +
      'field "image" must be an https:// URL of at most 2048 characters without control characters, got 5',
  },
];

Deno.test("bad products: each message names the product, the field and the value", async (t) => {
  for (const bad of BAD) {
    await t.step(bad.message, () => {
      const where = { label: "#2", imageRule: bad.imageRule ?? "file-or-https" };
      const error = caught(() => parseProductFields(bad.value, where));
      assert.ok(error instanceof RangeError);
      assert.equal(error.message, bad.message);
      assert.equal(error.product, bad.product ?? "night-sky-print");
      assert.equal(error.field, bad.field);
    });
  }
});

Deno.test("formatPrice writes the locale's currency format without rounding the amount", () => {
  assert.equal(formatPrice({ amount: "40.00", currency: "EUR" }), "€40.00");
  assert.equal(formatPrice({ amount: "40", currency: "EUR" }, "en"), "€40.00");
  assert.equal(formatPrice({ amount: "1234.5", currency: "EUR" }, "de"), "1.234,50\u00a0€");
  assert.equal(formatPrice({ amount: "999999999.9999", currency: "USD" }), "$999,999,999.9999");
  assert.equal(formatPrice({ amount: "1500", currency: "JPY" }, "en"), "¥1,500");
  assert.equal(formatPrice({ amount: "0.005", currency: "JPY" }, "en"), "¥0.005");
});

function caught(run: () => unknown): ProductError {
  try {
    run();
  } catch (error) {
    if (error instanceof ProductError) return error;
    throw error;
  }
  assert.fail("no error was thrown");
}
