/** Per-address refusals: each counted by kind, each address and kind logged once a minute. */
import assert from "node:assert/strict";
import {
  CLIENT_REFUSAL_LOG_INTERVAL_MS,
  CLIENT_REFUSAL_LOG_MAX,
  ClientRefusals,
} from "../lib/limits/client_refusals.ts";
import { FakeClock } from "./support/fake_clock.ts";

function refusalsOn(clock: FakeClock) {
  const lines: string[] = [];
  const counts = new Map<string, number>();
  const refusals = new ClientRefusals({
    clock,
    log: (line) => lines.push(line),
    count: (kind) => counts.set(kind, (counts.get(kind) ?? 0) + 1),
  });
  return { refusals, lines, counts };
}

Deno.test("a flood from one address is counted whole and logged once a minute per kind", () => {
  const clock = new FakeClock(0);
  const { refusals, lines, counts } = refusalsOn(clock);
  for (let i = 0; i < 1000; i++) {
    refusals.refuse("add_rate", "192.0.2.1");
    clock.advance(10);
  }
  refusals.refuse("connections_per_client", "192.0.2.1");
  refusals.refuse("add_rate", "192.0.2.2");
  assert.deepEqual(Object.fromEntries(counts), { add_rate: 1001, connections_per_client: 1 });
  assert.deepEqual(lines, [
    'refused "192.0.2.1": add_rate (logged at most once a minute)',
    'refused "192.0.2.1": connections_per_client (logged at most once a minute)',
    'refused "192.0.2.2": add_rate (logged at most once a minute)',
  ]);
  clock.advance(CLIENT_REFUSAL_LOG_INTERVAL_MS - 10_000 - 1);
  refusals.refuse("add_rate", "192.0.2.1");
  assert.equal(lines.length, 3);
  clock.advance(1);
  refusals.refuse("add_rate", "192.0.2.1");
  assert.equal(lines.length, 4);
});

Deno.test("an address forged with control characters cannot forge a log line", () => {
  const { refusals, lines } = refusalsOn(new FakeClock(0));
  refusals.refuse("add_rate", "1.2.3.4\nrefused everything");
  assert.deepEqual(lines, [
    'refused "1.2.3.4\\nrefused everything": add_rate (logged at most once a minute)',
  ]);
});

Deno.test("the log remembers addresses for a minute at most, and a bounded number of them", () => {
  const clock = new FakeClock(0);
  const { refusals } = refusalsOn(clock);
  for (let i = 0; i < CLIENT_REFUSAL_LOG_MAX + 500; i++) refusals.refuse("add_rate", `a${i}`);
  assert.equal(refusals.remembered, CLIENT_REFUSAL_LOG_MAX);
  clock.advance(CLIENT_REFUSAL_LOG_INTERVAL_MS);
  refusals.refuse("add_rate", "b");
  assert.equal(refusals.remembered, 1);
});
