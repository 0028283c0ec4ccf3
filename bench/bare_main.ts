/**
 * Runs bench/bare_server.ts alone in its own process, so that no client shares its event loop.
 *
 *     deno run --allow-net bench/bare_main.ts
 *     deno run --allow-net bench/bare_main.ts --housekeeping
 *     deno run --allow-net --allow-read --allow-write --unstable-kv bench/bare_main.ts --kv x.kv
 *     deno run --allow-net --allow-read --allow-write --unstable-kv bench/bare_main.ts --kv x.kv \
 *       --kv-each
 */
import { parseArgs } from "node:util";
import { startBareServer } from "./bare_server.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    housekeeping: { type: "boolean" },
    kv: { type: "string" },
    "kv-each": { type: "boolean" },
  },
});
const server = await startBareServer({
  housekeeping: values.housekeeping,
  kvPath: values.kv,
  kvEach: values["kv-each"],
});
console.log(`Listening on ${server.url}`);
Deno.addSignalListener("SIGTERM", async () => {
  await server.stop();
  Deno.exit(0);
});
