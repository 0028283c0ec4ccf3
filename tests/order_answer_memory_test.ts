/** An order service cannot exhaust the server: a huge answer leaves its peak memory where it was. */
import assert from "node:assert/strict";
import { postCart } from "./support/clients.ts";
import { startOrderService } from "./support/order_service.ts";
import { spawnServer } from "./support/server.ts";
import { within } from "./support/within.ts";

const SECRET = `whsec_${btoa("order-secret-0123456789")}`;
const MIB = 1024 * 1024;

/** A process's peak resident memory so far (`VmHWM` of /proc/PID/status), in bytes. */
async function peakRss(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  assert.ok(kib !== undefined, "VmHWM in /proc/PID/status");
  return Number(kib) * 1024;
}

Deno.test("a 2xx of 200 MB is a sale at once, and the server's peak RSS grows less than 20 MB", async () => {
  await using service = await startOrderService({ secret: SECRET });
  // The first checkout warms the server's order path up, so that the second measures the answer.
  service.reply(1, { status: 200, stream: { bytes: 200 * MIB } });
  await using server = await spawnServer([
    "--order-webhook",
    service.url,
    "--webhook-secret",
    SECRET,
    "--webhook-timeout",
    "60",
  ]);
  const warm = crypto.randomUUID();
  await postCart(server.url, "add", warm);
  assert.equal((await postCart(server.url, "checkout", warm)).status, 200);

  const session = crypto.randomUUID();
  await postCart(server.url, "add", session);
  const before = await peakRss(server.process.pid);
  const sale = await within(postCart(server.url, "checkout", session), "the sale", 5_000);
  const after = await peakRss(server.process.pid);
  assert.equal(sale.status, 200, JSON.stringify(sale.body));
  assert.ok(
    after - before < 20 * MIB,
    `peak RSS ${(before / MIB).toFixed(1)} MiB before, ${(after / MIB).toFixed(1)} MiB after`,
  );
});
