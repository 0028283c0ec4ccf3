/** GET /metrics: names promtool accepts, and request counters that exist at 0 from the start. */
import assert from "node:assert/strict";
import { systemClock } from "../lib/time/clock.ts";
import { Inventory } from "../lib/inventory/inventory.ts";
import { openMemoryStore } from "../lib/store/memory_store.ts";
import { type Gauges, Metrics, REQUEST_STATUSES } from "../lib/http/monitoring.ts";
import { postCart } from "./support/clients.ts";
import { programMissing } from "./support/missing_program.ts";
import { startTestServer } from "./support/server.ts";

/** Where Debian's `prometheus` package puts its checker (`apt-get install -y prometheus`). */
const PROMTOOL_PATH = "/usr/bin/promtool";

const promtoolMissing = programMissing({
  path: PROMTOOL_PATH,
  tests: "PROMTOOL TEST",
  install: "apt-get install -y prometheus",
  files: "tests/metrics_test.ts",
});

const NO_GAUGES: Gauges = {
  longPollWaiters: 0,
  websocketSubscribers: 0,
  sseSubscribers: 0,
  websocketLagging: 0,
  websocketSlowClosed: 0,
  sseSlowClosed: 0,
  connections: 0,
  connectionsRefused: 0,
  acceptErrors: 0,
  listeners: 1,
};

/** The scrape's `inventory_http_requests_total` series, as `route status` → count. */
function requestCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = line.match(
      /^inventory_http_requests_total\{route="(\w+)",status="(\d+)"\} (\d+)$/,
    );
    if (match) counts.set(`${match[1]} ${match[2]}`, Number(match[3]));
  }
  return counts;
}

Deno.test({
  name: "promtool check metrics accepts a scrape of /metrics without a warning",
  ignore: promtoolMissing,
  async fn() {
    await using server = await startTestServer({ inventory: 1, adminToken: "secret-token" });
    await postCart(server.url, "add", crypto.randomUUID());
    await postCart(server.url, "add", crypto.randomUUID());
    await (await fetch(new URL("nope", server.url))).body?.cancel();
    const scrape = await (await fetch(new URL("metrics", server.url))).text();

    const promtool = new Deno.Command(PROMTOOL_PATH, {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = promtool.stdin.getWriter();
    await writer.write(new TextEncoder().encode(scrape));
    await writer.close();
    const { code, stdout, stderr } = await promtool.output();
    const said = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    assert.equal(said, "", `promtool says:\n${said}`);
    assert.equal(code, 0);
  },
});

Deno.test("every route's request counter is at 0 for every status before its first request", async () => {
  await using server = await startTestServer({ adminToken: "secret-token" });
  const counts = requestCounts(await (await fetch(new URL("metrics", server.url))).text());
  const routes = [
    "page",
    "cart",
    "status",
    "echo",
    "healthz",
    "readyz",
    "admin_inventory",
    "static",
  ];
  for (const route of [...routes, "not_found"]) {
    for (const status of REQUEST_STATUSES) {
      assert.equal(counts.get(`${route} ${status}`), 0, `${route} ${status}`);
    }
  }
  // The scrape above is counted once it is answered, so only the next scrape shows it.
  assert.equal(counts.get("metrics 200"), 0);
  const next = requestCounts(await (await fetch(new URL("metrics", server.url))).text());
  assert.equal(next.get("metrics 200"), 1);
});

Deno.test("a route or status that was not declared is still counted", async () => {
  const metrics = new Metrics(["page"]);
  metrics.countRequest("page", 200);
  metrics.countRequest("page", 200);
  metrics.countRequest("page", 418);
  metrics.countRequest("elsewhere", 200);
  const counts = requestCounts(metrics.render(
    await Inventory.open(openMemoryStore({ holdTtlMs: 60_000, clock: systemClock }), 60_000),
    NO_GAUGES,
  ));
  assert.equal(counts.get("page 200"), 2);
  assert.equal(counts.get("page 418"), 1);
  assert.equal(counts.get("elsewhere 200"), 1);
  assert.equal(counts.get("page 404"), 0);
  assert.equal(counts.has("elsewhere 404"), false, "an undeclared route gets only what it answers");
});
