/** A start that cannot listen writes nothing: the port is bound before the store is opened. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEMO, spawnServer } from "./support/server.ts";

Deno.test("a start on a port in use changes nothing in the data file another server runs on", async () => {
  const dir = await Deno.makeTempDir();
  const data = join(dir, "inventory.kv");
  try {
    {
      await using running = await spawnServer(["--data", data, "--inventory", "10"]);
      const port = new URL(running.url).port;
      const second = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          join(import.meta.dirname!, "..", "main.ts"),
          "--port",
          port,
          "--data",
          data,
          "--inventory",
          "50",
        ],
        stdin: "null",
      }).output();
      const said = new TextDecoder().decode(second.stdout) +
        new TextDecoder().decode(second.stderr);
      assert.equal(second.code, 1, said);
      assert.match(said, new RegExp(`port ${port} is already in use`));
      assert.doesNotMatch(said, /restocked/i, "nothing was written before the port was bound");
      // The running server still sells from its own total.
      const state = await (await fetch(new URL("cart/status?since=99", running.url))).json();
      assert.deepEqual([state.product, state.inventoryCount], [DEMO, 10]);
    }
    // Read the file again: its total is still the first server's.
    await using again = await spawnServer(["--data", data]);
    assert.match(again.output(), new RegExp(`Inventory "${DEMO}": total 10, 0 held`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
