/** The drops' port: what the shop asks of its waiting rooms, whether one process or a fleet keeps them. */
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
