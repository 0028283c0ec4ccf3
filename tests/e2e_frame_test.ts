/** Browser tests of framing: another site cannot frame the shop unless --frame-ancestors lists it. */
import assert from "node:assert/strict";
import type { Frame, Page } from "playwright-core";
import { browserTest, waitForConnection } from "./support/browser.ts";
import { startTestServer } from "./support/server.ts";
import { within } from "./support/within.ts";

/** A tiny site of another origin (another port) whose page frames the URL in its `?src=`. */
function startFramingSite(): Deno.HttpServer<Deno.NetAddr> & AsyncDisposable {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const src = new URL(request.url).searchParams.get("src") ?? "";
    const html = `<!doctype html><title>Another site</title>` +
      `<iframe id="shop" src="${src.replaceAll('"', "&quot;")}" width="800" height="600"></iframe>`;
    return new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } });
  });
}

/** The origin of a server started on loopback. */
function originOf(server: Deno.HttpServer<Deno.NetAddr>): string {
  return `http://127.0.0.1:${server.addr.port}`;
}

/** Opens the framing site's page around the shop's URL; returns its iframe's frame. */
async function frameShop(page: Page, site: string, shop: string): Promise<Frame> {
  await page.goto(`${site}/?src=${encodeURIComponent(shop)}`);
  return (await (await page.locator("#shop").elementHandle())!.contentFrame())!;
}

browserTest(
  "e2e: a page of another origin cannot frame the shop",
  async (browser) => {
    await using site = startFramingSite();
    await using server = await startTestServer();
    const page = await browser.newPage();
    const refused = page.waitForEvent("console", {
      predicate: (message) => message.text().includes("frame-ancestors 'none'"),
    });
    const frame = await frameShop(page, originOf(site), server.url);
    await within(refused, "Chromium's refusal to frame the shop");
    await frame.waitForLoadState("load");
    assert.equal(await frame.locator("#add").count(), 0, "no Add button inside the frame");
    assert.notEqual(frame.url(), server.url, "the frame holds no shop page");
  },
  { expectedViolations: /frame-ancestors 'none'/ },
);

browserTest(
  "e2e: an origin listed in --frame-ancestors frames the shop, and the framed page goes live",
  async (browser) => {
    await using site = startFramingSite();
    await using server = await startTestServer({ frameAncestors: [originOf(site)] });
    const frame = await frameShop(await browser.newPage(), originOf(site), server.url);
    await frame.locator("#add").waitFor({ timeout: 5_000 });
    await waitForConnection(frame, "live");
    assert.equal(await frame.locator("#count").textContent(), "10");
  },
);
