/** The engine port: what a local store asks of whatever writes its stocks durably. */
import type { Hold, Sale, StoredState } from "../inventory/ledger.ts";
import type { StockChange } from "./local_stock.ts";

/** A product as an engine stores it, with the stamp that names its stored state. */
export interface StoredProduct {
  /** Its stored fields. */
  readonly state: StoredState;
  /** Its holds, by session. */
  readonly holds: ReadonlyArray<readonly [string, Hold]>;
  /** Its sales: session and what it bought. */
  readonly sales: ReadonlyArray<readonly [string, Sale]>;
  /** Names the stored state; a commit against another is refused. */
  readonly stamp: string;
}

/** One product's part of a commit. */
export interface ProductWrite {
  /** The product's id. */
  readonly id: string;
  /** What changed. */
  readonly change: StockChange;
  /** The stamp it was decided on; null for a product not stored yet. */
  readonly stamp: string | null;
}

/** Writes changes durably; a store without one keeps everything in memory. */
export interface StoreEngine {
  /**
   * Writes every product's change at once, if each is still at its stamp.
   *
   * @param writes The changes.
   * @returns The new stamp of each product, or null when one moved on (nothing was written).
   */
  commit(writes: readonly ProductWrite[]): Promise<Map<string, string> | null>;
  /**
   * Reads products again, after a refused commit.
   *
   * @param ids The products.
   * @returns Each one found.
   */
  reload(ids: readonly string[]): Promise<Map<string, StoredProduct>>;
  /**
   * Reads the stamps of products, to tell whether memory is still current.
   *
   * @param ids The products.
   * @returns Each one's stamp, null for a product not stored.
   */
  stamps(ids: readonly string[]): Promise<Map<string, string | null>>;
  /** Releases the engine. */
  close(): Promise<void>;
}
