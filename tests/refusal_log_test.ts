/** The refused-origin log: once a minute per origin, on a fake clock, in bounded memory. */
import assert from "node:assert/strict";
import {
  REFUSAL_LOG_INTERVAL_MS,
  REFUSAL_LOG_MAX_ORIGINS,
  RefusalLog,
} from "../lib/http/refusal_log.ts";
import { FakeClock } from "./support/fake_clock.ts";

const OWN = ["http://shop.example:8443"];

function recordingLog(): { clock: FakeClock; lines: string[]; refusals: RefusalLog } {
  const clock = new FakeClock();
  const lines: string[] = [];
  const refusals = new RefusalLog({ now: () => clock.now(), log: (line) => lines.push(line) });
  return { clock, lines, refusals };
}

Deno.test("a refused origin is logged once per minute, with what it was compared with", () => {
  const { clock, lines, refusals } = recordingLog();
  refusals.refuse("https://evil.example", OWN);
  clock.advance(REFUSAL_LOG_INTERVAL_MS - 1);
  refusals.refuse("https://evil.example", OWN);
  assert.deepEqual(lines, [
    'refused origin "https://evil.example" (compared with "http://shop.example:8443")',
  ]);
  clock.advance(1);
  refusals.refuse("https://evil.example", OWN);
  assert.equal(lines.length, 2, "a minute after it was logged, it is logged again");
});

Deno.test("each origin has its own minute; a missing Origin is one of them", () => {
  const { lines, refusals } = recordingLog();
  refusals.refuse("https://evil.example", OWN);
  refusals.refuse("https://other.example", OWN);
  refusals.refuse(null, OWN);
  refusals.refuse(null, OWN);
  refusals.refuse("null", OWN);
  assert.deepEqual(lines, [
    'refused origin "https://evil.example" (compared with "http://shop.example:8443")',
    'refused origin "https://other.example" (compared with "http://shop.example:8443")',
    'refused origin null (compared with "http://shop.example:8443")',
    'refused origin "null" (compared with "http://shop.example:8443")',
  ]);
});

Deno.test("past the limit of remembered origins, the oldest is forgotten", () => {
  const { lines, refusals } = recordingLog();
  for (let i = 0; i <= REFUSAL_LOG_MAX_ORIGINS; i++) refusals.refuse(`https://o${i}.example`, OWN);
  assert.equal(lines.length, REFUSAL_LOG_MAX_ORIGINS + 1);
  refusals.refuse(`https://o${REFUSAL_LOG_MAX_ORIGINS}.example`, OWN);
  assert.equal(lines.length, REFUSAL_LOG_MAX_ORIGINS + 1, "the newest is still remembered");
  refusals.refuse("https://o0.example", OWN);
  assert.equal(lines.length, REFUSAL_LOG_MAX_ORIGINS + 2, "the oldest was forgotten");
});

Deno.test("a hostile Origin is logged quoted on one line, cut to a bounded length", () => {
  const { lines, refusals } = recordingLog();
  refusals.refuse('https://evil.example\n"forged line', OWN);
  refusals.refuse(`https://${"a".repeat(10_000)}.example`, OWN);
  assert.equal(lines[0].includes("\n"), false);
  assert.match(lines[0], /^refused origin "https:\/\/evil.example\\n\\"forged line" /);
  assert.ok(lines[1].length < 400, `${lines[1].length} characters`);
});
