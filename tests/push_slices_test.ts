/** More subscribers than one slice holds, on each transport: every one ends on the newest state. */
import assert from "node:assert/strict";
import { Fleet } from "./support/fleet.ts";
import { DEFAULT_SLICE_SIZE } from "../lib/realtime/sliced_loop.ts";
import { DEMO_PRODUCT } from "../lib/server/demo_catalog.ts";
import { startTestServer } from "./support/server.ts";

/** Enough subscribers that a push takes two slices. */
const SUBSCRIBERS = DEFAULT_SLICE_SIZE + 100;

for (const transport of ["ws", "sse", "poll"] as const) {
  Deno.test({
    name:
      `${transport}: a push in slices reaches all ${SUBSCRIBERS}, and a burst ends on the newest`,
    sanitizeOps: transport === "ws" ? false : undefined,
    sanitizeResources: transport === "ws" ? false : undefined,
    async fn() {
      await using server = await startTestServer({ inventory: 1000 });
      const url = new URL(server.url);
      const fleet = new Fleet();
      try {
        const opened = await fleet.open(url, transport, SUBSCRIBERS);
        assert.equal(opened.opened, SUBSCRIBERS, opened.firstError);
        const deadline = () => AbortSignal.timeout(20_000);

        fleet.arm(1);
        await server.inventory.add(DEMO_PRODUCT.id, crypto.randomUUID());
        await fleet.reached(deadline());

        // Changes while a push is under way are conflated: versions only rise, and all end on 51.
        fleet.arm(51);
        for (let i = 0; i < 50; i++) {
          await server.inventory.add(DEMO_PRODUCT.id, crypto.randomUUID());
        }
        await fleet.reached(deadline());
        assert.equal(fleet.behind(51), 0);
        assert.equal(fleet.duplicates, 0, "no state twice, none older after a newer one");
        assert.equal(fleet.lost, 0, fleet.firstLoss);
      } finally {
        fleet.close();
      }
    },
  });
}
