/** Browser tests of the waiting room page: a drop's every phase on each transport, axe, 320 px. */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import type { Config } from "../lib/server/config.ts";
import { axeViolations } from "./support/axe.ts";
import { browserTest, waitForConnection } from "./support/browser.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { productInfo } from "./support/products.ts";
import { startTestServer } from "./support/server.ts";

const PRODUCT = "moon-drop";
/** The opening (and the draw), 18:00 UTC: the pages are told times in UTC. */
const OPENS_AT = Date.UTC(2026, 0, 1, 18, 0);
const WINDOW_MS = 10 * 60_000;
/** The server's fake clock starts an hour before the line opens. */
const START = OPENS_AT - WINDOW_MS - 60 * 60_000;
const HEX_64 = /^[0-9a-f]{64}$/;
const DAY_MS = 86_400_000;

/**
 * Starts a server whose one product, with one unit, opens at {@linkcode OPENS_AT}, on a fake clock
 * that the test moves from phase to phase; an admission lasts 2 minutes.
 */
async function startDrop(overrides: Partial<Config> = {}) {
  const clock = new FakeClock(START);
  const server = await startTestServer({
    queueWindowMs: WINDOW_MS,
    admitRate: 20,
    admissionTtlMs: 2 * 60_000,
    // The clock jumps an hour at once: heartbeats and idle deadlines spread over that hour would
    // all fall due in one instant, and a stream that had no time to read them would look stalled.
    sseHeartbeatMs: DAY_MS,
    websocketTimeoutMs: DAY_MS,
    ...overrides,
  }, {
    clock,
    catalog: {
      entries: [{
        info: productInfo(PRODUCT, { opensAt: new Date(OPENS_AT).toISOString() }),
        total: 1,
      }],
      media: new Map(),
    },
  });
  return Object.assign(server, { clock });
}

/**
 * Opens the product page as a new shopper (own cookie) in UTC, and waits until both of its feeds,
 * the stock's and the waiting room's, are live.
 */
async function openDropPage(
  browser: Browser,
  url: string,
  viewport = { width: 1000, height: 720 },
): Promise<Page> {
  const context = await browser.newContext({ viewport, timezoneId: "UTC" });
  const page = await context.newPage();
  await page.goto(url);
  await waitForConnection(page, "live");
  await page.locator('#queue-live[data-state="live"]').waitFor();
  return page;
}

/** Waits until the waiting room panel is in a state, and returns its news and its detail. */
async function waitForPanel(
  page: Page,
  state: string,
): Promise<{ status: string; detail: string }> {
  await page.locator(`#queue[data-state="${state}"]`).waitFor({ timeout: 10_000 });
  return {
    status: await page.locator("#queue-status").textContent() ?? "",
    detail: await page.locator("#queue-detail").textContent() ?? "",
  };
}

/** Waits until an element's text matches (shown or not: the draw's details may be closed). */
async function waitForText(page: Page, selector: string, pattern: RegExp): Promise<string> {
  const handle = await page.waitForFunction(([selector, source]) => {
    const text = document.querySelector(selector)?.textContent ?? "";
    return new RegExp(source).test(text) && text;
  }, [selector, pattern.source] as const);
  return String(await handle.jsonValue());
}

/** The hex SHA-256 of a text's UTF-8 bytes, as the draw publishes each ticket. */
async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

const TRANSPORTS = ["ws", "sse", "poll"] as const;

