/** Admin sign-in: the page, the signed cookie, sign-out, the same-origin rule and the limit on wrong tokens. */
import assert from "node:assert/strict";
import { AdminSessions } from "../lib/admin/admin_session.ts";
import type { ConnectionInfo } from "../lib/http/router.ts";
import { WrongTokenLimit } from "../lib/admin/wrong_token_limit.ts";
import type { Config } from "../lib/server/config.ts";
import type { RunningServer } from "../lib/server/start_server.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { startTestServer, stateOf } from "./support/server.ts";

const TOKEN = "admin-token-for-tests-0001";
const SESSION_MS = 480 * 60_000;
const BASE = "http://shop.test";
const SAME_ORIGIN = { origin: BASE, "sec-fetch-site": "same-origin" };
const FORM = "application/x-www-form-urlencoded";

/** A client of its own address, as Deno.serve describes the connection. */
const from = (hostname: string): ConnectionInfo => ({
  remoteAddr: { transport: "tcp", hostname, port: 40_000 },
});

/** A server with the admin area on, on a fake clock; requests go to its app in process. */
async function adminServer(
  overrides: Partial<Config> = {},
): Promise<{ server: RunningServer & AsyncDisposable; clock: FakeClock }> {
  const clock = new FakeClock();
  const server = await startTestServer({ adminToken: TOKEN, ...overrides }, { clock });
  return { server, clock };
}

/** Sends a request to the app in process. */
function send(
  server: RunningServer,
  path: string,
  init: RequestInit = {},
  connection: ConnectionInfo = from("192.0.2.1"),
): Promise<Response> {
  return server.app.handle(new Request(BASE + path, init), connection);
}

/** Posts a sign-in, as the page's form does or as JSON. */
function signIn(
  server: RunningServer,
  token: string,
  options: { json?: boolean; headers?: Record<string, string>; connection?: ConnectionInfo } = {},
): Promise<Response> {
  const body = options.json ? JSON.stringify({ token }) : new URLSearchParams({ token }).toString();
  return send(server, "/admin/session", {
    method: "POST",
    headers: {
      "content-type": options.json ? "application/json" : FORM,
      ...SAME_ORIGIN,
      ...options.headers,
    },
    body,
  }, options.connection);
}

/** The `name=value` of a response's Set-Cookie, for a later request's Cookie header. */
function cookieOf(response: Response): string {
  const header = response.headers.get("set-cookie");
  assert.ok(header !== null, "a Set-Cookie header");
  return header.split(";")[0];
}

/** Signs in with the form and returns the cookie. */
async function signedIn(server: RunningServer): Promise<string> {
  const response = await signIn(server, TOKEN);
  assert.equal(response.status, 303);
  return cookieOf(response);
}

/** Lists the products with the cookie from our own page, and returns the status. */
async function listStatus(
  server: RunningServer,
  cookie: string,
  headers: Record<string, string> = SAME_ORIGIN,
): Promise<number> {
  const response = await send(server, "/admin/products", { headers: { cookie, ...headers } });
  await response.body?.cancel();
  return response.status;
}

/** Restocks with the cookie and the given origin headers; returns the status. */
async function restockStatus(
  server: RunningServer,
  cookie: string,
  headers: Record<string, string>,
): Promise<number> {
  const response = await send(server, "/admin/inventory", {
    method: "POST",
    headers: { cookie, "content-type": "application/json", ...headers },
    body: JSON.stringify({ total: 99 }),
  });
  await response.body?.cancel();
  return response.status;
}

