/**
 * What `deno task compile` relies on: the server reads nothing at run time but the folders the
 * task embeds with `--include`. (The compile itself needs a `denort` download that this machine
 * cannot make, so it is not run here.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { spawnServer } from "./support/server.ts";

const ROOT = join(import.meta.dirname!, "..");
const tasks: Record<string, string> = JSON.parse(
  await Deno.readTextFile(join(ROOT, "deno.json")),
).tasks;

/**
 * The permissions the compiled server is granted, stated here and not read from the task: a
 * permission added to the task must be added here too, on purpose.
 */
const GRANTS = ["--allow-net", "--allow-read", "--allow-write", "--allow-env"];
/** The folders the compiled server embeds, and the only ones it may read. */
const EMBEDDED = ["static", "templates"];

Deno.test("the compile task embeds templates/ and static/ and grants only what the server uses", () => {
  const words = tasks.compile.split(/\s+/);
  const included = words.flatMap((w, i) => (words[i - 1] === "--include" ? [w] : []));
  assert.deepEqual(included.sort(), EMBEDDED);
  assert.ok(words.includes("main.ts"));
  assert.ok(!words.includes("--allow-all") && !words.includes("-A"), "no blanket permissions");
  const permissions = words.filter((w) => w.startsWith("--allow-") || w.startsWith("--deny-"));
  assert.deepEqual(permissions.sort(), [...GRANTS].sort(), "exactly the permissions stated here");
});

Deno.test("the server starts and serves its page and assets reading only the embedded folders", async () => {
  const grants = GRANTS.filter((w) => w !== "--allow-read");
  const readable = EMBEDDED.map((dir) => join(ROOT, dir)).join(",");
  await using child = await spawnServer([], {}, [...grants, `--allow-read=${readable}`]);
  const page = await fetch(child.url);
  assert.equal(page.status, 200);
  const html = await page.text();
  // The script, and the demo product's picture, both among the embedded static files.
  for (const asset of ["/static/app.js", "/static/night-sky.svg"]) {
    assert.ok(html.includes(`"${asset}"`), `the page refers to ${asset}`);
    const response = await fetch(new URL(asset, child.url));
    assert.equal(response.status, 200, asset);
    await response.body?.cancel();
  }
  const missing = await fetch(new URL("products/no-such-thing", child.url));
  assert.equal(missing.status, 404, "templates/missing.html is embedded too");
  assert.match(await missing.text(), /no product/);
});