for (const transport of TRANSPORTS) {
  browserTest(
    `e2e queue: over ${transport}, a shopper goes from the countdown through the draw to the last unit`,
    async (browser) => {
      await using server = await startDrop();
      const url = `${server.url}products/${PRODUCT}?transport=${transport}`;
      const first = await openDropPage(browser, url);
      assert.equal(await first.locator("#queue-live").getAttribute("data-transport"), transport);

      // Before: the opening and a countdown by the server's clock, not the device's.
      let panel = await waitForPanel(first, "before");
      assert.equal(panel.status, "Opens at 18:00");
      assert.match(panel.detail, /^in 1 h (09|10) min$/);
      assert.equal(await first.locator("#queue-join").isHidden(), true);
      const add = first.locator("#add");
      assert.equal(await add.isDisabled(), true);
      assert.equal(await add.textContent(), "Wait for your turn");

      // The window opens: the commitment is published and the shopper joins.
      server.clock.advance(60 * 60_000);
      panel = await waitForPanel(first, "join");
      assert.equal(panel.status, "The line is open — the draw is at 18:00");
      const commitment = await waitForText(first, "#queue-commitment", HEX_64);
      await first.click("#queue-join");
      panel = await waitForPanel(first, "waiting");
      assert.equal(panel.status, "You're in line — the draw is at 18:00");
      // Only this shopper sees their ticket, so that they can find it in the draw.
      const ticket = await waitForText(first, "#queue-ticket", /^[0-9a-f-]{36}$/);
      assert.match(panel.detail, /^in (9|10) min/);

      // The draw: the seed is revealed; the one ticket drawn is first and has its turn.
      server.clock.advance(WINDOW_MS);
      const seed = await waitForText(first, "#queue-seed", HEX_64);
      server.clock.advance(1_000);
      panel = await waitForPanel(first, "admitted");
      assert.equal(panel.status, "It's your turn: add it to your cart now");
      assert.match(panel.detail, /^Your turn ends in (1 min \d\d s|2 min 00 s)$/);
      await add.and(first.locator(":enabled")).filter({ hasText: "Add to cart" }).waitFor();
      const draw = await (await fetch(`${server.url}queue/draw?product=${PRODUCT}`)).json();
      assert.equal(draw.commitment, commitment);
      assert.equal(seed, draw.seed);
      assert.deepEqual(draw.order, [await sha256Hex(ticket)]);

      // A shopper who joins after the draw gets the next number and waits: one unit, one turn.
      const second = await openDropPage(browser, url);
      await waitForPanel(second, "join");
      await second.click("#queue-join");
      panel = await waitForPanel(second, "numbered");
      assert.equal(panel.status, "You're number 1 in line");
      assert.equal(await second.locator("#add").isDisabled(), true);

      // The first lets the turn pass: the unit goes to the next in line, who adds and buys it.
      server.clock.advance(2 * 60_000 + 1_000);
      panel = await waitForPanel(first, "done");
      assert.equal(panel.status, "Your turn has passed");
      await add.filter({ hasText: "Wait for your turn" }).waitFor();
      assert.equal(await add.isDisabled(), true);
      panel = await waitForPanel(second, "admitted");
      await second.click("#add:enabled");
      await second.locator("#add", { hasText: "In your cart" }).waitFor();
      await second.locator("#buy:enabled").click();
      await second.locator("#buy", { hasText: "Purchased ✓" }).waitFor();

      // Sold out: every page is told at once.
      for (const page of [first, second]) {
        panel = await waitForPanel(page, "soldOut");
        assert.equal(panel.status, "Sold out");
      }
      await add.filter({ hasText: "Sold out" }).waitFor();
      assert.equal(await add.isDisabled(), true);
      // All of it came over the one transport asked for, with no reconnection on the way.
      for (const page of [first, second]) {
        const indicator = page.locator("#queue-live");
        assert.equal(await indicator.getAttribute("data-transport"), transport);
        assert.equal(await indicator.getAttribute("data-state"), "live");
        assert.equal(await indicator.getAttribute("data-attempt"), "0");
      }
    },
  );
}

browserTest(
  "e2e queue: the panel is axe-clean, light and dark, and fits 320 px in every phase",
  async (browser) => {
    await using server = await startDrop();
    const page = await openDropPage(browser, `${server.url}products/${PRODUCT}`, {
      width: 320,
      height: 568,
    });
    // The draw's details open, so that the 64-digit hex strings are laid out too.
    await page.locator(".queue-draw summary").click();
    /** Checks the page as it stands: no axe violation, no sideways scrolling. */
    const check = async (phase: string) => {
      await waitForPanel(page, phase);
      for (const colorScheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme });
        assert.deepEqual(await axeViolations(page), [], `axe, ${colorScheme}, in phase ${phase}`);
      }
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 320, `the page scrolls sideways in phase ${phase}: ${width} px`);
    };
    await check("before");
    server.clock.advance(60 * 60_000);
    await check("join");
    await page.click("#queue-join");
    await check("waiting");
    server.clock.advance(WINDOW_MS + 1_000);
    await waitForText(page, "#queue-seed", HEX_64);
    await check("admitted");
    // The news goes to a polite live region; the ticking countdown stays out of it.
    assert.equal(await page.locator("#queue-status").getAttribute("role"), "status");
    assert.equal(await page.locator("#queue-detail").getAttribute("role"), null);
    await page.click("#add");
    await page.locator("#buy:enabled").click();
    await check("soldOut");
  },
);

browserTest(
  "e2e queue: with --queue-challenge the page solves the proof of work before it joins",
  async (browser) => {
    await using server = await startDrop({ queueChallenge: 5_000 });
    const page = await openDropPage(browser, `${server.url}products/${PRODUCT}`);
    server.clock.advance(60 * 60_000);
    await waitForPanel(page, "join");
    const joined = page.waitForRequest((request) =>
      request.method() === "POST" && new URL(request.url()).pathname === "/queue"
    );
    await page.click("#queue-join");
    const fields = (await joined).postDataJSON();
    assert.equal(fields.product, PRODUCT);
    assert.equal(typeof fields.altcha, "string");
    await waitForPanel(page, "waiting");
    assert.equal(await page.locator("#queue-error").textContent(), "");
  },
);
