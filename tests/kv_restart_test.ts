/** Restarts of `main.ts` on one data file: holds, count and version survive SIGTERM and SIGKILL. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEMO, spawnServer } from "./support/server.ts";
import { postCart } from "./support/clients.ts";

/** Every add of these tests comes from one address: the per-address limit of holds is not their subject. */
const UNCOUNTED = ["--max-holds-per-client", "0"];

/** A data file in a folder that does not exist yet, removed with the scope. */
async function tempDataPath(): Promise<{ path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "kv_restart_" });
  return {
    path: join(dir, "data", "inventory.kv"),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("after SIGTERM a restart keeps every hold, the count and the version", async () => {
  await using data = await tempDataPath();
  const sessions = Array.from({ length: 4 }, () => crypto.randomUUID());
  {
    await using first = await spawnServer([...UNCOUNTED, "--data", data.path, "--inventory", "10"]);
    for (const session of sessions) {
      assert.equal((await postCart(first.url, "add", session)).status, 200);
    }
    first.process.kill("SIGTERM");
    assert.equal((await first.status).code, 0);
  }
  await using second = await spawnServer([...UNCOUNTED, "--data", data.path]);
  assert.match(second.output(), /Inventory "night-sky-print": total 10, 4 held, version 4/);
  for (const session of sessions) {
    const again = await postCart(second.url, "add", session);
    assert.deepEqual(
      again.body,
      { product: DEMO, inventoryCount: 6, version: 4, inCart: true },
      "held once",
    );
  }
  const next = await postCart(second.url, "add", crypto.randomUUID());
  assert.deepEqual(next.body, { product: DEMO, inventoryCount: 5, version: 5, inCart: true });
  const removed = await postCart(second.url, "remove", sessions[0]);
  assert.deepEqual(removed.body, { product: DEMO, inventoryCount: 6, version: 6, inCart: false });
});

/**
 * Fires 200 adds at a child, stops it with a signal once 20 are acknowledged, restarts it on the
 * same file, and checks that every acknowledged hold is there and the version went on.
 */
async function stopInTheMiddleOfAdds(signal: "SIGTERM" | "SIGKILL"): Promise<void> {
  await using data = await tempDataPath();
  const total = 500;
  const sessions = Array.from({ length: 200 }, () => crypto.randomUUID());
  const acknowledged: string[] = [];
  {
    await using first = await spawnServer([
      ...UNCOUNTED,
      "--data",
      data.path,
      "--inventory",
      String(total),
    ]);
    const { promise: enough, resolve } = Promise.withResolvers<void>();
    const adds = sessions.map(async (session) => {
      const { status } = await postCart(first.url, "add", session);
      if (status === 200) acknowledged.push(session);
      if (acknowledged.length === 20) resolve();
    });
    const all = Promise.allSettled(adds);
    await Promise.race([enough, all]);
    first.process.kill(signal);
    await all;
    const { code } = await first.status;
    if (signal === "SIGTERM") assert.equal(code, 0, first.output());
    else assert.notEqual(code, 0);
  }
  assert.ok(acknowledged.length >= 20);

  await using second = await spawnServer([...UNCOUNTED, "--data", data.path]);
  const probe = await postCart(second.url, "add", acknowledged[0]);
  const { inventoryCount, version } = probe.body;
  const committed = total - inventoryCount;
  assert.ok(committed >= acknowledged.length, `${committed} held, ${acknowledged.length} acked`);
  assert.equal(version, committed, "each committed add raised the version once");
  for (const session of acknowledged) {
    const again = await postCart(second.url, "add", session);
    assert.deepEqual(again.body, { product: DEMO, inventoryCount, version, inCart: true }, session);
  }
  const next = await postCart(second.url, "add", crypto.randomUUID());
  assert.deepEqual(next.body, {
    product: DEMO,
    inventoryCount: inventoryCount - 1,
    version: version + 1,
    inCart: true,
  });
}

Deno.test("after SIGTERM in the middle of adds every acknowledged hold is still there", () =>
  stopInTheMiddleOfAdds("SIGTERM"));

Deno.test("after SIGKILL in the middle of adds every acknowledged hold is still there", () =>
  stopInTheMiddleOfAdds("SIGKILL"));

Deno.test("an explicit --inventory on an existing file restocks, keeps holds and says so", async () => {
  await using data = await tempDataPath();
  const sessions = Array.from({ length: 3 }, () => crypto.randomUUID());
  {
    await using first = await spawnServer([...UNCOUNTED, "--data", data.path, "--inventory", "10"]);
    assert.match(first.output(), /Catalog: added "night-sky-print" \(total 10\)/);
    assert.match(first.output(), /Inventory "night-sky-print": total 10, 0 held, version 0/);
    for (const session of sessions) await postCart(first.url, "add", session);
  }
  {
    await using second = await spawnServer([...UNCOUNTED, "--data", data.path, "--inventory", "5"]);
    assert.match(
      second.output(),
      /Catalog: restocked "night-sky-print": total 10 -> 5 \(--inventory given; holds kept\)/,
    );
    assert.match(second.output(), /Inventory "night-sky-print": total 5, 3 held, version 4/);
    const again = await postCart(second.url, "add", sessions[0]);
    assert.deepEqual(again.body, { product: DEMO, inventoryCount: 2, version: 4, inCart: true });
  }
  await using third = await spawnServer([...UNCOUNTED, "--data", data.path]);
  assert.doesNotMatch(third.output(), /Catalog: /);
  assert.match(third.output(), /Inventory "night-sky-print": total 5, 3 held, version 4/);
});

Deno.test("a data file that cannot be opened stops the start with one line", async () => {
  await using data = await tempDataPath();
  // A folder where the file should be: Deno KV cannot open it.
  await Deno.mkdir(data.path, { recursive: true });
  await assert.rejects(
    spawnServer([...UNCOUNTED, "--data", data.path]),
    (error: Error) => /exited with 1[\s\S]*error: /.test(error.message),
  );
});
