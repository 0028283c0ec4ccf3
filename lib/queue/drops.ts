/** The drops' port: what the shop asks of its waiting rooms, whether one process or a fleet keeps them. */
import { inventoryCountOf, type ProductState } from "../inventory/ledger.ts";
import type { Ticket, Turn } from "./line.ts";

/** How a server runs its drops. */
export interface DropSettings {
  /** How long before a product's `opensAt` its queue opens, in ms. */
  readonly windowMs: number;
  /** The most shoppers admitted a second per product, unless the owner set another. */
  readonly admitRate: number;
  /** How long an admitted shopper has to add, in ms. */
  readonly admissionTtlMs: number;
  /** The most tickets one client address may have in one line; 0 counts none. */
  readonly maxTicketsPerClient: number;
}

/** Where a drop stands. */
export type DropPhase = "before" | "queueing" | "open" | "soldOut";

/** The one message every page of a drop gets: the page works out its own position from it. */
export interface QueueStatus {
  /** The product's id. */
  readonly product: string;
  /** Where the drop stands. */
  readonly phase: DropPhase;
  /** The opening, as the catalog gives it. */
  readonly opensAt: string;
  /** The server's clock when the message was made, in ms since the epoch. */
  readonly serverTime: number;
  /** The draw's commitment (hex), from the window's opening. */
  readonly commitment: string | null;
  /** The draw's seed (hex), from the draw. */
  readonly seed: string | null;
  /** The highest number admitted so far. */
  readonly servingUpTo: number;
  /** Tickets not yet admitted. */
  readonly queued: number;
  /** Units free (total − held). */
  readonly free: number;
  /** Units held: holds that may still come back. */
  readonly held: number;
  /** Admissions a second now. */
  readonly admitRate: number;
  /** Whether the owner paused admissions. */
  readonly paused: boolean;
  /** The product's version plus the line's: rises on every change of this message. */
  readonly version: number;
  /** The store's epoch. */
  readonly epoch: string;
}

/** What joining a line answered. */
export type JoinAnswer =
  | { readonly ok: true; readonly ticket: Ticket; readonly drawAt: string }
  | {
    readonly ok: false;
    readonly reason: "no queue" | "not open yet" | "sold out" | "too many tickets";
    readonly opensAt?: string;
  };

/** Whether a session may add a drop's product now; `claimed` when its add uses its admission. */
export type AddTurn =
  | { readonly ok: true; readonly claimed: boolean }
  | {
    readonly ok: false;
    readonly reason: "not open yet" | "not your turn";
    readonly opensAt: string;
  };

/** The published draw: enough for anyone to check it. */
export interface PublishedDraw {
  /** The SHA-256 of the seed, published before the draw. */
  readonly commitment: string;
  /** The seed. */
  readonly seed: string;
  /** The SHA-256 of each ticket id, number 1 first. */
  readonly order: readonly string[];
  /**
   * The HMAC of each ticket the draw ordered (those taken in the window), number 1 first: they
   * ascend, and a shopper's own is the HMAC of their ticket under the seed. Tickets after these
   * came later, numbered as they arrived.
   */
  readonly macs: readonly string[];
}

/** What a drop's status shows of its line, as either keeper knows it. */
export interface LineSummary {
  /** The published commitment, or null before the window opens. */
  readonly commitment: string | null;
  /** The seed (secret until the draw: shown only once drawn). */
  readonly seed: string | null;
  /** Whether the draw has numbered the window's tickets. */
  readonly drawn: boolean;
  /** The highest number admitted so far. */
  readonly servingUpTo: number;
  /** Tickets not yet admitted. */
  readonly queued: number;
  /** The owner's admit rate, or null for the server's. */
  readonly admitRate: number | null;
  /** Whether the owner paused admissions. */
  readonly paused: boolean;
  /** The line's own version. */
  readonly version: number;
}

/** A drop whose line does not exist yet: nothing committed, drawn or admitted. */
export const NO_LINE: LineSummary = {
  commitment: null,
  seed: null,
  drawn: false,
  servingUpTo: 0,
  queued: 0,
  admitRate: null,
  paused: false,
  version: 0,
};

/**
 * Where a drop stands: `before` until its window is open and its commitment out (a page never
 * sees a queue without one), `soldOut` once no unit is free and none held, then `queueing` until
 * the draw and `open` after it.
 *
 * @param record The product, with its `opensAt`.
 * @param line Its line.
 * @param now The time, in ms since the epoch.
 * @param windowMs How long before `opensAt` the window opens.
 * @returns The phase.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null, opensAt: "2026-01-01T18:00:00Z" };
 * const record = { info, total: 3, held: 0, sold: 0, version: 1, retired: false, listedTotal: null };
 * const opensAt = Date.parse(info.opensAt);
 * assert.equal(dropPhase(record, NO_LINE, opensAt - 1_000, 60_000), "before");
 * assert.equal(dropPhase(record, { ...NO_LINE, commitment: "c" }, opensAt - 1_000, 60_000), "queueing");
 * ```
 */
