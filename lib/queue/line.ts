/** One product's line: its tickets, the draw's numbers, and the admissions it gives against the stock. */

/** A shopper's place in a line. */
export interface Ticket {
  /** A random id that only its session sees; the draw publishes its SHA-256. */
  readonly id: string;
  /** The session that joined. */
  readonly session: string;
  /** The client address's key, for the per-address count. */
  readonly client: string;
  /** Its number: null until the draw for a ticket taken before it. */
  number: number | null;
  /** Whether its admission was used by an add. */
  used: boolean;
  /** Taken after the draw, so numbered on arrival: a store keeps only such tickets' numbers. */
  readonly late: boolean;
}

/** What a line keeps besides its tickets: what a store saves as one record. */
export interface LineHead {
  /** The secret seed (hex), from the window's opening; published once drawn. */
  readonly seed: string | null;
  /** The SHA-256 of the seed (hex), published when the window opens. */
  readonly commitment: string | null;
  /** Whether the draw numbered the window's tickets. */
  readonly drawn: boolean;
  /** The highest number admitted so far. */
  readonly servingUpTo: number;
  /** Admissions given and not yet used: number → when it ends (ms since the epoch). */
  readonly admissions: ReadonlyArray<readonly [number, number]>;
  /**
   * Numbers whose admission was taken back when the free units fell below the admissions (a
   * restock down): admitted again first, in number order, as units free up.
   */
  readonly revoked: readonly number[];
  /** When each admission of the last second was given, oldest first. */
  readonly recentAdmissions: readonly number[];
  /** The owner's admit rate for this product, or null for the server's. */
  readonly admitRate: number | null;
  /** Whether the owner paused admissions. */
  readonly paused: boolean;
  /** Rises by one on every change a page can see. */
  readonly version: number;
}

/** A session's standing in a line. */
export interface Turn {
  /** Its ticket, or null when it has none. */
  readonly ticket: string | null;
  /** Its number, or null before the draw (or without a ticket). */
  readonly number: number | null;
  /** Whether it may add now. */
  readonly admitted: boolean;
  /** When its admission ends, in ms since the epoch; null when not admitted. */
  readonly admissionExpiresAt: number | null;
}

/** What joining did. */
export type JoinOutcome =
  | { readonly ok: true; readonly ticket: Ticket; readonly created: boolean }
  | { readonly ok: false; readonly reason: "too many tickets" };

/** How long the admit rate counts admissions over, in ms. */
const RATE_WINDOW_MS = 1_000;

/** A new line's head: nothing drawn, nobody admitted. */
export const EMPTY_HEAD: LineHead = {
  seed: null,
  commitment: null,
  drawn: false,
  servingUpTo: 0,
  admissions: [],
  revoked: [],
  recentAdmissions: [],
  admitRate: null,
  paused: false,
  version: 0,
};

/**
 * One product's line. Its rules are plain code over its own state, given the time and the stock:
 * the caller decides when to call them (one call at a time per line) and saves what changed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const line = new Line("poster");
 * line.openWindow("00".repeat(32), "commitment");
 * line.join("s1", "127.0.0.1", "t1", 0);
 * line.join("s2", "127.0.0.1", "t2", 0);
 * line.applyDraw(["t2", "t1"]);
 * // One unit free: one admission, whatever the rate.
 * assert.equal(line.advance(1_000, 1, 20, 60_000), true);
 * assert.equal(line.servingUpTo, 1);
 * assert.deepEqual(line.turnOf("s2", 1_000), {
 *   ticket: "t2", number: 1, admitted: true, admissionExpiresAt: 61_000,
 * });
 * assert.equal(line.turnOf("s1", 1_000).admitted, false);
 * ```
 */
