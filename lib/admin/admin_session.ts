/** Admin sign-ins: signed, expiring cookie values (HMAC-SHA256), and the ones signed out early. */
import type { Clock } from "../time/clock.ts";
import { cookieValues } from "../http/cookies.ts";

/** The admin cookie's name. */
export const ADMIN_COOKIE = "admin_session";

/** The admin cookie is sent with the admin area's requests only. */
const COOKIE_PATH = "/admin";

/**
 * The HKDF label of the signing key. Every process given the same admin token derives the same
 * key, so a fleet accepts each other's cookies; the token itself never leaves the server.
 */
const KEY_LABEL = "inventory-server admin session cookie v1";

/**
 * `<expiresAt ms>.<id: 16 random bytes>.<HMAC-SHA256 of the two>`, both in base64url. The last
 * character of the signature carries 4 bits and 2 zero bits: only the 16 characters that keep them
 * zero pass, so one signature has one spelling.
 */
const COOKIE_VALUE =
  /^([1-9][0-9]{0,15})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{42}[AEIMQUYcgkosw048])$/;

/** The most sign-outs remembered; past it the oldest is forgotten (its cookie works again). */
const MAX_SIGNED_OUT = 10_000;

const encoder = new TextEncoder();

/** One sign-in, as its cookie carries it. */
export interface AdminSession {
  /** The cookie's value. */
  readonly value: string;
  /** Its random id, which a sign-out remembers. */
  readonly id: string;
  /** When it stops being accepted, in ms since the epoch. */
  readonly expiresAt: number;
}

/**
 * Signs and checks admin cookies with a key derived from the admin token, and remembers the ids
 * signed out before their expiry (in this process only, at most 10,000 of them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * let now = 1_000_000;
 * const sessions = new AdminSessions("admin-token-0123456789", 60_000, { now: () => now });
 * const session = await sessions.start();
 * assert.equal((await sessions.verify(session.value))?.id, session.id);
 * const elsewhere = await new AdminSessions("another-token-0123456", 60_000, { now: () => now }).start();
 * assert.equal(await sessions.verify(elsewhere.value), undefined);
 * now += 60_000;
 * assert.equal(await sessions.verify(session.value), undefined);
 * ```
 */
export class AdminSessions {
  readonly #token: string;
  readonly #clock: Pick<Clock, "now">;
  #key: Promise<CryptoKey> | undefined;
  /** Id → expiry of sessions signed out early, in order of sign-out. */
  readonly #signedOut = new Map<string, number>();

  /**
   * Creates the sessions' signer; the key is derived on first use.
   *
   * @param token The admin token the key is derived from.
   * @param lifetimeMs How long a sign-in lasts, in ms.
   * @param clock The time source.
   */
  constructor(token: string, readonly lifetimeMs: number, clock: Pick<Clock, "now">) {
    this.#token = token;
    this.#clock = clock;
  }

  /**
   * Signs a new session that lasts `lifetimeMs` from now.
   *
   * @returns The session and its cookie value.
   */
  async start(): Promise<AdminSession> {
    const expiresAt = this.#clock.now() + this.lifetimeMs;
    const id = crypto.getRandomValues(new Uint8Array(16)).toBase64({
      alphabet: "base64url",
      omitPadding: true,
    });
    const payload = encoder.encode(`${expiresAt}.${id}`);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await this.#signingKey(), payload));
    const signature = mac.toBase64({ alphabet: "base64url", omitPadding: true });
    return { value: `${expiresAt}.${id}.${signature}`, id, expiresAt };
  }

  /**
   * Checks a cookie value: well formed, its signature right (compared in constant time by Web
   * Crypto's verify), not expired, not signed out.
   *
   * @param value The cookie's value, if any.
   * @returns The session, or undefined for anything else.
   */
  async verify(value: string | undefined): Promise<AdminSession | undefined> {
    const match = value === undefined ? null : COOKIE_VALUE.exec(value);
    if (match === null) return undefined;
    const [, expires, id, signature] = match;
    const mac = Uint8Array.fromBase64(signature, { alphabet: "base64url" });
    const payload = encoder.encode(`${expires}.${id}`);
    if (!await crypto.subtle.verify("HMAC", await this.#signingKey(), mac, payload)) {
      return undefined;
    }
    const expiresAt = Number(expires);
    const now = this.#clock.now();
    if (expiresAt <= now || this.#isSignedOut(id, now)) return undefined;
    return { value: value!, id, expiresAt };
  }

  /**
   * Signs a session out: this process refuses its cookie from now until it expires.
   *
   * @param session The session, as {@linkcode AdminSessions.verify} returned it.
   */
  end(session: AdminSession): void {
    this.#signedOut.set(session.id, session.expiresAt);
    // The oldest sign-outs go first: past the bound, their cookies are accepted again.
    for (const id of this.#signedOut.keys()) {
      if (this.#signedOut.size <= MAX_SIGNED_OUT) break;
      this.#signedOut.delete(id);
    }
  }

  /** Whether a session was signed out; forgets sign-outs whose session has expired meanwhile. */
  #isSignedOut(id: string, now: number): boolean {
    const expiresAt = this.#signedOut.get(id);
    if (expiresAt === undefined) return false;
    if (expiresAt > now) return true;
    this.#signedOut.delete(id);
    return false;
  }

  #signingKey(): Promise<CryptoKey> {
    this.#key ??= crypto.subtle.importKey("raw", encoder.encode(this.#token), "HKDF", false, [
      "deriveKey",
    ]).then((token) =>
      crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(), info: encoder.encode(KEY_LABEL) },
        token,
        { name: "HMAC", hash: "SHA-256", length: 256 },
        false,
        ["sign", "verify"],
      )
    );
    return this.#key;
  }
}

/**
 * Reads the admin cookie's value from a request.
 *
 * @param request The incoming request.
 * @returns The value, or undefined when there is no admin cookie.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const request = new Request("http://x/admin", { headers: { cookie: "sid=1; admin_session=a.b.c" } });
 * assert.equal(adminCookieOf(request), "a.b.c");
 * ```
 */
export function adminCookieOf(request: Request): string | undefined {
  for (const value of cookieValues(request, ADMIN_COOKIE)) return value;
  return undefined;
}

/**
 * Builds the `Set-Cookie` value of a sign-in, or of a sign-out (`Max-Age=0`).
 *
 * @param session The session signed in, or undefined to clear the cookie.
 * @param now The time now, in ms, for `Max-Age`.
 * @param secure Adds `Secure` when the request came over HTTPS.
 * @returns A header value: HttpOnly, SameSite=Strict, for `/admin` only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const session = { value: "v", id: "i", expiresAt: 61_000 };
 * assert.equal(
 *   adminCookie(session, 1_000, false),
 *   "admin_session=v; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=60; " +
 *     "Expires=Thu, 01 Jan 1970 00:01:01 GMT",
 * );
 * assert.match(adminCookie(undefined, 0, true), /^admin_session=; .*Max-Age=0; .*; Secure$/);
 * ```
 */
export function adminCookie(
  session: AdminSession | undefined,
  now: number,
  secure: boolean,
): string {
  const expiresAt = session?.expiresAt ?? 0;
  const attributes = [
    `${ADMIN_COOKIE}=${session?.value ?? ""}`,
    `Path=${COOKIE_PATH}`,
    "HttpOnly",
    "SameSite=Strict",
    `Max-Age=${Math.max(0, Math.floor((expiresAt - now) / 1000))}`,
    `Expires=${new Date(expiresAt).toUTCString()}`,
  ];
  if (secure) attributes.push("Secure");
  return attributes.join("; ");
}