Deno.test("a form sign-in sets an HttpOnly, SameSite=Strict cookie for /admin and goes to /admin", async () => {
  const { server } = await adminServer();
  await using _ = server;
  const response = await signIn(server, TOKEN);
  assert.equal(response.status, 303);
  assert.equal(response.headers.get("location"), "/admin");
  const attributes = response.headers.get("set-cookie")!.split("; ");
  assert.match(attributes[0], /^admin_session=\d+\.[\w-]{22}\.[\w-]{43}$/);
  for (const attribute of ["HttpOnly", "SameSite=Strict", "Path=/admin", "Max-Age=28800"]) {
    assert.ok(attributes.includes(attribute), attribute);
  }
  assert.ok(attributes.some((attribute) => attribute.startsWith("Expires=")));
  assert.ok(!attributes.includes("Secure"), "no Secure over plain HTTP");
  assert.ok(!attributes[0].includes(TOKEN), "the token is not the cookie");

  const cookie = cookieOf(response);
  assert.equal(await listStatus(server, cookie), 200);
  const page = await send(server, "/admin", { headers: { cookie } });
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-security-policy")!, /frame-ancestors 'none'$/);
  const html = await page.text();
  assert.match(html, /<main id="dashboard"/);
  assert.match(html, /<div id="dashboard-root">/);
  assert.match(html, /<script type="module" src="\/static\/admin.js"><\/script>/);
  assert.match(html, /<link rel="stylesheet" href="\/static\/admin.css">/);
  assert.match(html, /<form method="post" action="\/admin\/session\/end">/);
  assert.match(html, /<button [^>]*type="submit">Sign out<\/button>/);
  assert.doesNotMatch(html, /name="token"/);
});

Deno.test("a JSON sign-in answers when it expires, and its cookie works for a same-origin write", async () => {
  const { server, clock } = await adminServer();
  await using _ = server;
  const response = await signIn(server, TOKEN, { json: true });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { signedIn: true, expiresAt: clock.now() + SESSION_MS });
  const cookie = cookieOf(response);
  assert.equal(await restockStatus(server, cookie, { origin: BASE }), 200);
  assert.equal(stateOf(server).inventoryCount, 99);
});

Deno.test("the cookie is Secure when the request came over HTTPS, as a trusted proxy says", async () => {
  const https = { "x-forwarded-proto": "https" };
  const { server } = await adminServer({ trustProxy: true });
  await using _ = server;
  const response = await signIn(server, TOKEN, { headers: https });
  assert.match(response.headers.get("set-cookie")!, /; Secure$/);
  const out = await send(server, "/admin/session/end", {
    method: "POST",
    headers: { ...SAME_ORIGIN, ...https, cookie: cookieOf(response) },
  });
  assert.match(out.headers.get("set-cookie")!, /Max-Age=0; .*; Secure$/);

  const { server: untrusting } = await adminServer();
  await using __ = untrusting;
  const plain = await signIn(untrusting, TOKEN, { headers: https });
  assert.doesNotMatch(plain.headers.get("set-cookie")!, /Secure/);
});

Deno.test("sign-out clears the cookie, and this process refuses a kept copy from then on", async () => {
  const { server } = await adminServer();
  await using _ = server;
  const cookie = await signedIn(server);
  const out = await send(server, "/admin/session/end", {
    method: "POST",
    headers: { ...SAME_ORIGIN, cookie, "content-type": FORM },
  });
  assert.equal(out.status, 303);
  assert.equal(out.headers.get("location"), "/admin");
  assert.match(out.headers.get("set-cookie")!, /^admin_session=; Path=\/admin; .*Max-Age=0/);

  assert.equal(await listStatus(server, cookie), 401);
  const page = await (await send(server, "/admin", { headers: { cookie } })).text();
  assert.match(page, /name="token"/);

  const again = await signedIn(server);
  const json = await send(server, "/admin/session/end", {
    method: "POST",
    headers: { ...SAME_ORIGIN, cookie: again, accept: "application/json" },
  });
  assert.equal(json.status, 200);
  assert.deepEqual(await json.json(), { signedIn: false });
  assert.equal(await listStatus(server, again), 401);
});

