/** Tests for loading the catalog file: the example, every refusal, image detection and limits. */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { loadCatalogFile, MAX_IMAGE_BYTES } from "../lib/server/catalog_file.ts";
import { ProductError } from "../lib/inventory/product.ts";

const DOCS = join(import.meta.dirname!, "..", "docs");
const EXAMPLE = join(DOCS, "catalog.example.json");

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52];
const JPEG = [0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0];
const WEBP = [...ascii("RIFF"), 0x24, 0, 0, 0, ...ascii("WEBPVP8 ")];
const SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>';

/** A product of a test catalog, with what the test changes. */
function product(id: string, changes: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    name: `Poster ${id}`,
    price: { amount: "12.00", currency: "EUR" },
    total: 3,
    ...changes,
  };
}

/** A temporary folder of files (a catalog, images); `catalog.json` in it is the catalog. */
interface CatalogFolder extends AsyncDisposable {
  readonly dir: string;
  readonly path: string;
}

/**
 * Writes files below a new temporary folder; `await using` removes it.
 *
 * @param files Paths in the folder → JSON to write as text (objects), text, or bytes.
 */
async function catalogFolder(files: Record<string, unknown>): Promise<CatalogFolder> {
  const dir = await Deno.makeTempDir({ prefix: "catalog_file_" });
  for (const [name, content] of Object.entries(files)) {
    await Deno.mkdir(dirname(join(dir, name)), { recursive: true });
    if (content instanceof Uint8Array) await Deno.writeFile(join(dir, name), content);
    else {
      const text = typeof content === "string" ? content : JSON.stringify(content);
      await Deno.writeTextFile(join(dir, name), text);
    }
  }
  return {
    dir,
    path: join(dir, "catalog.json"),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

async function mediaName(bytes: Uint8Array<ArrayBuffer>, extension: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `${
    Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("").slice(0, 16)
  }.${extension}`;
}

function ascii(text: string): number[] {
  return Array.from(text, (character) => character.charCodeAt(0));
}

/** Loads a catalog that must be refused with a RangeError of exactly this message. */
async function refused(
  path: string,
  message: string | RegExp,
  maxProducts = 10,
): Promise<RangeError> {
  let caught: unknown;
  try {
    await loadCatalogFile(path, { maxProducts });
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof RangeError, `expected a RangeError, got ${caught}`);
  if (typeof message === "string") assert.equal(caught.message, message);
  else assert.match(caught.message, message);
  assert.ok(!caught.message.includes("\n"), `one line: ${caught.message}`);
  return caught;
}

Deno.test("the example catalog loads with its three SVG images in memory", async () => {
  const { products, media } = await loadCatalogFile(EXAMPLE, { maxProducts: 3 });
  const images: string[] = [];
  for (const file of ["night-sky-print.svg", "canvas-tote.svg", "moon-pin.svg"]) {
    const bytes = await Deno.readFile(join(DOCS, file));
    assert.ok(bytes.byteLength < 10_000, `${file} stays small`);
    const name = await mediaName(bytes, "svg");
    images.push(`/media/${name}`);
    const served = media.get(name);
    assert.deepEqual(served?.body, bytes);
    assert.equal(served?.contentType, "image/svg+xml");
    assert.match(served?.etag ?? "", /^"[A-Za-z0-9+/]{24}"$/);
  }
  assert.equal(media.size, 3);
  assert.deepEqual(
    products.map(({ id, price, total, image }) => ({ id, price, total, image })),
    [
      {
        id: "night-sky-print",
        price: { amount: "40.00", currency: "EUR" },
        total: 10,
        image: images[0],
      },
      {
        id: "canvas-tote",
        price: { amount: "18.50", currency: "EUR" },
        total: 25,
        image: images[1],
      },
      { id: "moon-pin", price: { amount: "9.00", currency: "EUR" }, total: 50, image: images[2] },
    ],
  );
  assert.equal(products[0].name, "Night sky print");
  assert.ok(products.every((item) => item.description.length > 0));
});

Deno.test("images are recognized by their bytes, not their names", async (t) => {
  const cases: Array<[string, Uint8Array<ArrayBuffer>, string, string]> = [
    ["PNG", new Uint8Array(PNG), "png", "image/png"],
    ["JPEG", new Uint8Array(JPEG), "jpg", "image/jpeg"],
    ["WebP", new Uint8Array(WEBP), "webp", "image/webp"],
    ["SVG", new TextEncoder().encode(SVG), "svg", "image/svg+xml"],
    ["SVG after blank lines", new TextEncoder().encode(`\n\n  ${SVG}`), "svg", "image/svg+xml"],
    [
      "SVG after a byte order mark",
      new TextEncoder().encode(`\ufeff${SVG}`),
      "svg",
      "image/svg+xml",
    ],
    [
      "SVG with an XML declaration and a doctype",
      new TextEncoder().encode(
        `<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd">\n${SVG}`,
      ),
      "svg",
      "image/svg+xml",
    ],
  ];
  for (const [title, bytes, extension, contentType] of cases) {
    await t.step(title, async () => {
      // The name says GIF: only the bytes count.
      await using folder = await catalogFolder({
        "catalog.json": { products: [product("poster-a", { image: "art/poster.gif" })] },
        "art/poster.gif": bytes,
      });
      const { products, media } = await loadCatalogFile(folder.path, { maxProducts: 1 });
      const name = await mediaName(bytes, extension);
      assert.equal(products[0].image, `/media/${name}`);
      assert.deepEqual([...media.keys()], [name]);
      assert.equal(media.get(name)?.contentType, contentType);
      assert.deepEqual(media.get(name)?.body, bytes);
    });
  }
});

Deno.test("files that are no known image are refused, naming product, field and path", async (t) => {
  const cases: Array<[string, Uint8Array]> = [
    ["GIF", new Uint8Array([...ascii("GIF89a"), 1, 0, 1, 0])],
    ["empty", new Uint8Array()],
    ["HTML", new TextEncoder().encode("<!doctype html><svg></svg>")],
    ["XML that is no SVG", new TextEncoder().encode('<?xml version="1.0"?><rss></rss>')],
    ["RIFF that is no WebP", new Uint8Array([...ascii("RIFF"), 0x24, 0, 0, 0, ...ascii("WAVE")])],
    ["text that is not UTF-8", new Uint8Array([0x3c, 0x73, 0x76, 0x67, 0xff, 0xfe])],
    ["half a PNG signature", new Uint8Array(PNG.slice(0, 4))],
  ];
  for (const [title, bytes] of cases) {
    await t.step(title, async () => {
      await using folder = await catalogFolder({
        "catalog.json": { products: [product("poster-a", { image: "poster.png" })] },
        "poster.png": bytes,
      });
      const error = await refused(
        folder.path,
        `product "poster-a": field "image" must be a PNG, JPEG, WebP or SVG image, got ${
          JSON.stringify(join(folder.dir, "poster.png"))
        }`,
      );
      assert.ok(error instanceof ProductError);
      assert.equal(error.product, "poster-a");
      assert.equal(error.field, "image");
    });
  }
});

Deno.test("an image of exactly 2 MiB is kept; one byte more is refused", async () => {
  const largest = new Uint8Array(MAX_IMAGE_BYTES);
  largest.set(PNG);
  const tooLarge = new Uint8Array(MAX_IMAGE_BYTES + 1);
  tooLarge.set(PNG);
  await using folder = await catalogFolder({
    "catalog.json": { products: [product("poster-a", { image: "largest.png" })] },
    "largest.png": largest,
    "too-large.png": tooLarge,
  });
  const { media } = await loadCatalogFile(folder.path, { maxProducts: 1 });
  assert.equal([...media.values()][0].body.byteLength, 2 * 1024 * 1024);

  await Deno.writeTextFile(
    folder.path,
    JSON.stringify({ products: [product("poster-a", { image: "too-large.png" })] }),
  );
  await refused(
    folder.path,
    `product "poster-a": field "image" must be at most 2 MiB, got 2097153 bytes in ${
      JSON.stringify(join(folder.dir, "too-large.png"))
    }`,
  );
});

Deno.test("an image outside the catalog's folder is refused, through .. or a symbolic link", async () => {
  await using folder = await catalogFolder({
    "shop/inside.svg": SVG,
    "outside.svg": SVG,
  });
  const shop = join(folder.dir, "shop");
  const path = join(shop, "catalog.json");
  await Deno.symlink(join(folder.dir, "outside.svg"), join(shop, "link.svg"));
  await Deno.symlink(join(shop, "inside.svg"), join(shop, "inside-link.svg"));
  const write = (image: string) =>
    Deno.writeTextFile(path, JSON.stringify({ products: [product("poster-a", { image })] }));

  await write("../outside.svg");
  await refused(
    path,
    `product "poster-a": field "image" must be an https:// URL or a file inside the catalog's folder, got "../outside.svg"`,
  );
  await write(join(folder.dir, "outside.svg"));
  await refused(
    path,
    `product "poster-a": field "image" must be an https:// URL or a file inside the catalog's folder, got ${
      JSON.stringify(join(folder.dir, "outside.svg"))
    }`,
  );
  await write("link.svg");
  await refused(
    path,
    `product "poster-a": field "image" must be a file inside the catalog's folder, got ${
      JSON.stringify(join(shop, "link.svg"))
    }`,
  );
  await write("inside-link.svg");
  const { products } = await loadCatalogFile(path, { maxProducts: 1 });
  assert.match(products[0].image ?? "", /^\/media\/[0-9a-f]{16}\.svg$/);
});

Deno.test("https images are linked as given, shared files are kept once, no image is null", async () => {
  await using folder = await catalogFolder({
    "catalog.json": {
      products: [
        product("poster-a", { image: "poster.svg" }),
        product("poster-b", { image: "./poster.svg" }),
        product("poster-c", { image: "https://cdn.example/c.png" }),
        product("poster-d", { image: null }),
        product("poster-e"),
      ],
    },
    "poster.svg": SVG,
  });
  const { products, media } = await loadCatalogFile(folder.path, { maxProducts: 5 });
  const name = await mediaName(new TextEncoder().encode(SVG), "svg");
  assert.deepEqual(products.map((item) => item.image), [
    `/media/${name}`,
    `/media/${name}`,
    "https://cdn.example/c.png",
    null,
    null,
  ]);
  assert.deepEqual([...media.keys()], [name]);
  assert.deepEqual(products[4], {
    id: "poster-e",
    name: "Poster poster-e",
    description: "",
    price: { amount: "12.00", currency: "EUR" },
    total: 3,
    image: null,
    limitPerShopper: 1,
  });
});

Deno.test("bad catalog files are refused with one line naming the file or the product", async (t) => {
  const three = [product("poster-a"), product("poster-b"), product("poster-c")];
  const cases: Array<[string, Record<string, unknown>, (dir: string, path: string) => string]> = [
    [
      "invalid JSON",
      { "catalog.json": '{"products": [' },
      (_, path) =>
        `catalog file ${JSON.stringify(path)} is not valid JSON: Unexpected end of JSON input`,
    ],
    [
      "invalid JSON over several lines",
      { "catalog.json": '{"products": [\n1,\n]}' },
      (_, path) =>
        `catalog file ${
          JSON.stringify(path)
        } is not valid JSON: Unexpected token ']', "{"products": [ 1, ]}" is not valid JSON`,
    ],
    [
      "not UTF-8",
      { "catalog.json": new Uint8Array([0x7b, 0xff, 0x7d]) },
      (_, path) => `catalog file ${JSON.stringify(path)} is not valid UTF-8`,
    ],
    [
      "a list at the top",
      { "catalog.json": three },
      (_, path) => `catalog file ${JSON.stringify(path)} must hold an object {"products": [...]}`,
    ],
    [
      "an unknown top-level field",
      { "catalog.json": { products: three, shelf: "Moon" } },
      (_, path) => `catalog file ${JSON.stringify(path)} has an unknown top-level field "shelf"`,
    ],
    [
      "a shop that is no object",
      { "catalog.json": { products: three, shop: "Moon" } },
      (_, path) =>
        `catalog file ${
          JSON.stringify(path)
        }: field "shop" must be an object {"name", "tagline"}, got "Moon"`,
    ],
    [
      "a shop with an empty name",
      { "catalog.json": { products: three, shop: { name: " " } } },
      (_, path) =>
        `catalog file ${
          JSON.stringify(path)
        }: field "shop.name" must be text of 1 to 100 characters without control characters, got " "`,
    ],
    [
      "no products field",
      { "catalog.json": {} },
      (_, path) =>
        `catalog file ${
          JSON.stringify(path)
        } must have a field "products" holding a list of products`,
    ],
    [
      "products that are no list",
      { "catalog.json": { products: { a: 1 } } },
      (_, path) =>
        `catalog file ${
          JSON.stringify(path)
        } must have a field "products" holding a list of products`,
    ],
    [
      "an empty product list",
      { "catalog.json": { products: [] } },
      (_, path) => `catalog file ${JSON.stringify(path)} has no products`,
    ],
    ["more products than allowed", {
      "catalog.json": { products: [...three, product("poster-d")] },
    }, (_, path) => `catalog file ${JSON.stringify(path)} has 4 products, more than the 3 allowed`],
    [
      "a bad id, by its place",
      { "catalog.json": { products: [three[0], product("Bad Id")] } },
      () => 'product #2: field "id" must be a slug ([a-z0-9][a-z0-9-]{0,63}), got "Bad Id"',
    ],
    ["an unknown product field", {
      "catalog.json": { products: [product("x", { colour: "blue" })] },
    }, () => 'product "x": unknown field "colour"'],
    [
      "a negative total",
      { "catalog.json": { products: [product("poster-a", { total: -1 })] } },
      () => 'product "poster-a": field "total" must be a whole number from 0 to 1000000000, got -1',
    ],
    [
      "a limit per shopper of 0",
      { "catalog.json": { products: [product("poster-a", { limitPerShopper: 0 })] } },
      () =>
        'product "poster-a": field "limitPerShopper" must be a whole number from 1 to 100, got 0',
    ],
    [
      "a duplicate id",
      { "catalog.json": { products: [three[0], three[1], product("poster-a")] } },
      () => 'product "poster-a": field "id" is given to products #1 and #3, got "poster-a"',
    ],
    [
      "a missing image",
      { "catalog.json": { products: [product("poster-a", { image: "missing.svg" })] } },
      (dir) =>
        `product "poster-a": field "image" names a file that does not exist: ${
          JSON.stringify(join(dir, "missing.svg"))
        }`,
    ],
    [
      "an image that is a folder",
      {
        "catalog.json": { products: [product("poster-a", { image: "art" })] },
        "art/poster.svg": SVG,
      },
      (dir) =>
        `product "poster-a": field "image" must name a file, got ${
          JSON.stringify(join(dir, "art"))
        }`,
    ],
  ];
  for (const [title, files, message] of cases) {
    await t.step(title, async () => {
      await using folder = await catalogFolder(files);
      await refused(folder.path, message(folder.dir, folder.path), 3);
    });
  }
});

Deno.test("a catalog file that is missing or unreadable is named", async () => {
  await using folder = await catalogFolder({ "shop/readme.txt": "not a catalog" });
  const missing = join(folder.dir, "catalog.json");
  await refused(missing, `catalog file ${JSON.stringify(missing)} does not exist`);
  const shop = join(folder.dir, "shop");
  await refused(
    shop,
    new RegExp(
      `^catalog file ${RegExp.escape(JSON.stringify(shop))} cannot be read: .*directory`,
      "i",
    ),
  );
});

Deno.test("the file's shop gives the pages' name and tagline; each left out takes the default", async () => {
  await using folder = await catalogFolder({
    "catalog.json": { shop: { name: " Moonlit Press " }, products: [product("a")] },
  });
  const { shop } = await loadCatalogFile(folder.path, { maxProducts: 10 });
  assert.deepEqual(shop, {
    name: "Moonlit Press",
    tagline: "Everything in this drop, with its stock counted live.",
  });
  await using plain = await catalogFolder({ "catalog.json": { products: [product("a")] } });
  assert.equal((await loadCatalogFile(plain.path, { maxProducts: 10 })).shop.name, "The drop");
});
