/** Entry point: flags → config, start the server, stop gracefully on SIGINT or SIGTERM. */
import { parseConfig } from "./lib/server/config.ts";
import { USAGE } from "./lib/server/usage.ts";
import { loadCatalogFile } from "./lib/server/catalog_file.ts";
import { startServer } from "./lib/server/start_server.ts";
import { describeStartFailure } from "./lib/server/start_failure.ts";

/** A stop must end well inside 5 s even if a connection will not close. */
const STOP_DEADLINE_MS = 4_000;

if (import.meta.main) {
  let invocation;
  try {
    invocation = parseConfig(Deno.args, (name) => Deno.env.get(name));
  } catch (error) {
    console.error(`error: ${(error as Error).message} (see --help)`);
    Deno.exit(2);
  }
  if (invocation.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const { config } = invocation;
  let catalog;
  try {
    if (config.catalogPath !== undefined) {
      const file = await loadCatalogFile(config.catalogPath, { maxProducts: config.maxProducts });
      catalog = {
        entries: file.products.map(({ total, ...info }) => ({ info, total })),
        media: file.media,
        shop: file.shop,
      };
    }
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    Deno.exit(2);
  }
  let server;
  try {
    server = await startServer(config, { catalog });
  } catch (error) {
    // A port in use, an address not of this machine, a data file that is not Deno KV: one line
    // saying what to change, not a stack trace. Exit 1, where a value refused before start is 2.
    console.error(`error: ${describeStartFailure(error, invocation.config)}`);
    Deno.exit(1);
  }
  const stop = async (signal: string) => {
    console.log(`${signal}: stopping`);
    setTimeout(() => {
      console.error("stop took too long; exiting");
      Deno.exit(1);
    }, STOP_DEADLINE_MS);
    try {
      await server.stop();
    } catch (error) {
      // The store would not close (its data may be unwritten): one line, and a failing status.
      console.error(`error: stopping failed: ${(error as Error).message}`);
      Deno.exit(1);
    }
    console.log("stopped");
    Deno.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => stop(signal));
  }
  // Only now: a supervisor that signals as soon as it reads this line gets a graceful stop.
  console.log(`Listening on ${server.url}`);
}