export function dropPhase(
  record: ProductState,
  line: LineSummary,
  now: number,
  windowMs: number,
): DropPhase {
  const opensAt = Date.parse(record.info.opensAt!);
  if (now < opensAt - windowMs || line.commitment === null) return "before";
  if (record.total === 0 && record.held === 0) return "soldOut";
  return line.drawn ? "open" : "queueing";
}

/**
 * The one message every page of a drop gets, made from its product and its line.
 *
 * @param record The product, with its `opensAt`.
 * @param line Its line.
 * @param now The time, in ms since the epoch.
 * @param settings The server's window and admit rate.
 * @param epoch The store's epoch.
 * @returns The status.
 */
export function queueStatus(
  record: ProductState,
  line: LineSummary,
  now: number,
  settings: Pick<DropSettings, "windowMs" | "admitRate">,
  epoch: string,
): QueueStatus {
  return {
    product: record.info.id,
    phase: dropPhase(record, line, now, settings.windowMs),
    opensAt: record.info.opensAt!,
    serverTime: now,
    commitment: line.commitment,
    seed: line.drawn ? line.seed : null,
    servingUpTo: line.servingUpTo,
    queued: line.queued,
    free: inventoryCountOf(record),
    held: record.held,
    admitRate: line.admitRate ?? settings.admitRate,
    paused: line.paused,
    version: record.version + line.version,
    epoch,
  };
}

/**
 * The waiting rooms of the shop's drops (products with an `opensAt`): each line opens its window
 * with a commitment, draws at the opening, and admits shoppers against the free units. One
 * process keeps them itself (`DropQueues`); a fleet keeps them in its shared store.
 */
export interface Drops {
  /**
   * Registers a listener told of every change of a drop's status.
   *
   * @param listener Called with the product's id.
   * @returns A function that unregisters it.
   */
  onChange(listener: (product: string) => void): () => void;
  /**
   * A drop's status now.
   *
   * @param product The product's id.
   * @returns Its status; undefined when it is unknown or has no `opensAt`.
   */
  status(product: string): QueueStatus | undefined;
  /**
   * Gives a session a ticket for a drop, or the one it has.
   *
   * @param product The product's id, of a product on sale.
   * @param session The session.
   * @param client The client address's key.
   * @returns The ticket and the time of the draw, or why none was given.
   */
  join(product: string, session: string, client: string): Promise<JoinAnswer>;
  /**
   * A session's standing in a drop's line. Asynchronous: on a fleet the session may have joined
   * through another process, so only the shared store knows its ticket.
   *
   * @param product The product's id.
   * @param session The session.
   * @returns Its ticket, number and admission; undefined for a product without a drop.
   */
  turnOf(product: string, session: string): Promise<Turn | undefined>;
  /**
   * Whether a session may add a product now; an admitted session's admission is claimed for
   * the add until {@linkcode Drops.settle}.
   *
   * @param product The product's id.
   * @param session The session.
   * @param holds Whether the session holds a unit of the product (asked only when needed).
   * @returns Yes (and whether the admission was claimed), or why not.
   */
  mayAdd(product: string, session: string, holds: () => Promise<boolean>): Promise<AddTurn>;
  /**
   * Ends the claim of an add: it took a unit (the admission is used) or not (it is open again).
   *
   * @param product The product's id.
   * @param session The session.
   * @param took Whether the add took a unit.
   */
  settle(product: string, session: string, took: boolean): Promise<void>;
  /**
   * The published draw of a drop.
   *
   * @param product The product's id.
   * @returns The commitment, seed and order; undefined before the draw or without a drop.
   */
  draw(product: string): Promise<PublishedDraw | undefined>;
  /**
   * Sets the owner's controls of a drop: its admit rate, and whether admissions pause.
   *
   * @param product The product's id, of a product with a drop.
   * @param controls The new admit rate (null for the server's), and whether to pause.
   * @returns The drop's status after it; undefined without a drop.
   */
  control(
    product: string,
    controls: { admitRate?: number | null; paused?: boolean },
  ): Promise<QueueStatus | undefined>;
  /** Stops the drops' timers, waits for operations in flight, and lets their store go. */
  close(): Promise<void>;
}
