/** `POST /cart` over 10 keep-alive connections at once, as `siege -c10` ran against the demo. */
import { CartChanger } from "./cart_changer.ts";
import { startWorkerServers } from "./worker_servers.ts";

/** Concurrent clients, as in the original demo's siege run. */
const CLIENTS = 10;
/** Requests each client sends per iteration: one iteration is CLIENTS × this many requests. */
const REQUESTS_PER_CLIENT = 100;

// The Worker and its sockets live until the bench process exits (see fanout_bench.ts).
const servers = await startWorkerServers();

async function openClients(base: URL): Promise<CartChanger[]> {
  return await Promise.all(Array.from({ length: CLIENTS }, () => CartChanger.open(base)));
}

const clients = new Map<URL, CartChanger[]>([
  [servers.bare, await openClients(servers.bare)],
  [servers.ours, await openClients(servers.ours)],
]);

async function siege(base: URL): Promise<void> {
  await Promise.all(clients.get(base)!.map(async (client) => {
    for (let i = 0; i < REQUESTS_PER_CLIENT; i++) await client.change();
  }));
}

const group = `POST /cart, ${CLIENTS} clients × ${REQUESTS_PER_CLIENT} requests`;

Deno.bench({
  name: "bare Deno server",
  group,
  baseline: true,
  n: 50,
  warmup: 5,
  fn: async () => await siege(servers.bare),
});

Deno.bench({
  name: "our server",
  group,
  n: 50,
  warmup: 5,
  fn: async () => await siege(servers.ours),
});
