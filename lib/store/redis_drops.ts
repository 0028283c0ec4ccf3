/** The waiting rooms of a fleet: every drop's line in Redis, each operation one function of the library. */
import type { Inventory } from "../inventory/inventory.ts";
import type { ProductState } from "../inventory/ledger.ts";
import { StoreUnavailableError } from "../inventory/store_port.ts";
import type { Clock } from "../time/clock.ts";
import { commitmentOf, newSeed, orderByMacs, ticketHash } from "../queue/draw.ts";
import { WindowSigner } from "./redis_window_signer.ts";
import {
  type AddTurn,
  type DropPhase,
  dropPhase,
  type Drops,
  type DropSettings,
  type JoinAnswer,
  type PublishedDraw,
  type QueueStatus,
  queueStatus,
} from "../queue/drops.ts";
import type { Turn } from "../queue/line.ts";
import type { LineState } from "./redis_line_state.ts";
import { RedisLineView } from "./redis_line_view.ts";
import type { LineKeys } from "./redis_keys.ts";
import { hashEntries } from "./redis_state.ts";

/** How often every drop's line is read again: a silent subscription, or a process that died holding the next wake. */
export const LINE_CHECK_INTERVAL_MS = 3_000;

/** A line due by this process's clock but not yet by Redis's is tried again this much later. */
const EARLY_WAKE_DELAY_MS = 100;

/** How the drops reach Redis (a `RedisStore` gives it: `store.lines()`). */
export interface LineAccess {
  /** Calls a line function on the product's keys and its line's. */
  call(name: string, product: string, args: readonly string[]): Promise<unknown[]>;
  /** Sends one plain command. */
  send(args: string[]): Promise<unknown>;
  /** Names a line's keys. */
  keys(product: string): LineKeys;
  /** Subscribes to the queue channel. */
  listen(listener: (message: string) => void): Promise<void>;
  /** Registers a listener of reconnects; returns a function that unregisters it. */
  onRecovered(listener: () => void): () => void;
}

/**
 * Every drop of a fleet: the lines live in Redis and every process may act on them, so the rules
 * (lib/queue/line.ts's, in the library's Lua) run in one function per operation, by Redis's
 * clock, checking before writing. The draw is the one step Lua cannot do (no HMAC): each window
 * ticket is signed with the seed by the process it joins through ({@linkcode WindowSigner}) and
 * its HMAC kept beside the window; at the opening the window is closed by a function, the order
 * sorted here with `orderByMacs` (a pure function of the seed and the tickets, so every process
 * computes the same) and applied by a function that refuses a second application. Each process keeps a read model of every line, fed by the queue channel,
 * the functions' answers, a read every {@linkcode LINE_CHECK_INTERVAL_MS} and a reload after a
 * reconnect, so that `status` answers at once; and runs a timer that calls the advance, which is
 * idempotent whichever process runs it.
 */
export class RedisDrops implements Drops {
  readonly #inventory: Inventory;
  readonly #redis: LineAccess;
  readonly #settings: DropSettings;
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  readonly #lines: RedisLineView;
  readonly #hashes = new Map<string, string[]>();
  readonly #macs = new Map<string, string[]>();
  readonly #signer: WindowSigner;
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #stepping = new Map<string, Promise<void>>();
  readonly #unsubscribe: (() => void)[] = [];
  #cancelWake: (() => void) | undefined;
  #wakeAt = Infinity;
  #cancelCheck: (() => void) | undefined;
  #closed = false;

