/** Browser tests of `/embed.js`: a storefront on another origin shows our live count. */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import type { Gauges } from "../lib/http/monitoring.ts";
import { DEMO_PRODUCT } from "../lib/server/demo_catalog.ts";
import { axeViolations } from "./support/axe.ts";
import { browserTest } from "./support/browser.ts";
import { eventually, postCart } from "./support/clients.ts";
import { startTestServer } from "./support/server.ts";

const DEMO = DEMO_PRODUCT.id;

const TRANSPORTS = [
  { param: "ws", gauge: "websocketSubscribers" },
  { param: "sse", gauge: "sseSubscribers" },
  { param: "poll", gauge: "longPollWaiters" },
] as const satisfies { param: string; gauge: keyof Gauges }[];

/** The storefront's own style sheet: it styles our element through its parts only. */
const STOREFRONT_CSS = `
live-stock::part(count) { color: rgb(0, 100, 0); }
live-stock:state(sold-out)::part(label) { color: rgb(150, 0, 0); }
`;

/**
 * Starts a shop's own site on another port (another origin): one page with the snippet, under a
 * strict policy of its own that names our server for scripts and connections, and nothing inline.
 */
function startStorefront(shop: string, transport: string): Deno.HttpServer<Deno.NetAddr> {
  const ours = new URL(shop);
  const policy = [
    "default-src 'self'",
    `script-src 'self' ${ours.origin}`,
    `connect-src ${ours.origin} ws://${ours.host}`,
    "style-src 'self'",
  ].join("; ");
  const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>A storefront</title>
    <link rel="stylesheet" href="/shop.css">
    <script type="module" src="${shop}embed.js"></script>
  </head>
  <body>
    <main>
      <h1>Moon pin</h1>
      <p>In stock: <live-stock product="${DEMO}" transport="${transport}"></live-stock></p>
    </main>
  </body>
</html>`;
  return Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (request) => {
    if (new URL(request.url).pathname === "/shop.css") {
      return new Response(STOREFRONT_CSS, { headers: { "content-type": "text/css" } });
    }
    return new Response(page, {
      headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": policy },
    });
  });
}

/** The element's parts, read through its open shadow root. */
function stockOf(page: Page) {
  return page.locator("live-stock").evaluate((element) => {
    const root = element.shadowRoot!;
    const part = (name: string) => root.querySelector(`[part~="${name}"]`) as HTMLElement;
    return {
      count: part("count").textContent,
      label: part("label").textContent,
      state: part("stock").dataset.state,
      connection: part("stock").dataset.connection,
      transport: part("stock").dataset.transport,
      role: part("stock").getAttribute("role"),
      countColor: getComputedStyle(part("count")).color,
      labelColor: getComputedStyle(part("label")).color,
    };
  });
}

async function waitForStock(page: Page, expected: { count: string; state: string }) {
  await page.waitForFunction(
    (expected) => {
      const root = document.querySelector("live-stock")?.shadowRoot;
      const stock = root?.querySelector('[part~="stock"]') as HTMLElement | null;
      const count = root?.querySelector('[part~="count"]');
      return stock?.dataset.state === expected.state && count?.textContent === expected.count;
    },
    expected,
    { timeout: 5_000 },
  );
}

for (const transport of TRANSPORTS) {
  browserTest(
    `e2e: <live-stock> on another origin follows the count over ${transport.param} to sold out`,
    async (browser) => {
      await using server = await startTestServer({ inventory: 2 });
      const storefront = startStorefront(server.url, transport.param);
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on("pageerror", (error) => errors.push(error.message));
        await page.goto(`http://127.0.0.1:${storefront.addr.port}/`);
        assert.notEqual(new URL(page.url()).origin, new URL(server.url).origin);

        await waitForStock(page, { count: "2", state: "available" });
        await eventually(() => server.app.gauges()[transport.gauge] === 1, transport.gauge);
        const shown = await stockOf(page);
        assert.equal(shown.transport, transport.param);
        assert.equal(shown.connection, "live");
        assert.equal(shown.label, "left");
        assert.equal(shown.role, "status", "a live region");
        assert.equal(shown.countColor, "rgb(0, 100, 0)", "styled through ::part(count)");

        // A change made on our side: an add, as our own page sends it.
        const first = await postCart(server.url, "add", crypto.randomUUID());
        assert.equal(first.status, 200);
        await waitForStock(page, { count: "1", state: "available" });
        const last = await postCart(server.url, "add", crypto.randomUUID());
        assert.equal(last.status, 200);
        await waitForStock(page, { count: "", state: "sold-out" });
        const soldOut = await stockOf(page);
        assert.equal(soldOut.label, "Sold out");
        assert.equal(soldOut.labelColor, "rgb(150, 0, 0)", "styled through :state(sold-out)");
        assert.equal(await page.locator("live-stock:state(sold-out)").count(), 1);

        assert.deepEqual(await axeViolations(page), []);
        assert.deepEqual(errors, []);
      } finally {
        await storefront.shutdown();
      }
    },
  );
}

browserTest(
  "e2e: <live-stock> prefers WebSocket, and says when a product is retired or unknown",
  async (browser) => {
    await using server = await startTestServer({ inventory: 3 });
    const storefront = startStorefront(server.url, "");
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${storefront.addr.port}/`);
      await waitForStock(page, { count: "3", state: "available" });
      assert.equal((await stockOf(page)).transport, "ws");

      // Retired on our side: the feed's last message says so, and the element stops following.
      await server.inventory.retire(DEMO);
      await waitForStock(page, { count: "", state: "retired" });
      assert.equal((await stockOf(page)).connection, "ended");
      // The shop's own words, given as attributes, replace ours at once.
      await page.locator("live-stock").evaluate((element) =>
        element.setAttribute("label-retired", "Nicht mehr erhältlich")
      );
      assert.equal((await stockOf(page)).label, "Nicht mehr erhältlich");
      await page.locator("live-stock").evaluate((element) =>
        element.removeAttribute("label-retired")
      );

      // A product the shop does not have: its feed answers 404, told apart from a lost connection.
      await page.locator("live-stock").evaluate((element) =>
        element.setAttribute("product", "no-such-product")
      );
      await waitForStock(page, { count: "", state: "retired" });
      assert.equal((await stockOf(page)).label, "No longer on sale");
      await eventually(
        () => server.app.gauges().websocketSubscribers === 0,
        "the old socket to end",
      );
    } finally {
      await storefront.shutdown();
    }
  },
);

browserTest(
  "e2e: <live-stock> falls back to Server-Sent Events where WebSockets are refused",
  async (browser) => {
    await using server = await startTestServer({ inventory: 4 });
    const storefront = startStorefront(server.url, "");
    try {
      const page = await browser.newPage();
      // A proxy on the way that refuses every upgrade, as some corporate ones do.
      await page.routeWebSocket(/\/cart\/status/, (socket) => socket.close());
      await page.goto(`http://127.0.0.1:${storefront.addr.port}/`);
      await waitForStock(page, { count: "4", state: "available" });
      await eventually(async () => (await stockOf(page)).transport === "sse", "SSE to be chosen");
      assert.equal((await stockOf(page)).connection, "live");
      assert.equal((await postCart(server.url, "add", crypto.randomUUID())).status, 200);
      await waitForStock(page, { count: "3", state: "available" });
    } finally {
      await storefront.shutdown();
    }
  },
);
