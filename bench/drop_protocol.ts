/** The messages between `bench/drop.ts` and its shopper processes: one JSON object per line. */

/** What the bench asks a shopper process to do. */
export type DropOrder =
  /** Join the line (or post the same body to a bare server): every shopper once; answer `joined`. */
  | { type: "join"; path: string; concurrency: number }
  /** Open the joiners' pages and the watchers; answer `opened`. */
  | { type: "open"; joinerPages: number; watchers: number }
  /** The shoppers' numbers from the recomputed draw: buy when `servingUpTo` reaches each. */
  | { type: "numbers"; numbers: [shopper: number, number: number][] }
  /** Tell what happened; answer `report`. */
  | { type: "report" }
  /** Ask `GET /queue` for every shopper and compare with the numbers; answer `verified`. */
  | { type: "verify"; concurrency: number }
  /** Close everything and exit. */
  | { type: "close" };

/** One admitted shopper's purchase. */
export interface Purchase {
  /** The shopper's index over the whole run. */
  readonly shopper: number;
  /** Its number in the recomputed draw. */
  readonly number: number;
  /** `GET /queue` just before the add: its number and whether it was admitted. */
  readonly turn: { number: number | null; admitted: boolean };
  /** The statuses of the add and of the checkout (0 when not sent). */
  readonly add: number;
  readonly checkout: number;
  /** Wall-clock times the checkout was sent and answered. */
  readonly checkoutSent: number;
  readonly checkoutAnswered: number;
}

/** What a shopper process tells the bench. */
export type DropReport =
  /** Started and reading orders: timing may begin. */
  | { type: "ready" }
  | {
    type: "joined";
    /** Each shopper's ticket id, `[shopper, ticket]`, for the 200s with a ticket. */
    tickets: [shopper: number, ticket: string][];
    /** How many answers had each status (0: the connection failed). */
    statuses: Record<string, number>;
    firstError?: string;
  }
  | { type: "opened"; opened: number; failed: number; firstError?: string }
  /** Every page of this process has shown `soldOut`; `at` is when the last one did. */
  | { type: "soldOut"; at: number; pages: number }
  | {
    type: "report";
    purchases: Purchase[];
    /** Each `servingUpTo` this process saw, with when it first saw it. */
    servingUpTo: [value: number, at: number][];
    /** Pages that never showed `soldOut`. */
    notSoldOut: number;
    /** Pages whose connection the server ended and that opened it again. */
    reopened: number;
    /** Pages that could not open their connection again. */
    lost: number;
    firstLoss?: string;
  }
  | {
    type: "verified";
    checked: number;
    /** The first shopper whose `GET /queue` number is not its recomputed one. */
    firstMismatch?: { shopper: number; expected: number; got: number | null };
    mismatches: number;
  };
