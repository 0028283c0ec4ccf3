/** Unit tests for flag and environment parsing. */
import assert from "node:assert/strict";
import { parseConfig } from "../lib/config.ts";

const noEnv = () => undefined;
const configOf = (args: string[], env: Record<string, string> = {}) => {
  const invocation = parseConfig(args, (name) => env[name]);
  assert.equal(invocation.help, false);
  return invocation.help ? undefined! : invocation.config;
};

Deno.test("defaults: 127.0.0.1:8000, 10 units, 25 s poll, no extra origins", () => {
  assert.deepEqual(configOf([]), {
    port: 8000,
    hostname: "127.0.0.1",
    inventory: 10,
    restock: false,
    dataPath: "./data/inventory.kv",
    holdTtlMs: 15 * 60_000,
    adminToken: undefined,
    pollTimeoutMs: 25_000,
    allowedOrigins: [],
  });
});

Deno.test("flags set every value", () => {
  assert.deepEqual(
    configOf([
      "--port=0",
      "--hostname",
      "0.0.0.0",
      "--inventory",
      "3",
      "--poll-timeout",
      "1.5",
      "--allowed-origin",
      "https://a.example",
      "--allowed-origin",
      "http://b.example:8080/",
    ]),
    {
      port: 0,
      hostname: "0.0.0.0",
      inventory: 3,
      restock: true,
      dataPath: "./data/inventory.kv",
      holdTtlMs: 15 * 60_000,
      adminToken: undefined,
      pollTimeoutMs: 1500,
      allowedOrigins: ["https://a.example", "http://b.example:8080"],
    },
  );
});

Deno.test("environment variables fill in, and flags win over them", () => {
  const env = {
    PORT: "9000",
    HOSTNAME: "::1",
    INVENTORY: "7",
    POLL_TIMEOUT: "5",
    ALLOWED_ORIGINS: "https://a.example, https://b.example",
  };
  const config = configOf(["--inventory", "2"], env);
  assert.equal(config.port, 9000);
  assert.equal(config.hostname, "::1");
  assert.equal(config.inventory, 2);
  assert.equal(config.pollTimeoutMs, 5000);
  assert.deepEqual(config.allowedOrigins, ["https://a.example", "https://b.example"]);
});

Deno.test("a leading -- (as `deno task start -- --port 1` passes it) is skipped", () => {
  assert.equal(configOf(["--", "--port", "1"]).port, 1);
});

Deno.test("--help asks for the usage text", () => {
  assert.deepEqual(parseConfig(["--help"], noEnv), { help: true });
});

for (
  const [args, message] of [
    [["--port", "70000"], /--port must be a whole number from 0 to 65535, got "70000"/],
    [["--port", "80a"], /--port/],
    [["--inventory=-1"], /--inventory must be a whole number/],
    [["--inventory", "1e3"], /--inventory/],
    [["--poll-timeout", "0"], /--poll-timeout/],
    [["--poll-timeout", "abc"], /--poll-timeout/],
    [["--hostname", "a b"], /--hostname/],
    [["--allowed-origin", "not a url"], /--allowed-origin/],
    [["--allowed-origin", "https://a.example/path"], /--allowed-origin/],
  ] as const
) {
  Deno.test(`a bad value is refused: ${args.join(" ")}`, () => {
    assert.throws(() => parseConfig([...args], noEnv), { name: "RangeError", message });
  });
}

Deno.test("an unknown flag or a flag without its value is refused", () => {
  assert.throws(() => parseConfig(["--bogus"], noEnv), { name: "TypeError", message: /bogus/ });
  assert.throws(() => parseConfig(["--port"], noEnv), TypeError);
  assert.throws(() => parseConfig(["stray"], noEnv), TypeError);
  // parseArgs reads "-1" as a flag of its own, so the value is refused before validation.
  assert.throws(() => parseConfig(["--inventory", "-1"], noEnv), TypeError);
});

Deno.test("a bad environment value is refused like a bad flag", () => {
  assert.throws(() => parseConfig([], (n) => (n === "PORT" ? "-5" : undefined)), RangeError);
});
