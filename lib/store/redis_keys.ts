/** Where the shop lives in Redis: key names (one hash tag per product) and the change channel. */

/** The keys of one product; the hash tag `{id}` puts them in one Redis Cluster slot. */
export interface ProductKeys {
  /** Hash: info (JSON), total, sold, version, retired, listedTotal, listed (JSON). */
  readonly record: string;
  /** Hash: session → `expiresAt|heldAt|checkingOut|orderId`. */
  readonly holds: string;
  /** Sorted set: session → expiry (ms), for the holds that may expire. */
  readonly expiry: string;
  /** Hash: session → the order that bought its unit. */
  readonly sales: string;
}

/** The keys of one product's waiting room, in the product's hash tag: its functions read the stock too. */
export interface LineKeys {
  /** Hash: seed, commitment, closed, drawn, servingUpTo, count, tickets, revoked, recent, admitRate, paused, version. */
  readonly line: string;
  /** Hash: session → `id|number|used|client`. */
  readonly tickets: string;
  /** Hash: ticket id → session. */
  readonly ids: string;
  /** List: the window's ticket ids in join order, for the draw. */
  readonly window: string;
  /**
   * Hash: window ticket id → its HMAC under the seed, made by the process it joined through, so
   * that the draw only sorts (a ticket missing here is signed at the draw).
   */
  readonly windowMacs: string;
  /** Hash: number → `expiresAt|claimedUntil`, the admissions given and not used. */
  readonly admissions: string;
  /** Hash: client → its tickets in this line. */
  readonly clients: string;
}

/** Names every key of a shop under one prefix. */
export class RedisKeys {
  /** Sorted set of product ids in the order they were first listed. */
  readonly catalog: string;
  /** Counter that orders the catalog. */
  readonly catalogOrder: string;
  /** String: the store's epoch, set once when the shop's data is first written. */
  readonly epoch: string;
  /** The channel every change is published on, as the product's state in JSON. */
  readonly changes: string;
  /** The channel every visible change of a drop's line is published on, as the line's state in JSON. */
  readonly queueChanges: string;
  /** Hash: process id → its watchers by transport, as JSON `{websocket, sse, longPoll, at}`. */
  readonly watchers: string;
  /** String: the HMAC key that signs the join challenges of every process. */
  readonly challengeKey: string;
  /** Hash: order id → its payment awaited, as JSON, as an earlier version kept them. */
  readonly payments: string;
  /** Begins the payment book's keys, with its hash tag (lib/store/redis_payment_book.ts). */
  readonly paymentBook: string;
  /** The order log: a list of its last entries (JSON) and the newest one's number. */
  readonly orderLog: { readonly entries: string; readonly latest: string };
  readonly #prefix: string;

  /**
   * Names the keys.
   *
   * @param prefix Begins every key, e.g. `inv`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * const keys = new RedisKeys("inv");
   * assert.equal(keys.product("night-sky-print").holds, "inv:{night-sky-print}:holds");
   * assert.equal(keys.changes, "inv:changes");
   * assert.equal(keys.watchers, "inv:{fleet}:watchers");
   * ```
   */
  constructor(prefix: string) {
    this.#prefix = prefix;
    this.catalog = `${prefix}:{catalog}`;
    this.catalogOrder = `${prefix}:{catalog}:order`;
    this.epoch = `${prefix}:epoch`;
    this.changes = `${prefix}:changes`;
    this.queueChanges = `${prefix}:queue-changes`;
    this.watchers = `${prefix}:{fleet}:watchers`;
    this.challengeKey = `${prefix}:challenge-key`;
    this.payments = `${prefix}:payments`;
    this.paymentBook = `${prefix}:{payments}`;
    this.orderLog = { entries: `${prefix}:{orders}:log`, latest: `${prefix}:{orders}:latest` };
  }

  /**
   * Names the key that marks a solved join challenge spent, until the challenge expires.
   *
   * @param challenge The challenge's hex hash.
   * @returns The key, e.g. `inv:spent-challenge:ab12`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * assert.equal(new RedisKeys("inv").spentChallenge("ab12"), "inv:spent-challenge:ab12");
   * ```
   */
  spentChallenge(challenge: string): string {
    return `${this.#prefix}:spent-challenge:${challenge}`;
  }

  /**
   * Names the key of a client's add-rate bucket; the hash tag puts each in a slot of its own.
   *
   * @param client The client's key (its address).
   * @returns The key, e.g. `inv:rate:{192.0.2.1}`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * assert.equal(new RedisKeys("inv").addRate("192.0.2.1"), "inv:rate:{192.0.2.1}");
   * ```
   */
  addRate(client: string): string {
    return `${this.#prefix}:rate:{${client}}`;
  }

  /**
   * Names a product's keys.
   *
   * @param id The product's id.
   * @returns Its four keys.
   */
  product(id: string): ProductKeys {
    const base = `${this.#prefix}:{${id}}`;
    return {
      record: base,
      holds: `${base}:holds`,
      expiry: `${base}:expiry`,
      sales: `${base}:sales`,
    };
  }

  /**
   * Names the keys of a product's waiting room.
   *
   * @param id The product's id.
   * @returns Its seven keys, beside the product's.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * assert.equal(new RedisKeys("inv").line("print").tickets, "inv:{print}:tickets");
   * ```
   */
  line(id: string): LineKeys {
    const base = `${this.#prefix}:{${id}}`;
    return {
      line: `${base}:line`,
      tickets: `${base}:tickets`,
      ids: `${base}:ticket-ids`,
      window: `${base}:window`,
      windowMacs: `${base}:window-macs`,
      admissions: `${base}:admissions`,
      clients: `${base}:ticket-clients`,
    };
  }
}
