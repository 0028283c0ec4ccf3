/** Holds ordered by expiry: a binary min-heap with an index, so every change is O(log n). */

/**
 * Session → expiry time, with the first one due always at hand.
 *
 * Setting, refreshing and removing a hold cost O(log n) whatever the order of the times (a
 * refreshed hold may move either way), and the holds due by a time are found in O(k) for k due.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const heap = new ExpiryHeap();
 * heap.set("a", 30);
 * heap.set("b", 10);
 * heap.set("c", 20);
 * assert.equal(heap.firstExpiry(), 10);
 * assert.deepEqual(heap.due(20).sort(), ["b", "c"]);
 * heap.delete("b");
 * assert.equal(heap.firstExpiry(), 20);
 * ```
 */
export class ExpiryHeap {
  readonly #sessions: string[] = [];
  readonly #times: number[] = [];
  readonly #index = new Map<string, number>();

  /** Holds kept. */
  get size(): number {
    return this.#sessions.length;
  }

  /**
   * Tells when a session's hold expires.
   *
   * @param session The session id.
   * @returns The expiry time, or undefined when it holds nothing.
   */
  get(session: string): number | undefined {
    const at = this.#index.get(session);
    return at === undefined ? undefined : this.#times[at];
  }

  /**
   * Creates or moves a hold.
   *
   * @param session The session id.
   * @param expiresAt When the hold ends.
   */
  set(session: string, expiresAt: number): void {
    const at = this.#index.get(session);
    if (at === undefined) {
      this.#sessions.push(session);
      this.#times.push(expiresAt);
      this.#index.set(session, this.#sessions.length - 1);
      this.#up(this.#sessions.length - 1);
      return;
    }
    const before = this.#times[at];
    this.#times[at] = expiresAt;
    if (expiresAt < before) this.#up(at);
    else this.#down(at);
  }

  /**
   * Removes a hold, if there is one.
   *
   * @param session The session id.
   * @returns True when there was one.
   */
  delete(session: string): boolean {
    const at = this.#index.get(session);
    if (at === undefined) return false;
    const last = this.#sessions.length - 1;
    this.#index.delete(session);
    if (at !== last) {
      this.#move(last, at);
      this.#sessions.pop();
      this.#times.pop();
      this.#up(at);
      this.#down(at);
    } else {
      this.#sessions.pop();
      this.#times.pop();
    }
    return true;
  }

  /** When the first hold expires; Infinity when there is none. */
  firstExpiry(): number {
    return this.#times.length === 0 ? Infinity : this.#times[0];
  }

  /**
   * Lists the holds due by a time, in no particular order.
   *
   * @param now The time.
   * @param limit The most to list.
   * @returns Sessions whose hold expires at or before `now`.
   */
  due(now: number, limit = Infinity): string[] {
    // Most changes find nothing due: no arrays made for them.
    if (this.#times.length === 0 || this.#times[0] > now || limit < 1) return [];
    const found: string[] = [];
    // The heap's order prunes every subtree whose root is not due.
    const stack = [0];
    while (stack.length > 0 && found.length < limit) {
      const at = stack.pop()!;
      if (this.#times[at] > now) continue;
      found.push(this.#sessions[at]);
      const left = 2 * at + 1;
      if (left < this.#times.length) stack.push(left);
      if (left + 1 < this.#times.length) stack.push(left + 1);
    }
    return found;
  }

  /** Every hold, in no particular order. */
  *entries(): IterableIterator<[session: string, expiresAt: number]> {
    for (let i = 0; i < this.#sessions.length; i++) yield [this.#sessions[i], this.#times[i]];
  }

  #up(at: number): void {
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (this.#times[parent] <= this.#times[at]) return;
      this.#swap(at, parent);
      at = parent;
    }
  }

  #down(at: number): void {
    const size = this.#times.length;
    for (;;) {
      // A removal sifts down every level: the smaller child is found by index.
      const left = 2 * at + 1;
      let smallest = at;
      if (left < size && this.#times[left] < this.#times[smallest]) smallest = left;
      if (left + 1 < size && this.#times[left + 1] < this.#times[smallest]) smallest = left + 1;
      if (smallest === at) return;
      this.#swap(at, smallest);
      at = smallest;
    }
  }

  #swap(a: number, b: number): void {
    const session = this.#sessions[a];
    const time = this.#times[a];
    this.#move(b, a);
    this.#sessions[b] = session;
    this.#times[b] = time;
    this.#index.set(session, b);
  }

  /** Copies the entry at `from` over the one at `to`. */
  #move(from: number, to: number): void {
    this.#sessions[to] = this.#sessions[from];
    this.#times[to] = this.#times[from];
    this.#index.set(this.#sessions[to], to);
  }
}
