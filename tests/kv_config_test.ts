/** Flags and environment variables of the durable inventory: --data, --hold-ttl, --admin-token. */
import assert from "node:assert/strict";
import { type Config, parseConfig } from "../lib/server/config.ts";

function configOf(args: string[], env: Record<string, string> = {}): Config {
  const invocation = parseConfig(args, (name) => env[name]);
  assert.equal(invocation.help, false);
  return (invocation as { config: Config }).config;
}

Deno.test("defaults: data in ./data/inventory.kv, 15-minute holds, no admin API", () => {
  const config = configOf([]);
  assert.equal(config.dataPath, "./data/inventory.kv");
  assert.equal(config.holdTtlMs, 15 * 60_000);
  assert.equal(config.adminToken, undefined);
  assert.equal(config.restock, false);
  assert.equal(config.inventory, 10);
});

Deno.test("--inventory given by flag or environment asks for a restock", () => {
  assert.deepEqual([
    configOf(["--inventory", "5"]).restock,
    configOf(["--inventory", "5"]).inventory,
  ], [
    true,
    5,
  ]);
  assert.equal(configOf([], { INVENTORY: "7" }).restock, true);
});

Deno.test("--data takes a path or :memory:, and falls back to DATA", () => {
  assert.equal(configOf(["--data", ":memory:"]).dataPath, ":memory:");
  assert.equal(configOf([], { DATA: "/var/lib/shop/inv.kv" }).dataPath, "/var/lib/shop/inv.kv");
  assert.equal(configOf(["--data", "a.kv"], { DATA: "b.kv" }).dataPath, "a.kv");
  assert.throws(() => configOf(["--data", " "]), RangeError);
});

Deno.test("--hold-ttl reads seconds or a number with a unit", () => {
  const cases: [string, number][] = [
    ["900", 900_000],
    ["90s", 90_000],
    ["15m", 900_000],
    ["1.5h", 5_400_000],
    ["2d", 172_800_000],
    ["1", 1_000],
  ];
  for (const [text, ms] of cases) assert.equal(configOf(["--hold-ttl", text]).holdTtlMs, ms, text);
  assert.equal(configOf([], { HOLD_TTL: "5m" }).holdTtlMs, 300_000);
});

Deno.test("--hold-ttl refuses what is not a duration from 1s to 30d", () => {
  for (const text of ["0", "0.5", "31d", "-5", "15 minutes", "m", "", "1e3", "10ms"]) {
    assert.throws(() => configOf([`--hold-ttl=${text}`]), RangeError, text);
  }
});

Deno.test("--admin-token needs 16 visible characters and falls back to ADMIN_TOKEN", () => {
  const token = "0123456789abcdef";
  assert.equal(configOf(["--admin-token", token]).adminToken, token);
  assert.equal(configOf([], { ADMIN_TOKEN: token }).adminToken, token);
  for (const bad of ["short", "", "0123456789 abcdef"]) {
    assert.throws(() => configOf(["--admin-token", bad]), RangeError);
  }
});

Deno.test("a bad token's error message does not repeat the token", () => {
  const secret = "not long enough";
  assert.throws(
    () => configOf(["--admin-token", secret]),
    (error: Error) => error instanceof RangeError && !error.message.includes(secret),
  );
});

Deno.test("--catalog falls back to CATALOG and refuses --inventory, which is the demo's total", () => {
  assert.equal(configOf(["--catalog", "shop.json"]).catalogPath, "shop.json");
  assert.equal(configOf([], { CATALOG: "env.json" }).catalogPath, "env.json");
  assert.equal(configOf([]).catalogPath, undefined);
  assert.throws(() => configOf(["--catalog", "shop.json", "--inventory", "5"]), RangeError);
  assert.throws(() => configOf(["--catalog", "shop.json"], { INVENTORY: "5" }), RangeError);
  assert.throws(() => configOf(["--catalog", " "]), RangeError);
});
