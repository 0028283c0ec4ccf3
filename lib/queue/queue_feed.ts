/** Each drop's status as a topic: one message for every page of the drop, on every transport. */
import type { StateMessage } from "../realtime/message.ts";
import { Topic, type WaiterTally } from "../realtime/topic.ts";
import type { Clock } from "../time/clock.ts";
import type { Drops } from "./drops.ts";

/** How old a drop's first message for a new subscriber may be: its `serverTime` sets the page's clock. */
const FRESH_MS = 250;

interface DropTopic {
  readonly topic: Topic;
  json: { version: number; madeAt: number; text: string } | undefined;
}

/**
 * The topics of `/queue/status`: one per drop, made when first asked for, publishing the drop's
 * status on every change to whoever follows it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../time/clock.ts";
 * import { openMemoryStore } from "../store/memory_store.ts";
 * import { Inventory } from "../inventory/inventory.ts";
 * import { DropQueues } from "./drop_queues.ts";
 * import { linesInMemory } from "./line_store.ts";
 * const store = openMemoryStore({ holdTtlMs: 60_000, clock: systemClock });
 * const inventory = await Inventory.open(store, 60_000);
 * const opensAt = new Date(Date.now() + 3_600_000).toISOString();
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null, opensAt };
 * await inventory.list({ info, total: 3 });
 * const settings = { windowMs: 60_000, admitRate: 20, admissionTtlMs: 60_000, maxTicketsPerClient: 0 };
 * const drops = await DropQueues.open(inventory, linesInMemory(), settings, systemClock);
 * const feed = new QueueFeed(drops, { waiters: 0 }, systemClock);
 * assert.equal(JSON.parse(feed.topic("a")!.opening()).phase, "before");
 * assert.equal(feed.topic("nothing"), undefined);
 * feed.close();
 * await drops.close();
 * await store.close();
 * ```
 */
export class QueueFeed {
  readonly #drops: Drops;
  readonly #tally: WaiterTally;
  readonly #clock: Clock;
  readonly #topics = new Map<string, DropTopic>();
  readonly #unsubscribe: () => void;

  /**
   * Follows the drops' changes.
   *
   * @param drops The drops.
   * @param tally Counts waiting long polls with every other topic's.
   * @param clock The clock that dates messages.
   */
  constructor(drops: Drops, tally: WaiterTally, clock: Clock) {
    this.#drops = drops;
    this.#tally = tally;
    this.#clock = clock;
    this.#unsubscribe = drops.onChange((product) => this.#changed(product));
  }

  /**
   * The topic of a drop.
   *
   * @param product The product's id.
   * @returns Its topic; undefined when the product has no drop.
   */
  topic(product: string): Topic | undefined {
    const known = this.#topics.get(product);
    if (known !== undefined && !known.topic.closed) return known.topic;
    if (this.#drops.status(product) === undefined) return undefined;
    const entry: DropTopic = {
      topic: new Topic(product, () => this.#json(entry, product).text, () => {
        const status = this.#drops.status(product);
        return { epoch: status?.epoch ?? "", version: status?.version ?? 0 };
      }, this.#tally),
      json: undefined,
    };
    this.#topics.set(product, entry);
    return entry.topic;
  }

  /** Closes every topic: their followers are let go. */
  close(): void {
    this.#unsubscribe();
    for (const { topic } of this.#topics.values()) topic.close();
  }

  #json(entry: DropTopic, product: string): { version: number; text: string } {
    const now = this.#clock.now();
    const status = this.#drops.status(product);
    if (status === undefined) return entry.json ?? { version: 0, text: "{}" };
    const known = entry.json;
    if (known?.version === status.version && now - known.madeAt < FRESH_MS) return known;
    entry.json = { version: status.version, madeAt: now, text: JSON.stringify(status) };
    return entry.json;
  }

  #changed(product: string): void {
    const entry = this.#topics.get(product);
    if (entry === undefined || !entry.topic.followed) return;
    const { version, text } = this.#json(entry, product);
    const status = this.#drops.status(product);
    const message: StateMessage = {
      product,
      version,
      cursor: `${status?.epoch ?? ""}.${version}`,
      json: text,
      last: status === undefined,
    };
    entry.topic.publish(message);
    if (status === undefined) entry.topic.close();
  }
}
