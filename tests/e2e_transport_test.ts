/** Browser tests of each transport the page can use, its fallbacks, and its version rule. */
import assert from "node:assert/strict";
import type { Gauges } from "../lib/http/monitoring.ts";
import { DEMO_PRODUCT } from "../lib/server/demo_catalog.ts";
import {
  browserTest,
  openShopper,
  openThroughRefusals,
  waitForConnection,
  waitForCount,
} from "./support/browser.ts";
import { eventually } from "./support/clients.ts";
import { startTestServer } from "./support/server.ts";

const DEMO = DEMO_PRODUCT.id;

const TRANSPORTS = [
  {
    param: "ws",
    name: "WebSocket",
    gauge: "websocketSubscribers",
  },
  {
    param: "sse",
    name: "Server-Sent Events",
    gauge: "sseSubscribers",
  },
  {
    param: "poll",
    name: "long polling",
    gauge: "longPollWaiters",
  },
] as const satisfies { param: string; name: string; gauge: keyof Gauges }[];

for (const transport of TRANSPORTS) {
  browserTest(
    `e2e: ?transport=${transport.param} names ${transport.name} and gets updates`,
    async (browser) => {
      await using server = await startTestServer({ inventory: 5 });
      const { page } = await openShopper(browser, `${server.url}?transport=${transport.param}`);
      const live = page.locator("#live");
      assert.equal(await live.getAttribute("data-transport"), transport.param);
      assert.equal(await live.textContent().then((t) => t?.trim()), `Live via ${transport.name}`);
      // The server really holds a connection of that kind.
      await eventually(() => server.app.gauges()[transport.gauge] === 1, transport.gauge);

      const other = crypto.randomUUID();
      await server.inventory.add(DEMO, other);
      await waitForCount(page, 4);
      await server.inventory.add(DEMO, crypto.randomUUID());
      await waitForCount(page, 3);
      await server.inventory.remove(DEMO, other);
      await waitForCount(page, 4);
      assert.equal(await live.getAttribute("data-state"), "live");
    },
  );
}

browserTest("e2e: without a forced transport the page prefers WebSocket", async (browser) => {
  await using server = await startTestServer();
  const { page } = await openShopper(browser, server.url);
  assert.equal(await page.locator("#live").getAttribute("data-transport"), "ws");
  await eventually(() => server.app.gauges().websocketSubscribers === 1, "a WebSocket");
});

browserTest(
  "e2e: a page whose WebSocket is refused falls back to SSE, then long polling",
  async (browser) => {
    await using server = await startTestServer({ inventory: 5 });
    const { sse, poll } = await openThroughRefusals(browser, server.url, /\/cart\/status/);
    assert.equal(await sse.locator("#live").getAttribute("data-transport"), "sse");
    assert.equal(await poll.locator("#live").getAttribute("data-transport"), "poll");

    await server.inventory.add(DEMO, crypto.randomUUID());
    await Promise.all([waitForCount(sse, 4), waitForCount(poll, 4)]);
  },
);

/** Records every count the page shows, with its version, from the first render on. */
function recordCounts(): void {
  const shown: [string, string][] = [];
  Object.assign(globalThis, { shownCounts: shown });
  document.addEventListener("DOMContentLoaded", () => {
    const count = document.getElementById("count")!;
    const record = () => shown.push([count.textContent ?? "", count.dataset.version ?? ""]);
    record();
    new MutationObserver(record).observe(count, {
      childList: true,
      characterData: true,
      subtree: true,
      attributes: true,
    });
  });
}

browserTest("e2e: the page never shows a version older than one it has shown", async (browser) => {
  await using server = await startTestServer({ inventory: 10 });
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(recordCounts);
  let toPage: ((message: string) => void) | undefined;
  await page.routeWebSocket(/\/cart\/status/, (socket) => {
    socket.connectToServer();
    toPage = (message) => socket.send(message);
  });
  await page.goto(`${server.url}?transport=ws`);
  await waitForConnection(page, "live");
  const epoch = server.inventory.epoch;
  await server.inventory.add(DEMO, crypto.randomUUID());
  await server.inventory.add(DEMO, crypto.randomUUID());
  await waitForCount(page, 8);

  // A late message from before, of this life of the store: older version, tempting count.
  toPage!(JSON.stringify({ product: DEMO, inventoryCount: 99, version: 1, epoch }));
  await server.inventory.add(DEMO, crypto.randomUUID());
  await waitForCount(page, 7);

  const shown = await page.evaluate(() =>
    (globalThis as unknown as { shownCounts: [string, string][] }).shownCounts
  );
  const versions = shown.map(([, version]) => Number(version));
  assert.deepEqual(shown.at(-1), ["7", "3"]);
  assert.ok(!shown.some(([count]) => count === "99"), JSON.stringify(shown));
  assert.ok(
    versions.every((v, i) => i === 0 || v >= versions[i - 1]),
    `versions went back: ${JSON.stringify(shown)}`,
  );
});
