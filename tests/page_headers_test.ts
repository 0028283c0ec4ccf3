/** Every HTML answer's security headers, in process: its policy, who may frame it, HSTS over HTTPS. */
import assert from "node:assert/strict";
import type { RunningServer } from "../lib/server/start_server.ts";
import { DEMO, startTestServer } from "./support/server.ts";

const TOKEN = "a-token-of-the-admin-0123456789";
const PRICE = { amount: "2.5", currency: "EUR" };

/** The policy every shop page carries when no one may frame it. */
const POLICY = "default-src 'self'; img-src 'self' https:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Every HTML answer of a server: its name, and how to get it. */
async function htmlAnswers(
  server: RunningServer,
  headers: Record<string, string> = {},
): Promise<[string, Response][]> {
  const get = (path: string, init: RequestInit = {}) =>
    server.app.handle(
      new Request(new URL(path, server.url), { ...init, headers: { ...headers, ...init.headers } }),
    );
  const signIn = await get("/admin/session", {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: new URL(server.url).origin,
    },
    body: new URLSearchParams({ token: TOKEN }).toString(),
  });
  assert.equal(signIn.status, 303);
  const adminCookie = signIn.headers.get("set-cookie")!.split(";")[0];
  const answers: [string, Response][] = [
    ["product page at /", await get("/")],
    ["HEAD of the product page", await get("/", { method: "HEAD" })],
    ["product page", await get(`/products/${DEMO}`)],
    ["404 page", await get("/products/nothing-here")],
    ["410 page", await get("/products/old-poster")],
    ["admin sign-in", await get("/admin")],
    ["admin dashboard", await get("/admin", { headers: { cookie: adminCookie } })],
  ];
  await server.inventory.list({
    info: { id: "star-sticker", name: "Star sticker", description: "", price: PRICE, image: null },
    total: 3,
  });
  answers.push(["catalog page at /", await get("/")]);
  for (const [, response] of answers) await response.body?.cancel();
  return answers;
}

/** A server with a retired product and the admin area on. */
async function shop(overrides: Parameters<typeof startTestServer>[0] = {}) {
  const server = await startTestServer({ adminToken: TOKEN, ...overrides });
  await server.inventory.list({
    info: { id: "old-poster", name: "Old poster", description: "", price: PRICE, image: null },
    total: 5,
  });
  await server.inventory.retire("old-poster");
  return server;
}

Deno.test("every HTML answer has the pages' policy, nosniff and a referrer policy, and no HSTS over HTTP", async () => {
  await using server = await shop();
  const answers = await htmlAnswers(server);
  assert.deepEqual(answers.map(([, response]) => response.status), [
    200,
    200,
    200,
    404,
    410,
    200,
    200,
    200,
  ]);
  for (const [name, response] of answers) {
    assert.match(response.headers.get("content-type")!, /^text\/html/, name);
    assert.equal(response.headers.get("content-security-policy"), POLICY, name);
    assert.equal(response.headers.get("x-content-type-options"), "nosniff", name);
    assert.equal(response.headers.get("referrer-policy"), "strict-origin-when-cross-origin", name);
    assert.equal(response.headers.get("strict-transport-security"), null, name);
  }
});

Deno.test("--frame-ancestors lets the listed origins frame the shop's pages, never the admin's", async () => {
  await using server = await shop({
    frameAncestors: ["https://partner.example", "http://127.0.0.1:9"],
  });
  for (const [name, response] of await htmlAnswers(server)) {
    const policy = response.headers.get("content-security-policy")!;
    const expected = name.startsWith("admin")
      ? "frame-ancestors 'none'"
      : "frame-ancestors https://partner.example http://127.0.0.1:9";
    assert.ok(policy.endsWith(expected), `${name}: ${policy}`);
  }
});

Deno.test("over HTTPS through a trusted proxy every HTML answer has HSTS and the shop's cookie is Secure", async () => {
  await using server = await shop({ trustProxy: true });
  const answers = await htmlAnswers(server, { "x-forwarded-proto": "https" });
  for (const [name, response] of answers) {
    assert.equal(response.headers.get("strict-transport-security"), "max-age=31536000", name);
  }
  const page = answers.find(([name]) => name === "product page at /")![1];
  assert.match(page.headers.get("set-cookie")!, /; Secure/);
});

Deno.test("a proxy's word on HTTPS counts only with --trust-proxy", async () => {
  await using server = await shop();
  for (const [name, response] of await htmlAnswers(server, { "x-forwarded-proto": "https" })) {
    assert.equal(response.headers.get("strict-transport-security"), null, name);
  }
});
