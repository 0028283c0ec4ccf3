/** Reads the catalog file: its products, validated, and their image files, into memory. */
import { dirname, join, relative, sep } from "node:path";
import { type Asset, assetOf } from "../http/static_assets.ts";
import { ProductError, type ProductInfo } from "../inventory/product.ts";
import { type ImageSource, parseProductFields } from "../inventory/product_fields.ts";
import { type ShopWords, shopWordsOf } from "../inventory/shop.ts";

/** An image from the catalog's folder, ready to serve below `/media/`. */
export type MediaFile = Asset;

/** A product of the catalog with its stock total. */
export type CatalogProduct = ProductInfo & { readonly total: number };

/** What a catalog file holds, loaded and checked. */
export interface Catalog {
  /** The products in the file's order; a file image is linked as `/media/<name>`. */
  readonly products: CatalogProduct[];
  /** The images by their name below `/media/` (e.g. `3f2a9c0d1e4b5a67.svg`). */
  readonly media: Map<string, MediaFile>;
  /** The shop's name and tagline: the file's `shop`, or the defaults. */
  readonly shop: ShopWords;
}

/** The largest image file accepted, in bytes (2 MiB). */
export const MAX_IMAGE_BYTES = 2 * 1024 * 1024;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];
const RIFF = [0x52, 0x49, 0x46, 0x46];
const WEBP = [0x57, 0x45, 0x42, 0x50];

/**
 * Loads a catalog file `{"shop": {"name", "tagline"}, "products": [...]}` (`shop` optional) and
 * the image files it names beside it.
 *
 * Images are recognized by their content (PNG, JPEG, WebP or SVG, at most 2 MiB), never by their
 * name, and named by their SHA-256, so a changed image gets a new URL. A file image must stay
 * inside the catalog's folder, symbolic links included.
 *
 * @param path The catalog file.
 * @param options `maxProducts`: the most products the file may hold.
 * @returns The products, each with its image as `/media/<name>`, an `https://` URL or null, the
 *   images by name, and the shop's words.
 * @throws {ProductError} For a bad product, a duplicate id or a bad or missing image file.
 * @throws {RangeError} For a file that is missing, unreadable, not UTF-8 or not valid JSON, an
 *   unknown top-level field, a bad `shop`, no products or more than `maxProducts`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const path = new URL("../../docs/catalog.example.json", import.meta.url).pathname;
 * const { products, media } = await loadCatalogFile(path, { maxProducts: 10 });
 * assert.equal(products[0].id, "night-sky-print");
 * assert.equal(media.get(products[0].image!.slice("/media/".length))?.contentType, "image/svg+xml");
 * ```
 */
export async function loadCatalogFile(
  path: string,
  options: { readonly maxProducts: number },
): Promise<Catalog> {
  const document = parseJson(path, await readText(path));
  const entries = productsOf(document, path, options.maxProducts);
  const shop = shopOf(document, path);
  const folder = dirname(path);
  const realFolder = await Deno.realPath(folder);
  const places = new Map<string, number>();
  const products: CatalogProduct[] = [];
  const media = new Map<string, MediaFile>();
  for (const [index, entry] of entries.entries()) {
    const place = index + 1;
    const { image, ...fields } = parseProductFields(entry, {
      label: `#${place}`,
      imageRule: "file-or-https",
    });
    const first = places.get(fields.id);
    if (first !== undefined) {
      throw new ProductError(
        fields.id,
        "id",
        `field "id" is given to products #${first} and #${place}, got ${JSON.stringify(fields.id)}`,
      );
    }
    places.set(fields.id, place);
    products.push({
      ...fields,
      image: await linkImage(fields.id, image, folder, realFolder, media),
    });
  }
  return { products, media, shop };
}

function shopOf(document: unknown, path: string): ShopWords {
  try {
    return shopWordsOf((document as { shop?: unknown }).shop);
  } catch (error) {
    throw new RangeError(`catalog file ${JSON.stringify(path)}: ${(error as Error).message}`);
  }
}

async function readText(path: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new RangeError(`catalog file ${JSON.stringify(path)} does not exist`, { cause: error });
    }
    throw new RangeError(
      `catalog file ${JSON.stringify(path)} cannot be read: ${oneLine(String(error))}`,
      { cause: error },
    );
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new RangeError(`catalog file ${JSON.stringify(path)} is not valid UTF-8`, {
      cause: error,
    });
  }
}

