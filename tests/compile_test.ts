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

Deno.test("the compile task embeds templates/ and static/ and grants only what the server uses", () => {
  const words = tasks.compile.split(/\s+/);
  const included = words.flatMap((w, i) => (words[i - 1] === "--include" ? [w] : []));
  assert.deepEqual(included.sort(), ["static", "templates"]);
  assert.ok(words.includes("main.ts"));
  assert.ok(!words.includes("--allow-all") && !words.includes("-A"), "no blanket permissions");
});

Deno.test("the server starts and serves its page and assets reading only the embedded folders", async () => {
  const words = tasks.compile.split(/\s+/);
  const included = words.flatMap((w, i) => (words[i - 1] === "--include" ? [w] : []));
  const grants = words.filter((w) => w.startsWith("--allow-") && w !== "--allow-read");
  const readable = included.map((dir) => join(ROOT, dir)).join(",");
  await using child = await spawnServer([], {}, [...grants, `--allow-read=${readable}`]);
  const page = await fetch(child.url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /\/static\/app\.js/);
  const script = await fetch(new URL("static/app.js", child.url));
  assert.equal(script.status, 200);
  await script.body?.cancel();
});