Deno.test("a wrong token sets no cookie: the form goes back with the failure shown, JSON gets 401", async () => {
  const { server } = await adminServer();
  await using _ = server;
  const form = await signIn(server, `${TOKEN}x`);
  assert.equal(form.status, 303);
  assert.equal(form.headers.get("location"), "/admin?failed=1");
  assert.equal(form.headers.get("set-cookie"), null);
  const page = await send(server, "/admin?failed=1");
  assert.match(await page.text(), /<p class="alert" role="alert">That token is wrong.<\/p>/);
  const fresh = await (await send(server, "/admin")).text();
  assert.doesNotMatch(fresh, /role="alert"/);

  const json = await signIn(server, TOKEN.slice(1), { json: true });
  assert.equal(json.status, 401);
  assert.equal(json.headers.get("set-cookie"), null);
  assert.deepEqual(await json.json(), { error: "Admin token is wrong" });
  const malformed = await send(server, "/admin/session", {
    method: "POST",
    headers: { "content-type": "application/json", ...SAME_ORIGIN },
    body: JSON.stringify({ token: 12 }),
  });
  assert.equal(malformed.status, 400);
});

Deno.test("the 6th wrong token in a minute gets 429 with Retry-After until the window frees", async () => {
  const { server, clock } = await adminServer();
  await using _ = server;
  const attacker = from("198.51.100.7");
  for (let i = 0; i < 5; i++) {
    const response = await signIn(server, `wrong-${i}`, { json: true, connection: attacker });
    assert.equal(response.status, 401);
    await response.body?.cancel();
    clock.advance(1_000);
  }
  // Even the right token: a limited client learns nothing.
  const limited = await signIn(server, TOKEN, { json: true, connection: attacker });
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("retry-after"), "55");
  assert.equal(limited.headers.get("set-cookie"), null);
  await limited.body?.cancel();
  const bearer = await send(server, "/admin/products", {
    headers: { authorization: `Bearer ${TOKEN}` },
  }, attacker);
  assert.equal(bearer.status, 429);
  await bearer.body?.cancel();
  const form = await signIn(server, TOKEN, { connection: attacker });
  assert.equal(form.status, 429);
  assert.match(await form.text(), /role="alert">Too many wrong tokens: try again in 55 s./);

  // Another client's right token neither waits nor resets the attacker's count.
  const owner = await signIn(server, TOKEN, { json: true, connection: from("192.0.2.50") });
  assert.equal(owner.status, 200);
  await owner.body?.cancel();
  clock.advance(54_000);
  const still = await signIn(server, TOKEN, { json: true, connection: attacker });
  assert.equal(still.headers.get("retry-after"), "1");
  await still.body?.cancel();

  clock.advance(1_000);
  const freed = await signIn(server, TOKEN, { json: true, connection: attacker });
  assert.equal(freed.status, 200, "the first wrong token aged out");
  await freed.body?.cancel();
});

Deno.test("wrong bearer tokens count too, per client address", async () => {
  const { server } = await adminServer();
  await using _ = server;
  const wrong = { authorization: `Bearer ${TOKEN}x` };
  for (let i = 0; i < 5; i++) {
    const response = await send(server, "/admin/products", { headers: wrong }, from("192.0.2.9"));
    assert.equal(response.status, 403);
    await response.body?.cancel();
  }
  const sixth = await send(server, "/admin/products", { headers: wrong }, from("192.0.2.9"));
  assert.equal(sixth.status, 429);
  assert.equal(sixth.headers.get("retry-after"), "60");
  assert.equal((await sixth.json()).error, "Too many wrong admin tokens, try again later");
  const other = await send(server, "/admin/products", {
    headers: { authorization: `Bearer ${TOKEN}` },
  }, from("192.0.2.10"));
  assert.equal(other.status, 200);
  await other.body?.cancel();
});

