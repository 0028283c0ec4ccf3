/** A WebSocket subscriber that stops reading must not make the server buffer every change for it. */
import assert from "node:assert/strict";
import { DEFAULT_WEBSOCKET_HUB_OPTIONS, WebSocketHub } from "../lib/realtime/websocket_hub.ts";
import { openRawWebSocket } from "./support/raw_websocket.ts";
import { eventually } from "./support/clients.ts";
import { openMemoryShop } from "./support/memory_shop.ts";

Deno.test({
  name: "a WebSocket that does not read is sent only the newest state once it drains",
  sanitizeOps: false, // deno#22387
  sanitizeResources: false,
  async fn() {
    // The hub alone over a real socket, on a store in memory: a durable store's commits would
    // make the 400,000 changes below take twenty times longer and prove nothing more.
    await using shop = await openMemoryShop({ pin: 1 });
    const hub = new WebSocketHub();
    await using server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen: () => {} },
      (request) => hub.accept(request, shop.topic("pin")),
    );
    const raw = await openRawWebSocket(`http://127.0.0.1:${server.addr.port}/`, "/cart/status");
    try {
      await eventually(() => hub.size === 1, "the subscriber");
      // 400,000 changes of ~35 bytes are ~14 MB: more than loopback's socket buffers hold, so
      // without conflation the server would have to queue most of them in its own memory.
      const changes = 400_000;
      const shopper = crypto.randomUUID();
      for (let i = 0; i < changes / 2; i++) {
        await shop.inventory.add("pin", shopper);
        await shop.inventory.remove("pin", shopper);
        if (i % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      }
      const final = shop.inventory.get("pin")!.version;
      assert.equal(final, changes);
      const { texts, closeCode } = await raw.readUntil((text) =>
        JSON.parse(text).version === final
      );
      assert.equal(closeCode, undefined, "the socket stays open");
      assert.ok(
        texts.length < changes / 2,
        `conflated: ${texts.length} messages for ${changes} changes`,
      );
      const versions = texts.map((t) => JSON.parse(t).version);
      assert.ok(versions.every((v, i) => i === 0 || v > versions[i - 1]), "versions only rise");
      assert.equal(versions.at(-1), final);
    } finally {
      raw.conn.close();
      hub.close();
    }
  },
});

Deno.test({
  name: "a catalog WebSocket that lagged through a product's last change gets it at the next push",
  sanitizeOps: false, // deno#22387
  sanitizeResources: false,
  async fn() {
    await using shop = await openMemoryShop({ print: 1, tote: 1000 });
    // No drain check in this test: only the pushes can bring the socket up to date.
    const hub = new WebSocketHub({ ...DEFAULT_WEBSOCKET_HUB_OPTIONS, drainCheckMs: 3_600_000 });
    await using server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen: () => {} },
      (request) => hub.accept(request, shop.topics.catalog),
    );
    const raw = await openRawWebSocket(`http://127.0.0.1:${server.addr.port}/`, "/catalog/status");
    try {
      await eventually(() => hub.size === 1, "the subscriber");
      // 120,000 entries of ~140 bytes are ~17 MB: more than loopback's buffers hold, so the
      // socket stops taking them and lags through print's last changes.
      const shopper = crypto.randomUUID();
      for (let i = 0; i < 60_000; i++) {
        await shop.inventory.add("print", shopper);
        await shop.inventory.remove("print", shopper);
        if (i % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      }
      const final = shop.inventory.get("print")!.version;
      assert.equal(hub.lagging, 1, "the socket lags");
      const hasFinal = (text: string) => {
        const message = JSON.parse(text);
        return (message.products ?? [message]).some((entry: { product: string; version: number }) =>
          entry.product === "print" && entry.version === final
        );
      };
      let done = false;
      const reading = raw.readUntil(hasFinal).then((result) => {
        done = true;
        return result;
      });
      reading.catch(() => {}); // The finally below closes the connection under a failed read.
      // The client reads again; only tote changes from now on, and each push may find it drained.
      await eventually(
        async () => {
          if (!done) await shop.inventory.add("tote", crypto.randomUUID());
          return done;
        },
        "print's last change to reach the socket",
        20_000,
      );
      const { texts, closeCode } = await reading;
      assert.equal(closeCode, undefined, "the socket stays open");
      assert.ok(hasFinal(texts.at(-1)!));
    } finally {
      raw.conn.close();
      hub.close();
    }
  },
});
