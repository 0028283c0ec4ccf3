/**
 * A shopper process of `bench/drop.ts`: its share of the shoppers (each joins from its address,
 * buys when the line reaches its number) and of the pages watching the drop.
 */
import { parseArgs } from "node:util";
import { loopbackAddress } from "../tests/support/from_address.ts";
import { wallClock } from "../tests/support/fleet.ts";
import { readMessages } from "./load_protocol.ts";
import { AddressedConnection } from "./addressed_http.ts";
import type { DropOrder, DropReport, Purchase } from "./drop_protocol.ts";
import { openQueuePage, type QueueMessage, type QueuePage } from "./queue_page.ts";
import type { Transport } from "./subscribers.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    url: { type: "string" },
    product: { type: "string" },
    first: { type: "string" },
    shoppers: { type: "string" },
    addresses: { type: "string" },
    "deadline-ms": { type: "string" },
  },
});
const [FIRST, SHOPPERS, ADDRESSES, DEADLINE_MS] = [
  values.first,
  values.shoppers,
  values.addresses,
  values["deadline-ms"],
].map(Number);
if (
  !values.url || !values.product ||
  ![FIRST, SHOPPERS, ADDRESSES, DEADLINE_MS].every((n) => Number.isSafeInteger(n) && n >= 0)
) {
  console.error(
    "drop_child: needs --url, --product, --first, --shoppers, --addresses, --deadline-ms",
  );
  Deno.exit(2);
}
const base = new URL(values.url);
const PRODUCT = values.product;
const JSON_POST = { "content-type": "application/json", origin: base.origin };
// The process ends itself when the run's time is up, even if the bench is gone.
AbortSignal.timeout(DEADLINE_MS).addEventListener("abort", () => Deno.exit(3));

const out = Deno.stdout.writable.getWriter();
const encoder = new TextEncoder();
const send = (report: DropReport) => out.write(encoder.encode(JSON.stringify(report) + "\n"));

/** One shopper: its address and session; the ticket and number once known. */
interface Shopper {
  readonly index: number;
  readonly address: string;
  readonly session: string;
  number?: number;
}
const shoppers: Shopper[] = Array.from({ length: SHOPPERS }, (_, k) => ({
  index: FIRST + k,
  address: loopbackAddress((FIRST + k) % ADDRESSES),
  session: crypto.randomUUID(),
}));

/** Runs `work` on every item, at most `concurrency` at once. */
async function eachAtMost<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** Sends one request on a connection of its own from `address`, the way a fresh page does. */
async function once(
  address: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
) {
  const connection = await AddressedConnection.open(base, address);
  try {
    return await connection.request(method, path, headers, body);
  } finally {
    connection.close();
  }
}

async function join(path: string, concurrency: number): Promise<void> {
  const tickets: [number, string][] = [];
  const statuses: Record<string, number> = {};
  let firstError: string | undefined;
  await eachAtMost(shoppers, concurrency, async (shopper) => {
    let status = 0;
    try {
      const answer = await once(
        shopper.address,
        "POST",
        path,
        JSON_POST,
        JSON.stringify({ product: PRODUCT, session: shopper.session }),
      );
      status = answer.status;
      const { ticket } = JSON.parse(answer.body);
      if (status === 200 && typeof ticket === "string") tickets.push([shopper.index, ticket]);
      else if (status !== 200) firstError ??= `${status} ${answer.body}`;
    } catch (error) {
      firstError ??= String(error);
    }
    statuses[status] = (statuses[status] ?? 0) + 1;
  });
  await send({ type: "joined", tickets, statuses, firstError });
}

/** A page as a shopper keeps it open: its connection now, reopened when the server drops it. */
interface PageSlot {
  readonly address: string;
  readonly transport: Transport;
  page?: QueuePage;
}
const pages: PageSlot[] = [];
const soldOutPages = new Set<PageSlot>();
let lastSoldOutAt = 0;
/** Pages whose connection ended and that opened it again, as our page's script does. */
let reopened = 0;
/** Pages that could not open their connection again. */
let lost = 0;
let firstLoss: string | undefined;
/** Each `servingUpTo` seen, with when; and the shoppers waiting for their number, lowest first. */
const servingUpTo: [number, number][] = [];
let highest = 0;
let waiting: Shopper[] = [];
const purchases: Purchase[] = [];
let soldOutTold = false;
/** Set when the bench has gone: dropped pages are not opened again. */
let closing = false;
/** Purchases under way: a report waits for them. */
const inFlight = new Set<Promise<void>>();

function onMessage(slot: PageSlot, message: QueueMessage): void {
  if (message.servingUpTo > highest) {
    highest = message.servingUpTo;
    servingUpTo.push([highest, wallClock()]);
    buyUpTo(highest);
  }
  if (message.phase === "soldOut" && !soldOutPages.has(slot)) {
    soldOutPages.add(slot);
    lastSoldOutAt = wallClock();
    tellSoldOut();
  }
}

function tellSoldOut(): void {
  if (soldOutTold || pages.length === 0 || soldOutPages.size < pages.length) return;
  soldOutTold = true;
  send({ type: "soldOut", at: lastSoldOutAt, pages: pages.length });
}