  private constructor(
    inventory: Inventory,
    redis: LineAccess,
    settings: DropSettings,
    clock: Clock,
    log: (line: string) => void,
  ) {
    this.#inventory = inventory;
    this.#redis = redis;
    this.#settings = settings;
    this.#clock = clock;
    this.#log = log;
    this.#lines = new RedisLineView(log, () => this.#schedule());
    this.#signer = new WindowSigner({
      seed: async (product) =>
        String(await redis.send(["HGET", redis.keys(product).line, "seed"]) ?? ""),
      storedMacs: async (product) => {
        const pairs = await redis.send(["HGETALL", redis.keys(product).windowMacs]);
        return new Map(hashEntries(pairs));
      },
    });
  }

  /**
   * Reads every drop's line, subscribes to the queue channel and starts the timers.
   *
   * @param inventory The inventory whose products have drops (on the same Redis).
   * @param redis The store's access to the lines.
   * @param settings The window, admit rate, admission time and per-address limit.
   * @param clock The clock of the timers (the rules use Redis's).
   * @param log Writes a line to the log.
   * @returns The drops, running.
   * @throws {StoreUnavailableError} When Redis cannot be reached.
   */
  static async open(
    inventory: Inventory,
    redis: LineAccess,
    settings: DropSettings,
    clock: Clock,
    log: (line: string) => void,
  ): Promise<RedisDrops> {
    const drops = new RedisDrops(inventory, redis, settings, clock, log);
    await redis.listen((message) => drops.#lines.hear(message));
    await drops.#readAll();
    drops.#unsubscribe.push(
      inventory.onChange((record) => drops.#stockChanged(record)),
      redis.onRecovered(() => void drops.#readAll().catch(() => {})),
    );
    drops.#checkSoon();
    for (const record of inventory.products()) {
      if (record.info.opensAt !== undefined) drops.#step(record.info.id);
    }
    return drops;
  }

  /**
   * Registers a listener told of every change of a drop's status.
   *
   * @param listener Called with the product's id.
   * @returns A function that unregisters it.
   */
  onChange(listener: (product: string) => void): () => void {
    return this.#lines.onChange(listener);
  }

  /**
   * A drop's status now, from this process's read model.
   *
   * @param product The product's id.
   * @returns Its status; undefined when it is unknown or has no `opensAt`.
   */
  status(product: string): QueueStatus | undefined {
    const record = this.#inventory.get(product);
    const opensAt = record?.info.opensAt;
    if (record === undefined || opensAt === undefined) return undefined;
    const line = this.#lines.get(product);
    return queueStatus(record, line, this.#clock.now(), this.#settings, this.#inventory.epoch);
  }

  /**
   * Gives a session a ticket for a drop, or the one it has: one function call, which also opens
   * the window (or closes it) when its time has come by Redis's clock.
   *
   * @param product The product's id, of a product on sale.
   * @param session The session.
   * @param client The client address's key.
   * @returns The ticket and the time of the draw, or why none was given.
   * @throws {StoreUnavailableError} When Redis cannot be reached.
   */
  join(product: string, session: string, client: string): Promise<JoinAnswer> {
    return this.#tracked(async (): Promise<JoinAnswer> => {
      const opensAt = this.#inventory.get(product)?.info.opensAt;
      if (opensAt === undefined) return { ok: false, reason: "no queue" };
      const id = this.#clock.randomUUID();
      // Signed here while the window is open, so that the draw at the opening only sorts.
      const signed = await this.#signer.sign(product, this.#lines.get(product).commitment, id);
      const extra = [session, client, String(this.#settings.maxTicketsPerClient), id, ...signed];
      const [status, , ticket, number] = await this.#callPrepared("queue_join", product, extra);
      switch (status) {
        case "ok":
          return {
            ok: true,
            ticket: {
              id: String(ticket),
              session,
              client,
              number: number === "" ? null : Number(number),
              used: false,
              late: number !== "",
            },
            drawAt: opensAt,
          };
        case "not open yet":
          return { ok: false, reason: "not open yet", opensAt };
        case "sold out":
        case "retired":
          return { ok: false, reason: "sold out" };
        case "too many tickets":
          return { ok: false, reason: "too many tickets" };
        default:
          return { ok: false, reason: "no queue" };
      }
    });
  }

  /**
   * A session's standing in a drop's line, read from Redis: the session may have joined through
   * any process.
   *
   * @param product The product's id.
   * @param session The session.
   * @returns Its ticket, number and admission; undefined for a product without a drop.
   * @throws {StoreUnavailableError} When Redis cannot be reached.
   */
  turnOf(product: string, session: string): Promise<Turn | undefined> {
    return this.#tracked(async () => {
      if (this.#inventory.get(product)?.info.opensAt === undefined) return undefined;
      const [, state, ticket, number, ends] = await this.#call("queue_turn", product, [session]);
      this.#lines.learn(String(state));
      if (ticket === "") {
        return { ticket: null, number: null, admitted: false, admissionExpiresAt: null };
      }
      return {
        ticket: String(ticket),
        number: number === "" ? null : Number(number),
        admitted: ends !== "",
        admissionExpiresAt: ends === "" ? null : Number(ends),
      };
    });
  }

  /**
   * Whether a session may add a product now: any product without a drop, and a drop's only once
   * it was drawn and the session's number admitted (or it holds the unit its admission gave).
   * An admitted session's admission is claimed in Redis for the add (for at most the claim's
   * lease, should this process die before it settles).
   *
   * @param product The product's id.
   * @param session The session.
   * @param holds Whether the session holds a unit of the product (asked only when needed).
   * @returns Yes (and whether the admission was claimed), or why not.
   * @throws {StoreUnavailableError} When Redis cannot be reached.
   */
  mayAdd(product: string, session: string, holds: () => Promise<boolean>): Promise<AddTurn> {
    return this.#tracked(async (): Promise<AddTurn> => {
      const record = this.#inventory.get(product);
      const opensAt = record?.info.opensAt;
      if (record === undefined || opensAt === undefined) return { ok: true, claimed: false };
      if (this.#clock.now() < Date.parse(opensAt)) {
        return { ok: false, reason: "not open yet", opensAt };
      }
      if (record.total === 0 && record.held === 0) return { ok: true, claimed: false };
      const [status] = await this.#call("queue_claim", product, [session]);
      if (status === "not drawn") return { ok: false, reason: "not open yet", opensAt };
      if (status === "claimed") return { ok: true, claimed: true };
      if (status === "ticket" && await holds()) return { ok: true, claimed: false };
      return { ok: false, reason: "not your turn", opensAt };
    });
  }

  /**
   * Ends the claim of an add: it took a unit (the admission is used) or not (it is open again);
   * then admits what the stock allows, in the same function call.
   *
   * @param product The product's id.
   * @param session The session.
   * @param took Whether the add took a unit.
   * @throws {StoreUnavailableError} When Redis cannot be reached.
   */
  settle(product: string, session: string, took: boolean): Promise<void> {
    return this.#tracked(async () => {
      const [, state] = await this.#call("queue_settle", product, [session, took ? "1" : "0"]);
      if (state !== undefined) this.#lines.learn(String(state));
    });
  }

  /**
   * The published draw of a drop: the ticket ids in number order, read from Redis.
   *
   * @param product The product's id.
   * @returns The commitment, seed and order; undefined before the draw or without a drop.
   * @throws {StoreUnavailableError} When Redis cannot be reached.
   */
  draw(product: string): Promise<PublishedDraw | undefined> {
    return this.#tracked(async () => {
      if (this.#inventory.get(product)?.info.opensAt === undefined) return undefined;
      let line = this.#lines.get(product);
      // This process may not have heard of the draw yet: Redis knows.
      if (!line.drawn) {
        line = this.#lines.learn(String((await this.#call("queue_read", product))[1]));
      }
      if (!line.drawn || line.seed === null || line.commitment === null) return undefined;
      const known = this.#hashes.get(product) ?? [];
      let order = known;
      if (known.length < line.count) {
        // Numbers never change once given: only those given since the last call are hashed.
        const ids = await this.#numbered(product);
        order = [...known, ...await Promise.all(ids.slice(known.length).map(ticketHash))];
        this.#hashes.set(product, order);
      }
      let macs = this.#macs.get(product);
      if (macs === undefined) {
        // The window's tickets are the ones the draw ordered: their HMACs, ascending.
        const window = await this.#redis.send([
          "LRANGE",
          this.#redis.keys(product).window,
          "0",
          "-1",
        ]);
        const ids = (window as unknown[]).map(String);
        macs = (await this.#signer.macsOf(product, line.seed, ids)).sort();
        this.#macs.set(product, macs);
      }
      return { commitment: line.commitment, seed: line.seed, order, macs };
    });
  }

  /**
   * Sets the owner's controls of a drop: its admit rate, and whether admissions pause.
   *
   * @param product The product's id, of a product with a drop.
   * @param controls The new admit rate (null for the server's), and whether to pause.
   * @returns The drop's status after it; undefined without a drop.
   * @throws {StoreUnavailableError} When Redis cannot be reached.
   */
  control(
    product: string,
    controls: { admitRate?: number | null; paused?: boolean },
  ): Promise<QueueStatus | undefined> {
    return this.#tracked(async () => {
      if (this.#inventory.get(product)?.info.opensAt === undefined) return undefined;
      const rate = controls.admitRate === undefined
        ? "-"
        : controls.admitRate === null
        ? ""
        : String(controls.admitRate);
      const paused = controls.paused === undefined ? "-" : controls.paused ? "1" : "0";
      const [, state] = await this.#call("queue_control", product, [rate, paused]);
      if (state !== undefined) this.#lines.learn(String(state));
      this.#schedule();
      return this.status(product);
    });
  }

  /** Stops the timers and the listeners, and waits for the calls in flight; the store stays open. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#cancelWake?.();
    this.#cancelCheck?.();
    await Promise.allSettled([...this.#inFlight, ...this.#stepping.values()]);
  }

  #phaseOf(record: ProductState, line: LineState, now: number): DropPhase {
    return dropPhase(record, line, now, this.#settings.windowMs);
  }

  /** Runs an operation, counted as in flight until it settles. */
  #tracked<T>(operation: () => Promise<T>): Promise<T> {
    const result = operation();
    const settled = result.then(() => {}, () => {});
    this.#inFlight.add(settled);
    settled.then(() => this.#inFlight.delete(settled));
    return result;
  }

  /** The arguments every line function begins with: the product, its opening, the settings. */
  async #context(product: string, withSeed: boolean): Promise<string[]> {
    const opensAt = Date.parse(this.#inventory.get(product)?.info.opensAt ?? "");
    const { windowMs, admitRate, admissionTtlMs } = this.#settings;
    let seed = "";
    let commitment = "";
    if (withSeed) {
      seed = newSeed();
      commitment = await commitmentOf(seed);
    }
    return [
      product,
      String(opensAt),
      String(windowMs),
      String(admitRate),
      String(admissionTtlMs),
      seed,
      commitment,
    ];
  }

  async #call(name: string, product: string, extra: string[] = []): Promise<unknown[]> {
    return await this.#redis.call(name, product, [
      ...await this.#context(product, false),
      ...extra,
    ]);
  }

  /**
   * Calls a function that may open the window: with a seed of this process's when none is known
   * yet (the function keeps the first one offered), again with one when Redis asks for it.
   */
  async #callPrepared(name: string, product: string, extra: string[] = []): Promise<unknown[]> {
    const offer = this.#lines.get(product).commitment === null;
    let reply = await this.#redis.call(name, product, [
      ...await this.#context(product, offer),
      ...extra,
    ]);
    if (reply[0] === "needs seed") {
      reply = await this.#redis.call(name, product, [
        ...await this.#context(product, true),
        ...extra,
      ]);
    }
    if (reply[1] !== undefined) this.#lines.learn(String(reply[1]));
    return reply;
  }

  /** The ticket ids in number order, number 1 first. */
  async #numbered(product: string): Promise<string[]> {
    const tickets = hashEntries(
      await this.#redis.send(["HGETALL", this.#redis.keys(product).tickets]),
    );
    const ids: string[] = [];
    for (const [, raw] of tickets) {
      const [id, number] = raw.split("|");
      if (number !== "") ids[Number(number) - 1] = id;
    }
    return ids;
  }

  /** Reads every drop's line again (at the start, after a reconnect, and on the periodic check). */
  async #readAll(): Promise<void> {
    await Promise.all(
      this.#inventory.products()
        .filter((record) => record.info.opensAt !== undefined)
        .map(async (record) => {
          const [, state] = await this.#call("queue_read", record.info.id);
          this.#lines.learn(String(state));
        }),
    );
  }

  #checkSoon(): void {
    if (this.#closed) return;
    this.#cancelCheck = this.#clock.setTimer(() => {
      this.#tracked(() => this.#readAll()).catch(() => {}).finally(() => this.#checkSoon());
    }, LINE_CHECK_INTERVAL_MS);
  }

  #stockChanged(record: ProductState): void {
    if (record.info.opensAt === undefined) return;
    this.#lines.tell(record.info.id);
    // A unit freed (a hold gone, a restock) may admit the next shopper at once.
    this.#step(record.info.id);
  }

  /**
   * Brings a drop up to date (window, draw, admissions), one step at a time per product in this
   * process, then sets the timer for what comes next.
   */
  #step(product: string): void {
    if (this.#closed) return;
    const before = this.#stepping.get(product);
    if (before !== undefined) {
      // One step waiting behind the running one is enough: it reads the line afresh.
      return void before.then(() => this.#stepping.has(product) || this.#step(product));
    }
    const running = this.#advance(product)
      .catch((error) => {
        if (!(error instanceof StoreUnavailableError)) {
          this.#log(`the line of "${product}" failed: ${(error as Error).message}`);
        }
      })
      .finally(() => {
        this.#stepping.delete(product);
        this.#schedule();
      });
    this.#stepping.set(product, running);
  }

  async #advance(product: string): Promise<void> {
    if (this.#inventory.get(product)?.info.opensAt === undefined) return;
    const [status] = await this.#callPrepared("queue_advance", product);
    if (status !== "draw") return;
    // The window closed and no process applied the draw yet: every one that gets here computes
    // the same order, and the function takes only the first.
    const keys = this.#redis.keys(product);
    const seed = String(await this.#redis.send(["HGET", keys.line, "seed"]));
    const window = (await this.#redis.send(["LRANGE", keys.window, "0", "-1"]) as unknown[])
      .map(String);
    const order = orderByMacs(window, await this.#signer.macsOf(product, seed, window));
    const [, state] = await this.#call("queue_apply_draw", product, order);
    if (state !== undefined) this.#lines.learn(String(state));
  }

  /** Looks at every drop whose time came, then sleeps. */
  #wake(): void {
    this.#cancelWake = undefined;
    this.#wakeAt = Infinity;
    if (this.#closed) return;
    const now = this.#clock.now();
    for (const record of this.#inventory.products()) {
      const due = this.#dueOf(record);
      if (due !== undefined && due <= now) this.#step(record.info.id);
    }
    this.#schedule();
  }

  /** When a drop changes on its own next, by this process's clock. */
  #dueOf(record: ProductState): number | undefined {
    const opensAtText = record.info.opensAt;
    if (opensAtText === undefined) return undefined;
    const opensAt = Date.parse(opensAtText);
    const line = this.#lines.get(record.info.id);
    if (line.commitment === null) return opensAt - this.#settings.windowMs;
    if (!line.drawn) return opensAt;
    return line.nextWake ?? undefined;
  }

  /** Sets the timer for the earliest moment a drop changes on its own. */
  #schedule(): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    let next = Infinity;
    for (const record of this.#inventory.products()) {
      const due = this.#dueOf(record);
      // What is due by this clock and not done was not due yet by Redis's: a little later.
      if (due !== undefined) next = Math.min(next, Math.max(due, now + EARLY_WAKE_DELAY_MS));
    }
    if (next === Infinity || next >= this.#wakeAt) return;
    this.#cancelWake?.();
    this.#wakeAt = next;
    this.#cancelWake = this.#clock.setTimer(() => this.#wake(), next - now);
  }
}
