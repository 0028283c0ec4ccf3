/** Unit tests for flag and environment parsing. */
import assert from "node:assert/strict";
import { parseConfig } from "../lib/server/config.ts";

const noEnv = () => undefined;
const configOf = (args: string[], env: Record<string, string> = {}) => {
  const invocation = parseConfig(args, (name) => env[name]);
  assert.equal(invocation.help, false);
  return invocation.help ? undefined! : invocation.config;
};

/** How drops run when no flag or variable says. */
const DEFAULT_DROPS = {
  queueWindowMs: 30 * 60_000,
  admitRate: 20,
  admissionTtlMs: 2 * 60_000,
  queueChallenge: 0,
};

/** What every limit is when no flag or variable sets it. */
const DEFAULT_LIMITS = {
  maxConnections: 18_000,
  addRate: 5,
  maxConnectionsPerClient: 32,
  maxHoldsPerClient: 4,
  websocketTimeoutMs: 60_000,
  sseHeartbeatMs: 15_000,
  bodyTimeoutMs: 10_000,
  maxUrlBytes: 8192,
  maxHeaderBytes: 16_384,
  tls: undefined,
  trustProxy: false,
  reusePort: false,
  adminSessionMs: 480 * 60_000,
};

Deno.test("defaults: 127.0.0.1:8000, 10 units, 25 s poll, no extra origins", () => {
  assert.deepEqual(configOf([]), {
    port: 8000,
    hostname: "127.0.0.1",
    inventory: 10,
    restock: false,
    catalogPath: undefined,
    maxProducts: 1000,
    orderWebhook: undefined,
    webhookTimeoutMs: 5_000,
    paymentTimeoutMs: 900_000,
    dataPath: "./data/inventory.kv",
    redis: null,
    holdTtlMs: 15 * 60_000,
    ...DEFAULT_DROPS,
    adminToken: undefined,
    pollTimeoutMs: 25_000,
    allowedOrigins: [],
    frameAncestors: [],
    ...DEFAULT_LIMITS,
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
      catalogPath: undefined,
      maxProducts: 1000,
      orderWebhook: undefined,
      webhookTimeoutMs: 5_000,
      paymentTimeoutMs: 900_000,
      dataPath: "./data/inventory.kv",
      redis: null,
      holdTtlMs: 15 * 60_000,
      ...DEFAULT_DROPS,
      adminToken: undefined,
      pollTimeoutMs: 1500,
      allowedOrigins: ["https://a.example", "http://b.example:8080"],
      frameAncestors: [],
      ...DEFAULT_LIMITS,
    },
  );
});

Deno.test("limit flags set every limit", () => {
  assert.deepEqual(
    configOf([
      "--max-connections",
      "50",
      "--add-rate",
      "0",
      "--max-connections-per-client",
      "3",
      "--max-holds-per-client",
      "0",
      "--ws-timeout",
      "10",
      "--sse-heartbeat",
      "0.5",
      "--body-timeout",
      "2",
      "--max-url-bytes",
      "1000",
      "--max-header-bytes",
      "2000",
      "--tls-cert",
      "c.pem",
      "--tls-key",
      "k.pem",
      "--trust-proxy",
      "--reuse-port",
    ]),
    {
      ...configOf([]),
      maxConnections: 50,
      addRate: 0,
      maxConnectionsPerClient: 3,
      maxHoldsPerClient: 0,
      websocketTimeoutMs: 10_000,
      sseHeartbeatMs: 500,
      bodyTimeoutMs: 2000,
      maxUrlBytes: 1000,
      maxHeaderBytes: 2000,
      tls: { certFile: "c.pem", keyFile: "k.pem" },
      trustProxy: true,
      reusePort: true,
    },
  );
});

Deno.test("limits come from the environment too", () => {
  const config = configOf([], {
    MAX_CONNECTIONS: "7",
    ADD_RATE: "20",
    MAX_CONNECTIONS_PER_CLIENT: "0",
    MAX_HOLDS_PER_CLIENT: "2",
    WS_TIMEOUT: "3",
    SSE_HEARTBEAT: "1",
    BODY_TIMEOUT: "4",
    MAX_URL_BYTES: "300",
    MAX_HEADER_BYTES: "4096",
    TLS_CERT: "c.pem",
    TLS_KEY: "k.pem",
    TRUST_PROXY: "1",
    REUSE_PORT: "yes",
  });
  assert.deepEqual(
    [
      config.maxConnections,
      config.addRate,
      config.maxConnectionsPerClient,
      config.maxHoldsPerClient,
      config.websocketTimeoutMs,
      config.sseHeartbeatMs,
      config.bodyTimeoutMs,
      config.maxUrlBytes,
      config.maxHeaderBytes,
      config.tls,
      config.trustProxy,
      config.reusePort,
    ],
    [7, 20, 0, 2, 3000, 1000, 4000, 300, 4096, { certFile: "c.pem", keyFile: "k.pem" }, true, true],
  );
});

