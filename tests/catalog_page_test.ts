/** The catalog page's HTML, in process: a tile per product on sale, escaped, and a blank tile. */
import assert from "node:assert/strict";
import { startTestServer } from "./support/server.ts";

Deno.test("the catalog page renders a tile per product on sale, with every text escaped", async () => {
  await using server = await startTestServer();
  const price = { amount: "2.5", currency: "EUR" };
  await server.inventory.list({
    info: {
      id: "star-sticker",
      name: `<img src=x onerror="alert(1)"> & "stars"`,
      description: "",
      price,
      image: null,
    },
    total: 0,
  });
  await server.inventory.list({
    info: { id: "old-poster", name: "Old poster", description: "", price, image: null },
    total: 5,
  });
  await server.inventory.retire("old-poster");

  const response = await server.app.handle(new Request(server.url));
  assert.equal(response.status, 200);
  const html = await response.text();
  const tiles = html.match(/<li class="tile"[^]*?<\/li>/g) ?? [];
  // The demo, the sticker, and the blank tile of the page's <template>; not the retired poster.
  assert.equal(tiles.length, 3);
  assert.ok(!html.includes("Old poster"));
  const sticker = tiles.find((tile) => tile.includes('data-product="star-sticker"'))!;
  assert.ok(!sticker.includes("<img src=x"), sticker);
  assert.ok(
    sticker.includes("&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &quot;stars&quot;"),
    sticker,
  );
  assert.match(sticker, /href="\/products\/star-sticker"/);
  assert.match(sticker, /data-price="2\.5 EUR" data-sold-out="true"/);
  assert.match(sticker, /<p class="tile-price">€2\.50<\/p>/);
  assert.match(
    sticker,
    /<span class="tile-count">0<\/span> left<\/span> <span class="tile-state">Sold out/,
  );
  assert.match(sticker, /<img src="\/static\/placeholder\.svg" alt=""/);
  assert.match(html, /<template id="tile-template"><li class="tile" data-product="" /);
});

Deno.test("the product page and the catalog's tiles print each product's own limit per shopper", async () => {
  await using server = await startTestServer();
  const price = { amount: "9.00", currency: "EUR" };
  await server.inventory.list({
    info: {
      id: "moon-pin",
      name: "Moon pin",
      description: "",
      price,
      image: null,
      limitPerShopper: 3,
    },
    total: 5,
  });
  const catalog = await (await server.app.handle(new Request(server.url))).text();
  const tiles = catalog.match(/<li class="tile"[^]*?<\/li>/g) ?? [];
  const pin = tiles.find((tile) => tile.includes('data-product="moon-pin"'))!;
  assert.match(pin, /<p class="tile-limit">3 per shopper<\/p>/);
  const demo = tiles.find((tile) => tile.includes('data-product="night-sky-print"'))!;
  assert.match(demo, /<p class="tile-limit">one per shopper<\/p>/, "the default is one");

  const page = await server.app.handle(new Request(new URL("products/moon-pin", server.url)));
  assert.match(await page.text(), /Limited edition · 3 per shopper/);
});
