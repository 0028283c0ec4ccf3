/** `GET /admin/feed`: the dashboard's event stream of snapshots, product, drop and order news, and ticks. */
import { Activity, ACTIVITY_SECONDS, ACTIVITY_STEP_MS } from "./activity.ts";
import type { Clock } from "../time/clock.ts";
import type { Inventory } from "../inventory/inventory.ts";
import type { ProductState } from "../inventory/ledger.ts";
import { FleetWatchers, newProcessId, type WatcherCounts } from "../realtime/fleet_watchers.ts";
import type { Presence } from "../realtime/presence.ts";
import type { Drops, QueueStatus } from "../queue/drops.ts";
import { eventFrame, retryFrame } from "../realtime/sse_wire.ts";
import { type SseStream, SseStreams } from "../realtime/sse_streams.ts";
import { adminView } from "./admin_api.ts";
import { isEventStream } from "../http/guards.ts";
import { RequestHead } from "../http/request_head.ts";
import { HttpError } from "../http/http_error.ts";
import { storeReport } from "../http/health.ts";
import type { OrderHistory } from "../inventory/order_history.ts";
import { ORDER_LOG_SIZE, type OrderEntry } from "../inventory/order_log.ts";
import { RecentOrders } from "./recent_orders.ts";

/** The most admin feeds open at once; they do not count toward `--max-connections`. */
export const MAX_ADMIN_FEEDS = 20;

/** One open feed. */
interface FeedStream extends SseStream {
  /** Product frames not yet sent (the client was not reading), the latest per product. */
  readonly pending: Map<string, Uint8Array>;
  /** Drop frames not yet sent, the latest per product. */
  readonly pendingDrops: Map<string, Uint8Array>;
  /** Order frames not yet sent, oldest first; at most the log's size (older ones are gone). */
  readonly pendingOrders: Uint8Array[];
  /** The latest tick not yet sent. */
  tick: Uint8Array | undefined;
  /** The first second its ticks tell: the snapshot's history ends before it. */
  readonly firstTickAt: number;
}

/** What the feed needs besides the inventory. */
export interface AdminFeedOptions {
  /** Tells the time and sets the tick's timer. */
  readonly clock: Clock;
  /** A feed that takes nothing for this long is ended, as an event stream is, in ms. */
  readonly heartbeatMs: number;
  /** This process's watchers now. */
  readonly local: () => WatcherCounts;
  /** Where the fleet's processes share their watchers. */
  readonly presence: Presence;
  /**
   * The drops, whose status the owner steers from the dashboard. Their changes travel on this
   * feed rather than on one `/queue/status` stream per drop: a browser keeps at most six
   * connections to a server, and the dashboard's own requests must not queue behind its streams.
   */
  readonly drops?: Drops;
  /**
   * The last orders. This process's entries go out as they are recorded; other processes' are
   * looked for at each tick (one read of the log's newest number a second, while a feed is
   * open): they arrive within about a second, with no channel to subscribe to, resubscribe after
   * a reconnect, or miss a message on (Redis's pub/sub delivers at most once).
   */
  readonly orders?: Pick<OrderHistory, "recent" | "latest" | "onRecord">;
}

/**
 * The admin feeds of this process. From {@linkcode AdminFeed.start} it counts the shop's
 * activity (an {@linkcode Activity}, in memory: it restarts with the process) and shares this
 * process's watchers with the fleet. Each feed gets `event: snapshot` first, `event: product` at
 * each change, `event: drop` (a drop's status, as `/queue/status` sends it) at each change of a
 * drop, `event: order` at each new entry of the order log (with `orders`), `event: tick` once a
 * second; the tick's timer runs only while a feed is open, and
 * also keeps the stream alive (no heartbeat comment is needed). After `close()` a feed is refused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../time/clock.ts";
 * import { Inventory } from "../inventory/inventory.ts";
 * import { openMemoryStore } from "../store/memory_store.ts";
 * import { MemoryPresence } from "../realtime/presence.ts";
 * const store = openMemoryStore({ holdTtlMs: 60_000, clock: systemClock });
 * const feed = new AdminFeed(await Inventory.open(store, 60_000), {
 *   clock: systemClock, heartbeatMs: 15_000, local: () => ({ websocket: 0, sse: 0, longPoll: 0 }),
 *   presence: new MemoryPresence(),
 * });
 * feed.start();
 * const request = new Request("http://x/admin/feed", { headers: { accept: "text/event-stream" } });
 * const reader = (await feed.accept(request)).body!.pipeThrough(new TextDecoderStream()).getReader();
 * let text = "";
 * while (!text.includes("event: snapshot")) text += (await reader.read()).value;
 * await reader.cancel();
 * assert.equal(feed.size, 0);
 * feed.close();
 * await store.close();
 * ```
 */