Deno.test("environment variables fill in, and flags win over them", () => {
  const env = {
    PORT: "9000",
    HOST: "::1",
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

Deno.test("--frame-ancestors and FRAME_ANCESTORS list origins by spaces or commas; none by default", () => {
  assert.deepEqual(configOf([]).frameAncestors, []);
  assert.deepEqual(
    configOf(["--frame-ancestors", "https://a.example  http://B.example:8080,https://c.example"])
      .frameAncestors,
    ["https://a.example", "http://b.example:8080", "https://c.example"],
  );
  assert.deepEqual(
    configOf(["--frame-ancestors", "https://a.example"], { FRAME_ANCESTORS: "https://b.example" })
      .frameAncestors,
    ["https://a.example"],
  );
  assert.deepEqual(configOf([], { FRAME_ANCESTORS: "https://b.example" }).frameAncestors, [
    "https://b.example",
  ]);
});

Deno.test("the address comes from HOST, never from HOSTNAME (a container's name)", () => {
  assert.equal(configOf([], { HOST: "0.0.0.0" }).hostname, "0.0.0.0");
  assert.equal(configOf([], { HOSTNAME: "my-pod-7f9c" }).hostname, "127.0.0.1");
  assert.equal(configOf([], { HOST: "::1", HOSTNAME: "my-pod-7f9c" }).hostname, "::1");
  assert.equal(configOf(["--hostname", "0.0.0.0"], { HOST: "::1" }).hostname, "0.0.0.0");
});

for (
  const [text, on] of [
    ["1", true],
    ["true", true],
    ["yes", true],
    ["on", true],
    ["TRUE", true],
    ["On", true],
    [" yes ", true],
    ["0", false],
    ["false", false],
    ["no", false],
    ["off", false],
    ["OFF", false],
    ["No", false],
  ] as const
) {
  Deno.test(`a boolean variable accepts ${JSON.stringify(text)} as ${on ? "on" : "off"}`, () => {
    assert.equal(configOf([], { TRUST_PROXY: text }).trustProxy, on);
  });
}

for (const text of ["maybe", "", "2", "enabled", "constructor", "y"]) {
  Deno.test(`a boolean variable refuses ${JSON.stringify(text)}, naming it and the value`, () => {
    assert.throws(() => parseConfig([], (name) => (name === "TRUST_PROXY" ? text : undefined)), {
      name: "RangeError",
      message: `TRUST_PROXY must be 1, true, yes or on, or 0, false, no or off, got "${text}"`,
    });
  });
}

Deno.test("--trust-proxy wins over TRUST_PROXY=off", () => {
  assert.equal(configOf(["--trust-proxy"], { TRUST_PROXY: "off" }).trustProxy, true);
});

Deno.test("REUSE_PORT is a boolean variable like TRUST_PROXY, and --reuse-port wins over it", () => {
  assert.equal(configOf([], { REUSE_PORT: "off" }).reusePort, false);
  assert.equal(configOf(["--reuse-port"], { REUSE_PORT: "0" }).reusePort, true);
  assert.throws(() => parseConfig([], (name) => (name === "REUSE_PORT" ? "maybe" : undefined)), {
    name: "RangeError",
    message: 'REUSE_PORT must be 1, true, yes or on, or 0, false, no or off, got "maybe"',
  });
});

Deno.test("--catalog and --max-products, or CATALOG and MAX_PRODUCTS, set the catalog", () => {
  const flags = configOf(["--catalog", "shop/catalog.json", "--max-products", "50"]);
  assert.equal(flags.catalogPath, "shop/catalog.json");
  assert.equal(flags.maxProducts, 50);
  const env = configOf([], { CATALOG: "catalog.json", MAX_PRODUCTS: "7" });
  assert.equal(env.catalogPath, "catalog.json");
  assert.equal(env.maxProducts, 7);
  // The demo's one total says nothing of a catalog's products, so it is not a restock of them.
  assert.equal(flags.restock, false);
});

Deno.test("--redis or REDIS_URL names the Redis server, user and password allowed; the flag wins", () => {
  assert.equal(configOf(["--redis", "redis://127.0.0.1:6379"]).redis, "redis://127.0.0.1:6379");
  assert.equal(
    configOf([], { REDIS_URL: "rediss://shop:s3cret@redis.internal:6380/2" }).redis,
    "rediss://shop:s3cret@redis.internal:6380/2",
  );
  assert.equal(
    configOf(["--redis=redis://a.internal"], { REDIS_URL: "redis://b.internal" }).redis,
    "redis://a.internal",
  );
});

for (
  const text of [
    "",
    "127.0.0.1:6379",
    "http://127.0.0.1:6379",
    "unix:///run/redis.sock",
    "redis://",
    "redis://127.0.0.1:6379/shop",
    "redis://127.0.0.1:6379?db=2",
  ]
) {
  Deno.test(`--redis refuses ${JSON.stringify(text)}, naming the flag and the value`, () => {
    assert.throws(() => parseConfig(["--redis", text], noEnv), {
      name: "RangeError",
      message: "--redis must be a redis:// or rediss:// URL like redis://127.0.0.1:6379, " +
        `got "${text}"`,
    });
  });
}

Deno.test("a refused --redis or REDIS_URL does not show its password", () => {
  for (const text of ["http://shop:s3cret@redis.internal", "shop:s3cret@redis.internal"]) {
    assert.throws(() => parseConfig([], (name) => (name === "REDIS_URL" ? text : undefined)), {
      name: "RangeError",
      message: /^--redis must be .*, got ".*shop:\*\*\*@redis\.internal"$/,
    });
  }
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
    [["--frame-ancestors", "https://a.example 'self'"], /--frame-ancestors .*, got "'self'"/],
    [["--frame-ancestors", "https://a.example/shop"], /--frame-ancestors/],
    [["--max-connections", "0"], /--max-connections must be a whole number from 1/],
    [["--add-rate=-1"], /--add-rate must be a whole number from 0/],
    [["--add-rate", "2.5"], /--add-rate/],
    [["--max-connections-per-client", "x"], /--max-connections-per-client must be a whole/],
    [["--max-holds-per-client=-1"], /--max-holds-per-client must be a whole number from 0/],
    [["--max-holds-per-client", "2.5"], /--max-holds-per-client must be a whole number from 0/],
    [["--ws-timeout", "1"], /--ws-timeout must be a whole number from 2/],
    [["--ws-timeout", "2.5"], /--ws-timeout/],
    [["--sse-heartbeat", "0"], /--sse-heartbeat/],
    [["--body-timeout", "x"], /--body-timeout/],
    [["--max-url-bytes", "100"], /--max-url-bytes/],
    [["--max-header-bytes", "999999"], /--max-header-bytes/],
    [["--tls-cert", "c.pem"], /--tls-cert and --tls-key must be given together/],
    [["--tls-key", "k.pem"], /--tls-cert and --tls-key must be given together/],
    [["--catalog", ""], /--catalog must be a file path/],
    [["--catalog", "c.json", "--inventory", "3"], /with --catalog, set each total in the file/],
    [["--max-products", "0"], /--max-products must be a whole number from 1/],
    [["--max-products", "100001"], /--max-products/],
    [["--admin-session-minutes", "0"], /--admin-session-minutes must be a whole number from 1/],
    [["--admin-session-minutes", "10081"], /--admin-session-minutes .* to 10080, got "10081"/],
    [["--admin-session-minutes", "1.5"], /--admin-session-minutes/],
  ] as const
) {
  Deno.test(`a bad value is refused: ${args.join(" ")}`, () => {
    assert.throws(() => parseConfig([...args], noEnv), { name: "RangeError", message });
  });
}

Deno.test("--admin-session-minutes and ADMIN_SESSION_MINUTES set how long a sign-in lasts", () => {
  assert.equal(configOf(["--admin-session-minutes", "90"]).adminSessionMs, 90 * 60_000);
  assert.equal(configOf([], { ADMIN_SESSION_MINUTES: "10080" }).adminSessionMs, 10_080 * 60_000);
  const both = configOf(["--admin-session-minutes=1"], { ADMIN_SESSION_MINUTES: "5" });
  assert.equal(both.adminSessionMs, 60_000, "the flag wins");
  assert.throws(
    () => parseConfig([], (name) => name === "ADMIN_SESSION_MINUTES" ? "soon" : undefined),
    { name: "RangeError", message: /--admin-session-minutes must be a whole number/ },
  );
});

Deno.test("an unknown flag or a flag without its value is refused", () => {
  assert.throws(() => parseConfig(["--bogus"], noEnv), { name: "TypeError", message: /bogus/ });
  assert.throws(() => parseConfig(["--port"], noEnv), TypeError);
  assert.throws(() => parseConfig(["stray"], noEnv), TypeError);
});

Deno.test("a value that starts with a dash is refused in one line that says to use =", () => {
  // parseArgs reads "-1" as a flag of its own and says so in three lines.
  assert.throws(() => parseConfig(["--port", "1", "--inventory", "-1"], noEnv), {
    name: "TypeError",
    message: '--inventory is missing its value ("-1" reads as a flag); ' +
      'if "-1" is the value, write --inventory=-1',
  });
});

Deno.test("a bad environment value is refused like a bad flag", () => {
  assert.throws(() => parseConfig([], (n) => (n === "PORT" ? "-5" : undefined)), RangeError);
  assert.throws(
    () => parseConfig(["--catalog", "c.json"], (n) => (n === "INVENTORY" ? "3" : undefined)),
    { name: "RangeError", message: /with --catalog/ },
  );
});

Deno.test("--order-webhook takes an http(s) URL and needs a Standard Webhooks --webhook-secret", () => {
  const secret = `whsec_${btoa("0123456789abcdef")}`;
  const config = configOf([
    "--order-webhook",
    "https://orders.example/hook",
    "--webhook-timeout",
    "2.5",
  ], {
    WEBHOOK_SECRET: secret,
  });
  assert.deepEqual(config.orderWebhook, { url: "https://orders.example/hook", secret });
  assert.equal(config.webhookTimeoutMs, 2_500);
  assert.equal(config.paymentTimeoutMs, 900_000);
  assert.equal(configOf(["--payment-timeout", "30m"], {}).paymentTimeoutMs, 1_800_000);
  assert.equal(configOf([], { PAYMENT_TIMEOUT: "90" }).paymentTimeoutMs, 90_000);
  assert.deepEqual(
    configOf([], { ORDER_WEBHOOK: "http://127.0.0.1:9/o", WEBHOOK_SECRET: secret }).orderWebhook,
    { url: "http://127.0.0.1:9/o", secret },
  );
  const refusals: [string[], Record<string, string>, RegExp][] = [
    [["--order-webhook", "https://orders.example/hook"], {}, /needs --webhook-secret/],
    [["--order-webhook", "https://orders.example/hook", "--webhook-secret", "short"], {}, /whsec_/],
    // The secrets of earlier versions: plain text, refused with a line that does not print it.
    [["--order-webhook", "https://orders.example/hook"], {
      WEBHOOK_SECRET: "order-secret-0123456789",
    }, /^--webhook-secret \(WEBHOOK_SECRET\) must be whsec_ and the base64 of a key of 16\+ bytes/],
    [["--order-webhook", "https://orders.example/hook"], {
      WEBHOOK_SECRET: `whsec_${btoa("too-short")}`,
    }, /16\+ bytes/],
    [
      ["--order-webhook", "https://orders.example/hook"],
      { WEBHOOK_SECRET: "whsec_not*base64" },
      /whsec_/,
    ],
    [["--order-webhook", "ftp://orders.example/hook"], { WEBHOOK_SECRET: secret }, /http/],
    [["--webhook-secret", secret], {}, /needs --order-webhook/],
    [["--webhook-timeout", "0"], {}, /--webhook-timeout/],
    [["--payment-timeout", "0"], {}, /--payment-timeout/],
  ];
  for (const [args, env, message] of refusals) {
    assert.throws(() => configOf(args, env), { name: "RangeError", message }, args.join(" "));
  }
});

Deno.test("drop flags and their variables set the window, the admit rate and the admission", () => {
  const fromFlags = configOf([
    "--queue-window",
    "1h",
    "--admit-rate",
    "50",
    "--admission-ttl",
    "90",
  ]);
  assert.deepEqual(
    [fromFlags.queueWindowMs, fromFlags.admitRate, fromFlags.admissionTtlMs],
    [3_600_000, 50, 90_000],
  );
  const fromEnv = configOf([], { QUEUE_WINDOW: "5m", ADMIT_RATE: "1", ADMISSION_TTL: "30s" });
  assert.deepEqual(
    [fromEnv.queueWindowMs, fromEnv.admitRate, fromEnv.admissionTtlMs],
    [300_000, 1, 30_000],
  );
  assert.throws(() => configOf(["--admit-rate", "0"]), /--admit-rate must be/);
  assert.throws(() => configOf(["--admit-rate", "10001"]), /--admit-rate must be/);
  assert.throws(() => configOf(["--queue-window", "soon"]), /--queue-window must be a duration/);
  assert.throws(() => configOf([], { ADMISSION_TTL: "0" }), /--admission-ttl must be a duration/);
});
