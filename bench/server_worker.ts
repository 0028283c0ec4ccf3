/** Worker entry: runs our server and the bare baseline on this thread, so clients get another. */
import { startServer } from "../lib/server/start_server.ts";
import { TEST_CONFIG } from "../tests/support/server.ts";
import { startBareServer } from "./bare_server.ts";

/** The part of a worker's global scope used here (this file is type-checked as a window). */
const scope = self as unknown as {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent) => void) | null;
};

// Stock enough for every add a bench makes, so no change is refused as sold out.
// Every shopper comes from one address: the per-address limit of holds would refuse them.
const ours = await startServer({ ...TEST_CONFIG, inventory: 1_000_000, maxHoldsPerClient: 0 });
const bare = await startBareServer();
scope.onmessage = async () => {
  await Promise.all([ours.stop(), bare.stop()]);
  scope.postMessage({ stopped: true });
};
scope.postMessage({ ours: ours.url, bare: bare.url });