async function open(joinerPages: number, watchers: number): Promise<void> {
  // Joiners' pages come from their own addresses; the watchers' from every address in turn.
  const plans: { address: string; transport: Transport }[] = [
    ...shoppers.slice(0, joinerPages).map((shopper, k) => ({
      address: shopper.address,
      transport: (k % 2 ? "poll" : "ws") as Transport,
    })),
    ...Array.from({ length: watchers }, (_, k) => ({
      address: loopbackAddress((FIRST + k) % ADDRESSES),
      transport: (["ws", "sse", "poll"] as const)[k % 3],
    })),
  ];
  let failed = 0;
  let firstError: string | undefined;
  await eachAtMost(plans, 256, async (plan) => {
    const slot: PageSlot = { ...plan };
    try {
      await connect(slot);
      pages.push(slot);
    } catch (error) {
      failed++;
      firstError ??= `${plan.transport}: ${error}`;
    }
  });
  await send({ type: "opened", opened: pages.length, failed, firstError });
}

/** How often a dropped page tries to open its connection again, and the pause before each try. */
const REOPEN_TRIES = 5;
const REOPEN_PAUSE_MS = 500;

/** Opens a page's connection; when the server ends it, opens it again as our page's script does. */
async function connect(slot: PageSlot): Promise<void> {
  const page: QueuePage = await openQueuePage(base, slot.address, slot.transport, PRODUCT, {
    onMessage: (message) => onMessage(slot, message),
    onLost: (error) => {
      firstLoss ??= `${slot.transport}: ${error.message}`;
      if (slot.page === page) reopen(slot);
    },
  });
  slot.page = page;
  // Its first message came before the page was kept.
  onMessage(slot, page.latest);
}

async function reopen(slot: PageSlot): Promise<void> {
  slot.page = undefined;
  for (let tries = 0; tries < REOPEN_TRIES && !closing; tries++) {
    // Spread like the page's own backoff, so that dropped pages do not all come back at once.
    await new Promise((resolve) => setTimeout(resolve, REOPEN_PAUSE_MS * (1 + Math.random())));
    try {
      await connect(slot);
      reopened++;
      return;
    } catch {
      // Tried again below, a few times.
    }
  }
  if (!closing) lost++;
}

function buyUpTo(servingUpTo: number): void {
  let admitted = 0;
  while (admitted < waiting.length && waiting[admitted].number! <= servingUpTo) admitted++;
  for (const shopper of waiting.splice(0, admitted)) {
    const buying = buy(shopper);
    buying.finally(() => inFlight.delete(buying));
    inFlight.add(buying);
  }
}

/** An admitted shopper asks its turn, adds its unit and checks out, on one connection. */
async function buy(shopper: Shopper): Promise<void> {
  const cookie = { cookie: `sid=${shopper.session}` };
  const body = (action: string) =>
    JSON.stringify({ action, product: PRODUCT, session: shopper.session });
  let turn = { number: null as number | null, admitted: false };
  let add = 0;
  let checkout = 0;
  let checkoutSent = 0;
  let checkoutAnswered = 0;
  let connection: AddressedConnection | undefined;
  try {
    connection = await AddressedConnection.open(base, shopper.address);
    const asked = await connection.request("GET", `/queue?product=${PRODUCT}`, cookie);
    if (asked.status === 200) turn = JSON.parse(asked.body);
    add = (await connection.request("POST", "/cart", JSON_POST, body("add"))).status;
    if (add === 200) {
      checkoutSent = wallClock();
      checkout = (await connection.request("POST", "/cart", JSON_POST, body("checkout"))).status;
      checkoutAnswered = wallClock();
    }
  } catch (error) {
    firstLoss ??= `buying: ${error}`;
  } finally {
    connection?.close();
  }
  purchases.push({
    shopper: shopper.index,
    number: shopper.number!,
    turn: { number: turn.number, admitted: turn.admitted },
    add,
    checkout,
    checkoutSent,
    checkoutAnswered,
  });
}

async function verify(concurrency: number): Promise<void> {
  let checked = 0;
  let mismatches = 0;
  let firstMismatch: { shopper: number; expected: number; got: number | null } | undefined;
  const numbered = shoppers.filter((shopper) => shopper.number !== undefined);
  await eachAtMost(numbered, concurrency, async (shopper) => {
    let got: number | null = null;
    try {
      const answer = await once(shopper.address, "GET", `/queue?product=${PRODUCT}`, {
        cookie: `sid=${shopper.session}`,
      });
      if (answer.status === 200) got = JSON.parse(answer.body).number;
    } catch {
      // Counted as a mismatch below: no number came back.
    }
    checked++;
    if (got !== shopper.number) {
      mismatches++;
      firstMismatch ??= { shopper: shopper.index, expected: shopper.number!, got };
    }
  });
  await send({ type: "verified", checked, mismatches, firstMismatch });
}

const byIndex = new Map(shoppers.map((shopper) => [shopper.index, shopper]));
await send({ type: "ready" });
// When stdin ends the bench has gone: close everything and exit.
for await (const order of readMessages<DropOrder>(Deno.stdin.readable)) {
  if (order.type === "join") await join(order.path, order.concurrency);
  else if (order.type === "open") await open(order.joinerPages, order.watchers);
  else if (order.type === "numbers") {
    for (const [index, number] of order.numbers) byIndex.get(index)!.number = number;
    waiting = shoppers.filter((shopper) => shopper.number !== undefined)
      .sort((a, b) => a.number! - b.number!);
    buyUpTo(highest);
  } else if (order.type === "report") {
    await Promise.allSettled([...inFlight]);
    await send({
      type: "report",
      purchases,
      servingUpTo,
      notSoldOut: pages.length - soldOutPages.size,
      reopened,
      lost,
      firstLoss,
    });
  } else if (order.type === "verify") await verify(order.concurrency);
  else break;
}
closing = true;
for (const slot of pages) slot.page?.close();
Deno.exit(0);
