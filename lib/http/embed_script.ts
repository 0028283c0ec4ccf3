/** `/embed.js`: the one script a page elsewhere includes to show our live counts. */
import { type Asset, assetOf } from "./static_assets.ts";

/**
 * The module served at `/embed.js`. It only loads the element from `/static/`, where its imports
 * (the shop page's connection code) resolve beside it: one copy of that code serves both. It
 * names the element's imports too, so that a browser asks for them all at once instead of one
 * level of imports per round trip; one left out would still load, a trip later.
 */
export const EMBED_SCRIPT: string = [
  'import "./static/live_state.js";',
  'import "./static/set_text.js";',
  'import "./static/connection.js";',
  'export * from "./static/live_stock.js";',
  "",
].join("\n");

/**
 * Makes `/embed.js` a servable asset, with its ETag, like the files under `/static/`.
 *
 * @returns The asset.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const embed = await embedScript();
 * assert.equal(embed.contentType, "text/javascript; charset=utf-8");
 * assert.match(new TextDecoder().decode(embed.body), /live_stock\.js/);
 * ```
 */
export function embedScript(): Promise<Asset> {
  return assetOf(new TextEncoder().encode(EMBED_SCRIPT), "text/javascript; charset=utf-8");
}
