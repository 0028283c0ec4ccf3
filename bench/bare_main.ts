/** Runs the bare-bones baseline (`bench/bare_server.ts`) in its own process, for benches that read its memory. */
import { startBareServer } from "./bare_server.ts";

const server = startBareServer();
console.log(`Listening on ${server.url}`);