export class Line {
  /** The product's id. */
  readonly product: string;
  #head: LineHead;
  readonly #tickets = new Map<string, Ticket>();
  readonly #bySession = new Map<string, Ticket>();
  readonly #perClient = new Map<string, number>();
  /** Numbered tickets, number 1 first. */
  readonly #numbered: Ticket[] = [];
  /** Admissions given and not used: number → when it ends. */
  readonly #admissions: Map<number, number>;
  /** Admissions whose add is in flight: they neither expire nor may be taken back meanwhile. */
  readonly #claims = new Set<number>();
  #revoked: number[];
  #recent: number[];

  /**
   * Creates a line, empty or as a store kept it.
   *
   * @param product The product's id.
   * @param head Its head; a new line's by default.
   */
  constructor(product: string, head: LineHead = EMPTY_HEAD) {
    this.product = product;
    this.#head = head;
    this.#admissions = new Map(head.admissions);
    this.#revoked = [...head.revoked];
    this.#recent = [...head.recentAdmissions];
  }

  /**
   * Puts back a ticket a store kept: a late one with its number, a window one unnumbered until
   * {@linkcode Line.restoreDraw}.
   *
   * @param ticket The ticket.
   */
  restore(ticket: Ticket): void {
    this.#keep(ticket.late ? ticket : { ...ticket, number: null });
  }

