/** Parsers of the server's setting values: each checks one flag's text and names it when bad. */

/** The order service to confirm checkouts with. */
export interface OrderWebhookSetting {
  /** Its URL, http or https. */
  url: string;
  /** The secret every call is signed with. */
  secret: string;
}

/** The PEM files the server speaks HTTPS with. */
export interface TlsFiles {
  /** The certificate chain's path. */
  certFile: string;
  /** The private key's path. */
  keyFile: string;
}

const DURATION_UNITS_MS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * The TLS files, given both or neither.
 *
 * @param certFile The certificate's path; "" for none.
 * @param keyFile The key's path; "" for none.
 * @returns Both paths, or undefined for plain HTTP.
 * @throws {RangeError} When only one is given.
 */
export function tlsOf(certFile: string, keyFile: string): TlsFiles | undefined {
  if (certFile === "" && keyFile === "") return undefined;
  if (certFile === "" || keyFile === "") {
    throw new RangeError("--tls-cert and --tls-key must be given together");
  }
  return { certFile, keyFile };
}

/**
 * A whole number within bounds.
 *
 * @param flag The flag, for the message.
 * @param text The value as given.
 * @param min The least allowed.
 * @param max The most allowed.
 * @returns The number.
 * @throws {RangeError} For anything but a whole number from `min` to `max`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(integerIn("--port", " 80 ", 0, 65535), 80);
 * assert.throws(() => integerIn("--port", "8e3", 0, 65535), RangeError);
 * ```
 */
export function integerIn(
  flag: string,
  text: string,
  min: number,
  max: number,
): number {
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(
      `${flag} must be a whole number from ${min} to ${max}, got "${text}"`,
    );
  }
  return value;
}

/**
 * A number of seconds within bounds, fractions allowed.
 *
 * @param flag The flag, for the message.
 * @param text The value as given.
 * @param min The least allowed, in seconds.
 * @param max The most allowed, in seconds.
 * @returns The seconds.
 * @throws {RangeError} For anything but a plain number from `min` to `max`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(secondsIn("--poll-timeout", "2.5", 0.001, 3600), 2.5);
 * ```
 */
export function secondsIn(
  flag: string,
  text: string,
  min: number,
  max: number,
): number {
  const value = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) {
    throw new RangeError(
      `${flag} must be a number of seconds from ${min} to ${max}, got "${text}"`,
    );
  }
  return value;
}

/**
 * A duration in seconds or with a unit (`90s`, `15m`, `2h`, `1d`), within bounds.
 *
 * @param flag The flag, for the message.
 * @param text The value as given.
 * @param minMs The least allowed, in ms.
 * @param maxMs The most allowed, in ms.
 * @returns The duration in ms.
 * @throws {RangeError} For an unreadable duration or one out of bounds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(durationIn("--hold-ttl", "15m", 1_000, 86_400_000), 900_000);
 * assert.equal(durationIn("--hold-ttl", "90", 1_000, 86_400_000), 90_000);
 * ```
 */
export function durationIn(flag: string, text: string, minMs: number, maxMs: number): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/.exec(text);
  const ms = match ? Math.round(Number(match[1]) * DURATION_UNITS_MS[match[2] || "s"]) : NaN;
  if (!(ms >= minMs && ms <= maxMs)) {
    throw new RangeError(
      `${flag} must be a duration from 1s to 30d, in seconds or like 90s, 15m, 2h, got "${text}"`,
    );
  }
  return ms;
}

/**
 * The catalog file's path, which rules out the demo's `--inventory`.
 *
 * @param text The path as given; undefined for none.
 * @param inventory `--inventory` as given; undefined for none.
 * @returns The path, or undefined to serve the demo product.
 * @throws {RangeError} For an empty path, or a path together with `--inventory`.
 */
export function catalogPathOf(
  text: string | undefined,
  inventory: string | undefined,
): string | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === "") throw new RangeError(`--catalog must be a file path, got ""`);
  // Each product's total comes from the file; --inventory is the demo's one total.
  if (inventory !== undefined) {
    throw new RangeError(
      "--inventory sets the demo product's stock: with --catalog, set each total in the file",
    );
  }
  return text;
}

/**
 * The order service's URL and the secret that signs each call.
 *
 * @param url The URL as given; undefined for none.
 * @param secret The secret as given; undefined for none.
 * @returns Both, or undefined to sell at once.
 * @throws {RangeError} For a URL that is not http(s), a missing secret or one not of the
 *   Standard Webhooks form (`whsec_` and base64), or a secret without a URL.
 */
export function orderWebhookOf(
  url: string | undefined,
  secret: string | undefined,
): OrderWebhookSetting | undefined {
  if (url === undefined) {
    if (secret !== undefined) throw new RangeError("--webhook-secret needs --order-webhook");
    return undefined;
  }
  const parsed = URL.parse(url);
  if (parsed === null || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
    throw new RangeError(`--order-webhook must be an http:// or https:// URL, got "${url}"`);
  }
  if (secret === undefined) {
    throw new RangeError(
      "--order-webhook needs --webhook-secret (WEBHOOK_SECRET): whsec_ and the base64 of the key",
    );
  }
  checkWebhookSecret(secret);
  return { url: parsed.href, secret };
}

/** The shortest key of a webhook secret: HMAC-SHA256 keys shorter than this are guessable. */
const MIN_SECRET_KEY_BYTES = 16;