export class AdminFeed {
  readonly #inventory: Inventory;
  readonly #options: AdminFeedOptions;
  readonly #watchers: FleetWatchers;
  readonly #startedAt: number;
  readonly #streams: SseStreams<FeedStream>;
  readonly #activity: Activity;
  #stopListening: (() => void) | undefined;
  #stopFollowingDrops: (() => void) | undefined;
  #stopFollowingOrders: (() => void) | undefined;
  readonly #orders: RecentOrders | undefined;
  #cancelTick: (() => void) | undefined;
  #lastTickAt = -Infinity;
  #opening = 0;

  /**
   * Creates the feeds' hub; changes are counted from {@linkcode AdminFeed.start} on (those made
   * before it fold into each product's first delta), and nothing is shared before it.
   *
   * @param inventory The inventory.
   * @param options The clock, the slow-reader limit, this process's watchers and the fleet's.
   */
  constructor(inventory: Inventory, options: AdminFeedOptions) {
    this.#inventory = inventory;
    this.#options = options;
    this.#startedAt = options.clock.now();
    this.#activity = new Activity(options.clock, inventory.allProducts());
    this.#orders = options.orders && new RecentOrders(options.orders);
    this.#watchers = new FleetWatchers(options.presence, {
      ...options,
      process: newProcessId(options.clock),
    });
    this.#streams = new SseStreams<FeedStream>({
      // A feed that is behind is ended when it read nothing for a heartbeat's time of ticks.
      maxMissed: Math.max(1, Math.ceil(options.heartbeatMs / ACTIVITY_STEP_MS)),
      slowReason: "ended an admin feed that stopped reading",
      onKeep: () => this.#tickSoon(),
      onPull: (entry) => this.#flush(entry),
      onForget: () => {
        if (this.#streams.size > 0) return;
        this.#cancelTick?.();
        this.#cancelTick = undefined;
      },
    });
  }

  /** Feeds open now. */
  get size(): number {
    return this.#streams.size;
  }

  /** Starts counting every change and sharing this process's watchers. */
  start(): void {
    if (this.#streams.closed || this.#stopListening !== undefined) return;
    this.#stopListening = this.#inventory.onChange((record) => {
      this.#activity.observe(record);
      this.#publish(record);
    });
    this.#stopFollowingDrops = this.#options.drops?.onChange((product) =>
      this.#publishDrop(product)
    );
    this.#stopFollowingOrders = this.#options.orders?.onRecord((entry) => {
      if (this.#orders?.take(entry)) this.#publishOrders([entry]);
    });
    this.#watchers.start();
  }

  /**
   * Opens a feed: a `retry:` field and the snapshot, then products and ticks as they come.
   *
   * @param request A request that accepts `text/event-stream`.
   * @param head Its head, when read already.
   * @returns The streaming response.
   * @throws {HttpError} 406 for a request that does not accept an event stream, 503 with
   *   `Retry-After` past {@linkcode MAX_ADMIN_FEEDS} open feeds or after `close()`.
   */
  async accept(request: Request, head: RequestHead = RequestHead.of(request)): Promise<Response> {
    if (!isEventStream(head)) {
      throw new HttpError(406, "The admin feed is an event stream: accept text/event-stream");
    }
    if (this.#streams.closed || this.#streams.size + this.#opening >= MAX_ADMIN_FEEDS) {
      throw new HttpError(503, `At most ${MAX_ADMIN_FEEDS} admin feeds may be open at once`, {
        headers: { "retry-after": "5" },
      });
    }
    this.#opening++;
    try {
      await this.#watchers.refresh();
      // A store out of reach does not keep the owner from the feed: its orders come later.
      await this.#orders?.refresh().catch(() => []);
    } finally {
      this.#opening--;
    }
    const activity = this.#activity.history();
    const snapshot = eventFrame(
      "snapshot",
      JSON.stringify({
        process: this.#watchers.process,
        startedAt: this.#startedAt,
        restartsWithProcess: true,
        products: this.#inventory.products().map(adminView),
        drops: this.#dropStatuses(),
        orders: this.#orders?.entries ?? [],
        watchers: this.#watchers.current(),
        store: storeReport(this.#inventory),
        activity,
      }),
    );
    const firstTickAt = activity.start + ACTIVITY_SECONDS * ACTIVITY_STEP_MS;
    return this.#streams.open((controller) => {
      controller.enqueue(retryFrame());
      controller.enqueue(snapshot);
      return {
        controller,
        pending: new Map(),
        pendingDrops: new Map(),
        pendingOrders: [],
        tick: undefined,
        firstTickAt,
        missed: 0,
      };
    });
  }

  /** Ends every feed, stops the tick, the counting and the sharing; later feeds are refused. */
  close(): void {
    this.#streams.close();
    this.#stopListening?.();
    this.#stopFollowingDrops?.();
    this.#stopFollowingOrders?.();
    this.#watchers.close();
  }

  /** Every drop's status now, in catalog order. */
  #dropStatuses(): QueueStatus[] {
    const drops = this.#options.drops;
    if (drops === undefined) return [];
    return this.#inventory.products().flatMap((record) => drops.status(record.info.id) ?? []);
  }

  #publishDrop(product: string): void {
    if (this.#streams.size === 0) return;
    const status = this.#options.drops?.status(product);
    // A product that lost its opensAt says so in its product event: the page drops its panel then.
    if (status === undefined) return;
    const frame = eventFrame("drop", JSON.stringify(status));
    for (const entry of this.#streams.values()) {
      entry.pendingDrops.set(product, frame);
      this.#flush(entry);
    }
  }

  /** Sends order entries, oldest first, to every feed. */
  #publishOrders(entries: readonly OrderEntry[]): void {
    if (this.#streams.size === 0 || entries.length === 0) return;
    const frames = entries.map((entry) => eventFrame("order", JSON.stringify(entry)));
    for (const stream of this.#streams.values()) {
      stream.pendingOrders.push(...frames);
      // A feed that is behind needs no more than the page keeps.
      stream.pendingOrders.splice(0, stream.pendingOrders.length - ORDER_LOG_SIZE);
      this.#flush(stream);
    }
  }

  /** Looks for other processes' orders and sends them; a store out of reach is looked at again next time. */
  #refreshOrders(): void {
    this.#orders?.refresh().then(
      (entries) => this.#publishOrders(entries),
      () => {},
    );
  }

  #publish(record: ProductState): void {
    if (this.#streams.size === 0) return;
    const frame = eventFrame("product", JSON.stringify(adminView(record)));
    for (const entry of this.#streams.values()) {
      entry.pending.set(record.info.id, frame);
      this.#flush(entry);
    }
  }

  /** Sends what a feed has pending (products, drops, orders, then the tick), in one chunk, when it has room. */
  #flush(entry: FeedStream): void {
    if (
      entry.pending.size === 0 && entry.pendingDrops.size === 0 &&
      entry.pendingOrders.length === 0 && entry.tick === undefined
    ) {
      return;
    }
    if (!this.#streams.hasRoom(entry)) return;
    const frames = [
      ...entry.pending.values(),
      ...entry.pendingDrops.values(),
      ...entry.pendingOrders,
    ];
    if (entry.tick !== undefined) frames.push(entry.tick);
    entry.pending.clear();
    entry.pendingDrops.clear();
    entry.pendingOrders.length = 0;
    entry.tick = undefined;
    const chunk = new Uint8Array(frames.reduce((bytes, frame) => bytes + frame.length, 0));
    let offset = 0;
    for (const frame of frames) {
      chunk.set(frame, offset);
      offset += frame.length;
    }
    entry.controller.enqueue(chunk);
  }

  /** Sets the tick's timer for the next whole second, while a feed is open. */
  #tickSoon(): void {
    if (this.#cancelTick !== undefined || this.#streams.size === 0) return;
    const { clock } = this.#options;
    this.#cancelTick = clock.setTimer(() => {
      this.#cancelTick = undefined;
      this.#tick();
      this.#tickSoon();
    }, ACTIVITY_STEP_MS - clock.now() % ACTIVITY_STEP_MS);
  }

  /** Tells every feed the second just ended (once: a timer that fired early tells nothing). */
  #tick(): void {
    const now = this.#options.clock.now();
    const at = Math.floor(now / ACTIVITY_STEP_MS) * ACTIVITY_STEP_MS - ACTIVITY_STEP_MS;
    if (at <= this.#lastTickAt) return;
    this.#lastTickAt = at;
    const watchers = this.#watchers.current();
    const { websocket, sse, longPoll } = watchers.total;
    this.#activity.sampleWatchers(websocket + sse + longPoll, at);
    const tick = {
      at,
      ...this.#activity.countsAt(at),
      watchers,
      store: storeReport(this.#inventory),
    };
    const frame = eventFrame("tick", JSON.stringify(tick));
    for (const entry of [...this.#streams.values()]) {
      if (at < entry.firstTickAt) continue;
      // A feed that is behind gets the newest tick when it reads again.
      entry.tick = frame;
      if (this.#streams.hasRoom(entry)) this.#flush(entry);
      else this.#streams.missedBeat(entry);
    }
    void this.#watchers.refresh();
    this.#refreshOrders();
  }
}
