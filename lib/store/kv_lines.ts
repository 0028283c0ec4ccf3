/** The lines on Deno KV: a head and one entry per ticket, written in batches as they come. */
import type { LineHead, Ticket } from "../queue/line.ts";
import type { LineStore, StoredLine } from "../queue/line_store.ts";

const LINES_PREFIX = ["line"] as const;
/** Deno KV allows 1,000 mutations in one atomic operation; a ticket is small. */
const MAX_MUTATIONS_PER_COMMIT = 500;

/** A ticket as kept: its number only when it was taken after the draw. */
interface KeptTicket {
  readonly session: string;
  readonly client: string;
  readonly number: number | null;
  readonly used: boolean;
  readonly late: boolean;
}

interface Write {
  readonly key: Deno.KvKey;
  readonly value: LineHead | KeptTicket;
}

/**
 * Keeps lines in a Deno KV file: `["line", product, "head"]` and `["line", product, "ticket",
 * id]`. Saves wait for one commit that carries every save queued meanwhile.
 *
 * @param path The KV file (the one the stock lives in), or `:memory:`.
 * @returns The store; close it to let the file go.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EMPTY_HEAD } from "../queue/line.ts";
 * const store = await openKvLines(":memory:");
 * const ticket = { id: "t", session: "s", client: "c", number: null, used: false, late: false };
 * await store.save("a", { ...EMPTY_HEAD, version: 1 }, [ticket]);
 * const [line] = await store.load();
 * assert.equal(line.head.version, 1);
 * assert.deepEqual(line.tickets, [ticket]);
 * await store.close();
 * ```
 */
export async function openKvLines(path: string): Promise<LineStore> {
  const kv = await Deno.openKv(path);
  let queue: { write: Write; done: PromiseWithResolvers<void> }[] = [];
  let draining: Promise<void> | undefined;

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_MUTATIONS_PER_COMMIT);
      queue = queue.slice(batch.length);
      // A key saved twice in one batch (a line's head, mostly) is written once, as last saved.
      const latest = new Map(batch.map(({ write }) => [JSON.stringify(write.key), write]));
      const operation = kv.atomic();
      for (const write of latest.values()) operation.set(write.key, write.value);
      try {
        await operation.commit();
        for (const { done } of batch) done.resolve();
      } catch (error) {
        for (const { done } of batch) done.reject(error);
      }
    }
    draining = undefined;
  }

  return {
    async load(): Promise<StoredLine[]> {
      const lines = new Map<string, { head: LineHead; tickets: Ticket[] }>();
      const lineOf = (product: string) => {
        let line = lines.get(product);
        if (line === undefined) lines.set(product, line = { head: undefined!, tickets: [] });
        return line;
      };
      for await (const entry of kv.list<LineHead | KeptTicket>({ prefix: LINES_PREFIX })) {
        const [, product, kind, id] = entry.key as [string, string, string, string?];
        if (kind === "head") lineOf(product).head = entry.value as LineHead;
        else lineOf(product).tickets.push({ id: id!, ...(entry.value as KeptTicket) });
      }
      // Tickets are written after or with their head: a line without one keeps none.
      return [...lines].filter(([, line]) => line.head !== undefined)
        .map(([product, line]) => ({ product, ...line }));
    },
    save(product: string, head: LineHead, tickets: readonly Ticket[]): Promise<void> {
      const writes: Write[] = [{ key: [...LINES_PREFIX, product, "head"], value: head }];
      for (const { id, session, client, number, used, late } of tickets) {
        writes.push({
          key: [...LINES_PREFIX, product, "ticket", id],
          value: { session, client, number: late ? number : null, used, late },
        });
      }
      const done = writes.map((write) => {
        const entry = { write, done: Promise.withResolvers<void>() };
        queue.push(entry);
        return entry.done.promise;
      });
      draining ??= drain();
      return Promise.all(done).then(() => {});
    },
    async close(): Promise<void> {
      while (draining !== undefined) await draining;
      kv.close();
    },
  };
}