Deno.test("behind a trusted proxy the client is the address the proxy appended to X-Forwarded-For", async () => {
  const tryFrom = async (server: RunningServer, forwardedFor: string) => {
    const response = await signIn(server, "wrong", {
      json: true,
      headers: { "x-forwarded-for": forwardedFor },
      connection: from("10.0.0.2"),
    });
    await response.body?.cancel();
    return response.status;
  };
  const { server } = await adminServer({ trustProxy: true });
  await using _ = server;
  // The client writes the first address; the proxy appends the one it saw.
  for (let i = 0; i < 5; i++) assert.equal(await tryFrom(server, `203.0.113.${i}, 192.0.2.1`), 401);
  assert.equal(await tryFrom(server, "203.0.113.99, 192.0.2.1"), 429);
  assert.equal(await tryFrom(server, "192.0.2.2"), 401);

  const { server: direct } = await adminServer();
  await using __ = direct;
  for (let i = 0; i < 5; i++) assert.equal(await tryFrom(direct, `192.0.2.${i}`), 401);
  assert.equal(await tryFrom(direct, "192.0.2.99"), 429, "without --trust-proxy it is the peer");
});

Deno.test("an expired cookie is refused, one the server made and one signed with a past clock", async () => {
  const { server, clock } = await adminServer();
  await using _ = server;
  const past = await new AdminSessions(TOKEN, 60_000, { now: () => clock.now() - 60_001 }).start();
  const stale = `admin_session=${past.value}`;
  assert.equal(await listStatus(server, stale), 401);
  assert.match(
    await (await send(server, "/admin", { headers: { cookie: stale } })).text(),
    /name="token"/,
  );

  const cookie = await signedIn(server);
  clock.advance(SESSION_MS - 1);
  assert.equal(await listStatus(server, cookie), 200);
  clock.advance(1);
  assert.equal(await listStatus(server, cookie), 401);
});

Deno.test("a forged cookie is refused: a changed signature, expiry or id, or another token's key", async () => {
  const { server } = await adminServer();
  await using _ = server;
  const cookie = await signedIn(server);
  const [expires, id, signature] = cookie.slice("admin_session=".length).split(".");
  const flip = (text: string, at: number) =>
    text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1);
  const later = String(Number(expires) + 86_400_000);
  const elsewhere = await new AdminSessions("another-admin-token-0002", SESSION_MS, Date).start();
  for (
    const value of [
      `${expires}.${id}.${flip(signature, 5)}`,
      `${later}.${id}.${signature}`,
      `${expires}.${flip(id, 0)}.${signature}`,
      `${expires}.${id}.${signature.slice(0, -1)}B`,
      elsewhere.value,
      `${expires}.${id}`,
      TOKEN,
    ]
  ) {
    assert.equal(await listStatus(server, `admin_session=${value}`), 401, value);
  }
  assert.equal(await listStatus(server, cookie), 200);
});

Deno.test("the cookie on a cross-site request to the admin API is refused and changes nothing", async () => {
  const { server } = await adminServer();
  await using _ = server;
  const cookie = await signedIn(server);
  for (
    const headers of [
      { origin: "https://evil.example" },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site", origin: "http://shop.test" },
      { "sec-fetch-site": "same-origin", origin: "https://evil.example" },
      {}, // a write must say where it comes from
    ] as Record<string, string>[]
  ) {
    assert.equal(await restockStatus(server, cookie, headers), 403, JSON.stringify(headers));
  }
  assert.deepEqual(stateOf(server), { inventoryCount: 10, version: 0 });
  assert.equal(await listStatus(server, cookie, { "sec-fetch-site": "cross-site" }), 403);
  assert.equal(await listStatus(server, cookie, { origin: "https://evil.example" }), 403);
  assert.equal(await listStatus(server, cookie, {}), 200, "a read with neither header");

  // The bearer token is no cookie: a script may send it from anywhere.
  const bearer = await send(server, "/admin/products", {
    headers: { authorization: `Bearer ${TOKEN}`, origin: "https://evil.example" },
  });
  assert.equal(bearer.status, 200);
  await bearer.body?.cancel();
});

Deno.test("a cross-site sign-in or sign-out is refused (no login CSRF)", async () => {
  const { server } = await adminServer();
  await using _ = server;
  const evil = { origin: "https://evil.example", "sec-fetch-site": "cross-site" };
  const response = await signIn(server, TOKEN, { headers: evil });
  assert.equal(response.status, 403);
  assert.equal(response.headers.get("set-cookie"), null);
  await response.body?.cancel();
  const cookie = await signedIn(server);
  const out = await send(server, "/admin/session/end", {
    method: "POST",
    headers: { ...evil, cookie },
  });
  assert.equal(out.status, 403);
  await out.body?.cancel();
  assert.equal(await listStatus(server, cookie), 200, "still signed in");
});

