/** The one line a failed start is told in, for failures a real start in this process makes. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describeStartFailure } from "../lib/server/start_failure.ts";
import { freePort } from "./support/free_port.ts";
import { startTestServer, TEST_CONFIG } from "./support/server.ts";
import type { Config } from "../lib/server/config.ts";

const TESTDATA = join(import.meta.dirname!, "testdata");

/** Starts a server that must fail and returns the line its failure is told in. */
async function failureLine(overrides: Partial<Config>): Promise<string> {
  const error = await startTestServer(overrides).then(
    async (server) => {
      await server.stop();
      assert.fail("the server started");
    },
    (error) => error,
  );
  const line = describeStartFailure(error, { ...TEST_CONFIG, ...overrides });
  assert.ok(!line.includes("\n"), line);
  return line;
}

Deno.test("a TLS file that cannot be read is named by its flag", async () => {
  const certFile = join(TESTDATA, "localhost.crt");
  assert.equal(
    await failureLine({ tls: { certFile: "missing.crt", keyFile: "missing.key" } }),
    "--tls-cert missing.crt cannot be read (No such file or directory); give the path of a PEM file",
  );
  assert.equal(
    await failureLine({ tls: { certFile, keyFile: "missing.key" } }),
    "--tls-key missing.key cannot be read (No such file or directory); give the path of a PEM file",
  );
});

Deno.test("TLS files that are not PEM are named with both flags", async () => {
  const readme = join(TESTDATA, "README.md");
  assert.match(
    await failureLine({ tls: { certFile: readme, keyFile: readme } }),
    new RegExp(
      `^--tls-cert ${RegExp.escape(readme)} and --tls-key ${RegExp.escape(readme)} are not a PEM ` +
        "certificate and its key \\(.+\\); give the right files$",
    ),
  );
});

Deno.test("a --data path whose folder cannot be made names the path and the folder", async () => {
  const file = join(TESTDATA, "README.md");
  const dataPath = join(file, "inventory.kv");
  assert.match(
    await failureLine({ dataPath }),
    new RegExp(
      `^--data ${RegExp.escape(dataPath)}: its folder ${RegExp.escape(file)} cannot be created ` +
        "\\(.+\\); choose another path$",
    ),
  );
});

Deno.test("a --data path that is a folder is named, with what to do", async () => {
  assert.equal(
    await failureLine({ dataPath: TESTDATA }),
    `--data ${TESTDATA} cannot be opened as a Deno KV file (a folder, or a place this user may ` +
      "not write?); choose another path",
  );
});

Deno.test("an error it does not know keeps its message, on one line", () => {
  assert.equal(
    describeStartFailure(new Error("The stored\ninventory is gone"), TEST_CONFIG),
    "could not start: The stored inventory is gone",
  );
});

Deno.test("a --redis server that cannot be reached is named, its password masked", async () => {
  const redis = `redis://shop:secret@127.0.0.1:${freePort()}`;
  assert.match(
    await failureLine({ redis }),
    new RegExp(
      `^--redis ${RegExp.escape(redis.replace("secret", "***"))} cannot be reached \\(.+\\); ` +
        "start Redis there, or give its URL with --redis or REDIS_URL$",
    ),
  );
});
