/**
 * bench/drop.ts at a small size, end to end: a real server and bare baseline in child processes,
 * shoppers joining from 127.0.0.x, pages on every transport, the draw, the sale to sold out, and
 * every check the bench prints; and its node:crypto recount of the draw against the server's own.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { drawOrder } from "../lib/queue/draw.ts";
import { drawnOrder } from "../bench/draw_check.ts";

const DROP_BENCH = join(import.meta.dirname!, "..", "bench", "drop.ts");

Deno.test("the bench's node:crypto draw numbers tickets as the server's Web Crypto draw does", async () => {
  const seed = "a5".repeat(32);
  const tickets = Array.from({ length: 500 }, () => crypto.randomUUID());
  assert.deepEqual(drawnOrder(seed, tickets), await drawOrder(seed, tickets));
});

Deno.test("bench/drop.ts sells a small drop in number order and every page sees it sold out", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      DROP_BENCH,
      "--shoppers",
      "60",
      "--addresses",
      "7",
      "--watchers",
      "9",
      "--units",
      "5",
      "--admit-rate",
      "50",
      "--stores",
      "memory",
      "--gap",
      "1",
      "--timeout",
      "120",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  assert.equal(code, 0, `${text}\n${new TextDecoder().decode(stderr)}`);
  assert.match(text, /\| draw: seed, commitment, order \| - \| MATCH \(60 tickets\) \|/);
  assert.match(text, /\| admissions against the draw \| - \| MATCH \(units to numbers 1–5,/);
  assert.match(
    text,
    /\| every number by GET \/queue \| - \| MATCH \(60 shoppers' GET \/queue\) \|/,
  );
  assert.match(text, /\(5 sold; 0 pages not on soldOut\)/);
  assert.match(text, /\| pages open \| - \| 69 \|/);
});
