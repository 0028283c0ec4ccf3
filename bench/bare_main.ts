/** Runs bench/bare_server.ts alone in its own process, so that no client shares its event loop. */
import { startBareServer } from "./bare_server.ts";

const server = startBareServer();
console.log(`Listening on ${server.url}`);
Deno.addSignalListener("SIGTERM", async () => {
  await server.stop();
  Deno.exit(0);
});