function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RangeError(
      `catalog file ${JSON.stringify(path)} is not valid JSON: ${
        oneLine((error as Error).message)
      }`,
      { cause: error },
    );
  }
}

function productsOf(document: unknown, path: string, maxProducts: number): unknown[] {
  const file = `catalog file ${JSON.stringify(path)}`;
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new RangeError(`${file} must hold an object {"products": [...]}`);
  }
  const unknown = Object.keys(document).find((key) => key !== "products" && key !== "shop");
  if (unknown !== undefined) {
    throw new RangeError(`${file} has an unknown top-level field ${JSON.stringify(unknown)}`);
  }
  const products = (document as { products?: unknown }).products;
  if (!Array.isArray(products)) {
    throw new RangeError(`${file} must have a field "products" holding a list of products`);
  }
  if (products.length === 0) throw new RangeError(`${file} has no products`);
  if (products.length > maxProducts) {
    throw new RangeError(
      `${file} has ${products.length} products, more than the ${maxProducts} allowed`,
    );
  }
  return products;
}

/** Reads a file image into `media` and answers its `/media/` path; an https URL stays as it is. */
async function linkImage(
  id: string,
  image: ImageSource | null,
  folder: string,
  realFolder: string,
  media: Map<string, MediaFile>,
): Promise<string | null> {
  if (image === null) return null;
  if (image.kind === "https") return image.url;
  const file = join(folder, image.path);
  const shown = JSON.stringify(file);
  const problem = (text: string) => new ProductError(id, "image", `field "image" ${text}`);
  const attempt = async <T>(step: () => Promise<T>): Promise<T> => {
    try {
      return await step();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw problem(`names a file that does not exist: ${shown}`);
      }
      throw problem(`names a file that cannot be read: ${shown}: ${oneLine(String(error))}`);
    }
  };
  const real = await attempt(() => Deno.realPath(file));
  if (relative(realFolder, real).split(sep)[0] === "..") {
    throw problem(`must be a file inside the catalog's folder, got ${shown}`);
  }
  const info = await attempt(() => Deno.stat(real));
  if (!info.isFile) throw problem(`must name a file, got ${shown}`);
  if (info.size > MAX_IMAGE_BYTES) {
    throw problem(`must be at most 2 MiB, got ${info.size} bytes in ${shown}`);
  }
  const body = await attempt(() => Deno.readFile(real));
  // The file may have grown since it was measured.
  if (body.byteLength > MAX_IMAGE_BYTES) {
    throw problem(`must be at most 2 MiB, got ${body.byteLength} bytes in ${shown}`);
  }
  const type = imageTypeOf(body);
  if (type === undefined) throw problem(`must be a PNG, JPEG, WebP or SVG image, got ${shown}`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  const hex = Array.from(digest.slice(0, 8), (byte) => byte.toString(16).padStart(2, "0")).join("");
  const name = `${hex}.${type.extension}`;
  media.set(name, await assetOf(body, type.contentType));
  return `/media/${name}`;
}

/** Recognizes an image by its first bytes, or an SVG by its text. */
function imageTypeOf(bytes: Uint8Array): { extension: string; contentType: string } | undefined {
  if (startsWith(bytes, PNG_SIGNATURE)) return { extension: "png", contentType: "image/png" };
  if (startsWith(bytes, JPEG_SIGNATURE)) return { extension: "jpg", contentType: "image/jpeg" };
  if (startsWith(bytes, RIFF) && startsWith(bytes.subarray(8), WEBP)) {
    return { extension: "webp", contentType: "image/webp" };
  }
  return isSvg(bytes) ? { extension: "svg", contentType: "image/svg+xml" } : undefined;
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((byte, index) => bytes[index] === byte);
}

/** SVG text starts with `<svg`, or with an XML declaration and has an `<svg` element. */
function isSvg(bytes: Uint8Array): boolean {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes).trimStart();
  } catch {
    return false;
  }
  return text.startsWith("<svg") || (text.startsWith("<?xml") && text.includes("<svg"));
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ");
}