  /** The head, as a store saves it. */
  get head(): LineHead {
    return {
      ...this.#head,
      admissions: [...this.#admissions],
      revoked: [...this.#revoked],
      recentAdmissions: [...this.#recent],
    };
  }

  /** Rises by one on every change a page can see. */
  get version(): number {
    return this.#head.version;
  }

  /** The published commitment, or null before the window opens. */
  get commitment(): string | null {
    return this.#head.commitment;
  }

  /** The seed: secret until the draw, so only for the line's keeper to save. */
  get seed(): string | null {
    return this.#head.seed;
  }

  /** Whether the draw has numbered the window's tickets. */
  get drawn(): boolean {
    return this.#head.drawn;
  }

  /** The highest number admitted so far. */
  get servingUpTo(): number {
    return this.#head.servingUpTo;
  }

  /** The owner's admit rate for this product, or null for the server's. */
  get admitRate(): number | null {
    return this.#head.admitRate;
  }

  /** Whether the owner paused admissions. */
  get paused(): boolean {
    return this.#head.paused;
  }

  /** Tickets not yet admitted: every ticket before the draw, those numbered above servingUpTo after. */
  get queued(): number {
    return this.drawn ? this.#numbered.length - this.servingUpTo : this.#tickets.size;
  }

  /** Admissions given and not used: none may stay unless a free unit stands behind it. */
  get openAdmissions(): number {
    return this.#admissions.size;
  }

  /** Numbers taken back and waiting to be admitted again. */
  get revoked(): readonly number[] {
    return this.#revoked;
  }

  /** The tickets taken before the draw, for the draw to order (before it, every ticket). */
  unnumbered(): string[] {
    return [...this.#tickets.values()].filter((t) => t.number === null).map((t) => t.id);
  }

  /**
   * Whether a number went to a ticket taken after the draw.
   *
   * @param number The number.
   * @returns True for a later ticket's number.
   */
  isLate(number: number): boolean {
    return this.#numbered[number - 1]?.late ?? false;
  }

  /** Ticket ids in number order, number 1 first. */
  numbered(): string[] {
    return this.#numbered.map((ticket) => ticket.id);
  }

  /**
   * Opens the window: the seed is kept secret and its commitment published. Once only.
   *
   * @param seed The seed's hex.
   * @param commitment Its SHA-256's hex.
   * @returns Whether it changed the line.
   */
  openWindow(seed: string, commitment: string): boolean {
    if (this.#head.seed !== null) return false;
    this.#change({ seed, commitment });
    return true;
  }

  /**
   * Gives a session a ticket, or the one it has. A ticket taken after the draw gets the next
   * number.
   *
   * @param session The session.
   * @param client The client address's key.
   * @param id The id a new ticket gets.
   * @param maxPerClient The most tickets one address may have in this line; 0 counts none.
   * @returns The ticket, or why none was given.
   */
  join(session: string, client: string, id: string, maxPerClient: number): JoinOutcome {
    const known = this.#bySession.get(session);
    if (known !== undefined) return { ok: true, ticket: known, created: false };
    if (maxPerClient > 0 && (this.#perClient.get(client) ?? 0) >= maxPerClient) {
      return { ok: false, reason: "too many tickets" };
    }
    const ticket: Ticket = {
      id,
      session,
      client,
      number: this.drawn ? this.#numbered.length + 1 : null,
      used: false,
      late: this.drawn,
    };
    this.#keep(ticket);
    this.#change({});
    return { ok: true, ticket, created: true };
  }

  /**
   * Numbers the window's tickets in the draw's order, and reveals the seed.
   *
   * @param order Every unnumbered ticket's id, number 1 first (see `drawOrder`).
   * @throws {RangeError} When the order is not exactly the unnumbered tickets.
   */
  applyDraw(order: readonly string[]): void {
    if (this.drawn) return;
    const unnumbered = new Set(this.unnumbered());
    if (order.length !== unnumbered.size || !order.every((id) => unnumbered.delete(id))) {
      throw new RangeError(`The draw of "${this.product}" must order every ticket of its window`);
    }
    this.#number(order);
    this.#change({ drawn: true });
  }

  /**
   * Numbers the window's tickets of a line restored after its draw: the draw is recomputed from
   * the seed, so a store need not keep the numbers.
   *
   * @param order The draw's order of the unnumbered tickets.
   */
  restoreDraw(order: readonly string[]): void {
    this.#number(order);
  }

  /**
   * Ends admissions that ran out, takes back the newest when the free units fell below them, then
   * admits (those taken back first, then the next numbers) while units are free beyond the
   * admissions given and the rate allows.
   *
   * @param now The time, in ms since the epoch.
   * @param free Units free now (total − held).
   * @param rate The most admissions a second.
   * @param ttlMs How long an admission lasts.
   * @returns Whether anything a page sees changed (`servingUpTo`), or `"admissions"` when only
   *   admissions did (ended, taken back or given again).
   */
  advance(now: number, free: number, rate: number, ttlMs: number): boolean | "admissions" {
    let changed = false;
    for (const [number, expiresAt] of this.#admissions) {
      if (expiresAt <= now && !this.#claims.has(number)) {
        this.#admissions.delete(number);
        changed = true;
      }
    }
    // An add in flight will take its unit, or has: either way its admission is not taken back.
    const open = () => this.#admissions.size - this.#claims.size;
    while (open() > free) {
      const newest = Math.max(...[...this.#admissions.keys()].filter((n) => !this.#claims.has(n)));
      this.#admissions.delete(newest);
      this.#revoked.push(newest);
      this.#revoked.sort((a, b) => a - b);
      changed = true;
    }
    this.#recent = this.#recent.filter((at) => at > now - RATE_WINDOW_MS);
    if (!this.drawn || this.paused) return changed && "admissions";
    let servingUpTo = this.servingUpTo;
    while (this.#recent.length < rate && free - this.#admissions.size > 0) {
      let number = this.#revoked.shift();
      if (number === undefined) {
        if (servingUpTo >= this.#numbered.length) break;
        number = ++servingUpTo;
      }
      this.#admissions.set(number, now + ttlMs);
      this.#recent.push(now);
      changed = true;
    }
    if (servingUpTo !== this.servingUpTo) {
      this.#change({ servingUpTo });
      return true;
    }
    return changed && "admissions";
  }

  /**
   * When the line should be looked at again, though nothing else changes: an admission ends or
   * the rate allows the next.
   *
   * @param rate The most admissions a second.
   * @returns The time, or undefined when only a change of the stock can move it.
   */
  nextWake(rate: number): number | undefined {
    let wake: number | undefined;
    for (const expiresAt of this.#admissions.values()) {
      if (wake === undefined || expiresAt < wake) wake = expiresAt;
    }
    const waiting = this.drawn && !this.paused && this.servingUpTo < this.#numbered.length;
    if (waiting && this.#recent.length >= rate) {
      const freed = this.#recent[this.#recent.length - rate] + RATE_WINDOW_MS;
      if (wake === undefined || freed < wake) wake = freed;
    }
    return wake;
  }

  /**
   * A session's standing.
   *
   * @param session The session.
   * @param now The time, in ms since the epoch.
   * @returns Its ticket, number and admission.
   */
  turnOf(session: string, now: number): Turn {
    const ticket = this.#bySession.get(session);
    if (ticket === undefined) {
      return { ticket: null, number: null, admitted: false, admissionExpiresAt: null };
    }
    const expiresAt = ticket.number === null ? undefined : this.#admissions.get(ticket.number);
    const admitted = expiresAt !== undefined &&
      (expiresAt > now || this.#claims.has(ticket.number!));
    return {
      ticket: ticket.id,
      number: ticket.number,
      admitted,
      admissionExpiresAt: admitted ? expiresAt : null,
    };
  }

  /**
   * Claims a session's admission for its add: until {@linkcode Line.settle} the admission neither
   * ends nor is taken back, and a second add of the session finds it claimed.
   *
   * @param session The session.
   * @param now The time, in ms since the epoch.
   * @returns Whether the session had an admission free to claim.
   */
  claim(session: string, now: number): boolean {
    const number = this.#bySession.get(session)?.number;
    if (number == null || this.#claims.has(number)) return false;
    const expiresAt = this.#admissions.get(number);
    if (expiresAt === undefined || expiresAt <= now) return false;
    this.#claims.add(number);
    return true;
  }

  /**
   * Ends a claim: the add took a unit (the admission is used) or did not (it is open again).
   *
   * @param session The session.
   * @param took Whether the add took a unit.
   * @returns The ticket whose admission was used, when it was.
   */
  settle(session: string, took: boolean): Ticket | undefined {
    const ticket = this.#bySession.get(session);
    if (ticket?.number == null || !this.#claims.delete(ticket.number) || !took) return undefined;
    this.#admissions.delete(ticket.number);
    ticket.used = true;
    return ticket;
  }

  /**
   * Sets the owner's controls.
   *
   * @param controls A new admit rate (null for the server's), and whether admissions pause.
   * @returns Whether anything changed.
   */
  control(controls: { admitRate?: number | null; paused?: boolean }): boolean {
    const admitRate = controls.admitRate === undefined ? this.admitRate : controls.admitRate;
    const paused = controls.paused ?? this.paused;
    if (admitRate === this.admitRate && paused === this.paused) return false;
    this.#change({ admitRate, paused });
    return true;
  }

  #keep(ticket: Ticket): void {
    this.#tickets.set(ticket.id, ticket);
    this.#bySession.set(ticket.session, ticket);
    this.#perClient.set(ticket.client, (this.#perClient.get(ticket.client) ?? 0) + 1);
    if (ticket.number !== null) this.#numbered[ticket.number - 1] = ticket;
  }

  #number(order: readonly string[]): void {
    // The window's tickets come first; tickets numbered after the draw keep their numbers.
    const later = this.#numbered.filter((ticket) => ticket !== undefined);
    this.#numbered.length = 0;
    order.forEach((id, i) => {
      const ticket = this.#tickets.get(id)!;
      ticket.number = i + 1;
      this.#numbered.push(ticket);
    });
    for (const ticket of later) this.#numbered[ticket.number! - 1] = ticket;
  }

  #change(fields: Partial<LineHead>): void {
    this.#head = { ...this.#head, ...fields, version: this.#head.version + 1 };
  }
}