Deno.test("GET /admin shows the sign-in form without a cookie, and HEAD the same headers", async () => {
  const { server } = await adminServer();
  await using _ = server;
  const page = await send(server, "/admin");
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(page.headers.get("cache-control"), "no-store");
  const html = await page.text();
  assert.match(html, /<form method="post" action="\/admin\/session">/);
  assert.match(html, /<label for="token">Admin token<\/label>/);
  assert.match(html, /<input id="token" name="token" type="password"/);
  assert.match(html, /<button type="submit">Sign in<\/button>/);
  assert.doesNotMatch(html, /dashboard-root/);
  const head = await send(server, "/admin", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), page.headers.get("content-length"));
  assert.equal(await head.text(), "");
});

Deno.test("without --admin-token there is no admin page and no sign-in", async () => {
  await using server = await startTestServer();
  for (const [path, method] of [["/admin", "GET"], ["/admin/session", "POST"]]) {
    const response = await send(server, path, {
      method,
      headers: { ...SAME_ORIGIN, "content-type": FORM },
      body: method === "POST" ? `token=${TOKEN}` : undefined,
    });
    assert.equal(response.status, 404, path);
    await response.body?.cancel();
  }
});

Deno.test("over a real socket: sign in, use the cookie, sign out", async () => {
  await using server = await startTestServer({ adminToken: TOKEN });
  const origin = new URL(server.url).origin;
  const login = await fetch(new URL("admin/session", server.url), {
    method: "POST",
    headers: { origin },
    body: new URLSearchParams({ token: TOKEN }),
    redirect: "manual",
  });
  assert.equal(login.status, 303);
  await login.body?.cancel();
  const cookie = cookieOf(login);

  const put = await fetch(new URL("admin/products/moon-pin", server.url), {
    method: "PUT",
    headers: { cookie, origin, "content-type": "application/json" },
    body: JSON.stringify({
      name: "Moon pin",
      price: { amount: "9.00", currency: "EUR" },
      total: 4,
    }),
  });
  assert.equal(put.status, 201, await put.clone().text());
  await put.body?.cancel();
  const list = await fetch(new URL("admin/products", server.url), { headers: { cookie } });
  assert.equal(list.status, 200);
  const ids = (await list.json()).products.map((product: { id: string }) => product.id);
  assert.ok(ids.includes("moon-pin"));

  const out = await fetch(new URL("admin/session/end", server.url), {
    method: "POST",
    headers: { cookie, origin },
    redirect: "manual",
  });
  assert.equal(out.status, 303);
  await out.body?.cancel();
  const after = await fetch(new URL("admin/products", server.url), { headers: { cookie } });
  assert.equal(after.status, 401);
  await after.body?.cancel();
});

Deno.test("the limit tracks at most its bound of clients, and forgets those whose window passed", () => {
  let now = 0;
  const limit = new WrongTokenLimit({ maxWrong: 2, windowMs: 1_000, maxClients: 3 }, {
    now: () => now,
  });
  limit.countWrong("a");
  limit.countWrong("a");
  assert.equal(limit.retryAfterMs("a"), 1_000);
  for (const client of ["b", "c", "d"]) limit.countWrong(client);
  assert.equal(limit.clients, 3);
  assert.equal(limit.retryAfterMs("a"), 0, "the oldest was dropped for the bound");
  now = 500;
  limit.countWrong("b");
  assert.equal(limit.retryAfterMs("b"), 500);
  now = 1_000;
  limit.countWrong("e");
  assert.equal(limit.clients, 2, "c and d aged out when e came; b is still in its window");
  now = 1_499;
  limit.countWrong("b");
  assert.equal(limit.retryAfterMs("b"), 1);
  now = 1_500;
  assert.equal(limit.retryAfterMs("b"), 0);
});