/**
 * Checks a Standard Webhooks secret: `whsec_` and the base64 of a key of 16 bytes or more. The
 * secret itself never appears in the error, which goes to the log.
 *
 * @param secret The secret as given.
 * @throws {RangeError} For any other text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * checkWebhookSecret(`whsec_${btoa("0123456789abcdef")}`);
 * assert.throws(() => checkWebhookSecret("a-plain-16-char-secret"), /whsec_/);
 * ```
 */
export function checkWebhookSecret(secret: string): void {
  const base64 = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret)?.[1];
  let keyBytes = 0;
  try {
    if (base64 !== undefined && base64.length % 4 === 0) keyBytes = atob(base64).length;
  } catch {
    // Not base64: refused below.
  }
  if (keyBytes < MIN_SECRET_KEY_BYTES) {
    throw new RangeError(
      "--webhook-secret (WEBHOOK_SECRET) must be whsec_ and the base64 of a key of " +
        `${MIN_SECRET_KEY_BYTES}+ bytes (a Standard Webhooks secret)`,
    );
  }
}

/**
 * The Deno KV file's path, or `:memory:`.
 *
 * @param text The path as given.
 * @returns The path.
 * @throws {RangeError} For an empty path.
 */
export function dataPathOf(text: string): string {
  if (text.trim() === "") throw new RangeError(`--data must be a file path or :memory:, got ""`);
  return text;
}

/**
 * The Redis server that keeps a shop shared by several processes.
 *
 * @param text The URL as given; undefined for none.
 * @returns The URL, or null to keep the inventory in this process (`--data`).
 * @throws {RangeError} For anything but a `redis://` or `rediss://` URL with a host (a user and
 *   password may come before it, a database number after it); the message masks the password.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(redisUrlOf("rediss://shop:secret@10.0.0.5:6380/2"), "rediss://shop:secret@10.0.0.5:6380/2");
 * assert.equal(redisUrlOf(undefined), null);
 * assert.throws(() => redisUrlOf("http://10.0.0.5:6379"), RangeError);
 * ```
 */
export function redisUrlOf(text: string | undefined): string | null {
  if (text === undefined) return null;
  const url = URL.parse(text.trim());
  const usable = url !== null && (url.protocol === "redis:" || url.protocol === "rediss:") &&
    url.hostname !== "" && /^(\/\d*)?$/.test(url.pathname) && url.search === "" && url.hash === "";
  if (!usable) {
    // The password must not reach a log, even a mistyped one.
    const shown = text.replace(/:[^:/@]*@/, ":***@");
    throw new RangeError(
      `--redis must be a redis:// or rediss:// URL like redis://127.0.0.1:6379, got "${shown}"`,
    );
  }
  return text.trim();
}

/**
 * The admin API's bearer token.
 *
 * @param text The token as given; undefined for none.
 * @returns The token, or undefined to turn the admin routes off.
 * @throws {RangeError} For a token shorter than 16 visible ASCII characters.
 */
export function adminTokenOf(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  // It travels in an Authorization header: visible ASCII only, and long enough not to be guessed.
  if (!/^[\x21-\x7e]{16,}$/.test(text)) {
    throw new RangeError(
      "--admin-token must be at least 16 visible ASCII characters without spaces",
    );
  }
  return text;
}

/**
 * The address to bind.
 *
 * @param text A host name or IP address.
 * @returns The same text.
 * @throws {RangeError} For characters no host name or address has.
 */
export function hostnameOf(text: string): string {
  if (!/^[A-Za-z0-9.:\-\[\]]+$/.test(text)) {
    throw new RangeError(
      `--hostname must be a host name or IP address, got "${text}"`,
    );
  }
  return text;
}

/**
 * An allowed origin, in the form browsers send it.
 *
 * @param text An origin like `https://shop.example`, spaces around it allowed.
 * @param flag The flag named when the origin is refused.
 * @returns The origin, normalized (`https://Shop.example:443/` becomes `https://shop.example`).
 * @throws {RangeError} For anything with a path, query or fragment, or that is no URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(originOf(" https://Shop.example:443/ "), "https://shop.example");
 * assert.throws(() => originOf("https://shop.example/cart"), RangeError);
 * ```
 */
export function originOf(text: string, flag = "--allowed-origin"): string {
  const refused = () =>
    new RangeError(`${flag} must be an origin like https://shop.example, got "${text}"`);
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw refused();
  }
  if (url.origin === "null" || url.pathname !== "/" || url.search || url.hash) throw refused();
  return url.origin;
}

/**
 * The origins allowed to frame the shop's pages (`--frame-ancestors`).
 *
 * @param text Origins separated by spaces or commas; undefined or blank allows none.
 * @returns Each origin, normalized.
 * @throws {RangeError} For an entry that is not an origin, naming the flag and the entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(frameAncestorsOf("https://a.example, https://B.example:443"), [
 *   "https://a.example",
 *   "https://b.example",
 * ]);
 * assert.deepEqual(frameAncestorsOf(undefined), []);
 * assert.throws(() => frameAncestorsOf("https://a.example 'self'"), RangeError);
 * ```
 */
export function frameAncestorsOf(text: string | undefined): string[] {
  const entries = (text ?? "").split(/[\s,]+/).filter((entry) => entry !== "");
  return entries.map((entry) => originOf(entry, "--frame-ancestors"));
}
