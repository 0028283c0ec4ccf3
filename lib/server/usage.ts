/** The server's `--help` text: every flag, its environment variable and its default. */

/** The text printed by `--help`. */
export const USAGE = `Usage: deno task start [-- options]

Options (each also read from the environment variable in brackets):
  --port N             TCP port, 0 for any free port          [PORT]          (default 8000)
  --hostname ADDRESS   address to listen on (never HOSTNAME)  [HOST]          (default 127.0.0.1)
  --reuse-port         share the port with other processes started so (Linux
                       SO_REUSEPORT); the kernel spreads new connections
                                                              [REUSE_PORT]    (default off)
  --inventory N        total of a new data file; given on an
                       existing one: a restock, holds kept    [INVENTORY]     (default 10)
  --catalog FILE       JSON catalog of products (docs/operations.md); without one the
                       demo's one product is served           [CATALOG]
  --max-products N     most products in the catalog           [MAX_PRODUCTS]  (default 1000)
  --order-webhook URL  the order service confirming each checkout; without one a
                       checkout sells at once (demo mode)     [ORDER_WEBHOOK]
  --webhook-secret S   Standard Webhooks secret signing calls both ways: whsec_ and
                       the base64 of a 16+ byte key           [WEBHOOK_SECRET]
  --webhook-timeout S  seconds a checkout may take            [WEBHOOK_TIMEOUT] (default 5)
  --payment-timeout D  how long a hold awaits payment on the order service's
                       payment page (90, 15m, 1h)             [PAYMENT_TIMEOUT] (default 15m)
  --data PATH          Deno KV file keeping stock and holds, or :memory:
                                                              [DATA]   (default ./data/inventory.kv)
  --redis URL          Redis server keeping a shop that several processes serve,
                       redis://[user:password@]host[:port][/db] or rediss://
                                                              [REDIS_URL]
  --hold-ttl T         how long a hold lasts from its add (re-adding does not extend it), in seconds
                       or with a unit: 90s, 15m, 2h, 1d       [HOLD_TTL]      (default 15m)
  --queue-window T     how long before a product's opensAt its waiting room opens
                                                              [QUEUE_WINDOW]  (default 30m)
  --admit-rate N       shoppers a drop admits a second at most, 1 to 10000
                                                              [ADMIT_RATE]    (default 20)
  --admission-ttl T    how long an admitted shopper has to add [ADMISSION_TTL] (default 2m)
  --queue-challenge N  proof of work a new ticket needs (ALTCHA maxnumber; 50000 takes
                       a phone 1-3 s); 0 is off              [QUEUE_CHALLENGE] (default 0)
  --admin-token TOKEN  bearer token of the admin API and the sign-in of /admin,
                       16+ characters; without one both are off [ADMIN_TOKEN]
  --admin-session-minutes N
                       minutes a sign-in at /admin lasts, 1 to 10080
                                                              [ADMIN_SESSION_MINUTES] (default 480)
  --poll-timeout S     seconds a long poll waits for a change [POLL_TIMEOUT]  (default 25)
  --allowed-origin O   another origin allowed to post, repeatable
                                                              [ALLOWED_ORIGINS, comma-separated]
  --frame-ancestors "O O"
                       origins allowed to frame the shop's pages, space- or comma-separated;
                       none by default (the admin pages never) [FRAME_ANCESTORS]
  --max-connections N  long polls, streams and WebSockets held [MAX_CONNECTIONS] (default 18000)
  --max-connections-per-client N
                       of those, held by one client address; 0 is off
                                                              [MAX_CONNECTIONS_PER_CLIENT] (default 32)
  --add-rate N         adds a second per client address, bursts of 2N; 0 is off
                                                              [ADD_RATE]       (default 5)
  --max-holds-per-client N
                       holds at once from one address, 0 for no limit
                                                              [MAX_HOLDS_PER_CLIENT] (default 4)
  --ws-timeout S       silent WebSocket: ping at S/2, drop at S [WS_TIMEOUT]     (default 60)
  --sse-heartbeat S    stream heartbeat; a stream that takes nothing for one interval is ended
                                                              [SSE_HEARTBEAT]  (default 15)
  --body-timeout S     seconds a request body may take        [BODY_TIMEOUT]   (default 10)
  --max-url-bytes N    longest path and query                 [MAX_URL_BYTES]  (default 8192)
  --max-header-bytes N most header bytes                      [MAX_HEADER_BYTES] (default 16384)
  --tls-cert FILE      PEM certificate; with --tls-key, HTTPS [TLS_CERT]
  --tls-key FILE       PEM private key                        [TLS_KEY]
  --trust-proxy        believe a proxy's X-Forwarded-Proto, -Host and Forwarded
                                                              [TRUST_PROXY]   (default off)
  --help               print this text and exit

A boolean variable is 1, true, yes or on, or 0, false, no or off, in any case; anything else is
refused. A bad flag or value exits 2 and a failed start (port in use, an address not of this
machine, a data file that is not Deno KV) exits 1, each with one line saying what to change.`;
