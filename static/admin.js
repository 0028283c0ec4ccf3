// The shop owner's dashboard: one event stream of the whole shop, shown as tables, charts and text.
// @ts-check
/// <reference lib="dom" />
import { createChart } from "./activity_chart.js";
import { ActivityHistory, summarize, summaryText } from "./activity_history.js";
import { showConnection } from "./connection.js";
import { backoffDelay } from "./live_state.js";
import { createProductTable } from "./admin_products.js";
import { createProductForm } from "./admin_product_form.js";
import { createRetireDialog } from "./admin_retire.js";
import { createDropPanels } from "./admin_drops.js";
import { createOrderTable } from "./admin_orders.js";
import { setText } from "./set_text.js";
import { numberCell, syncRows } from "./table_rows.js";

const FEED_PATH = "/admin/feed";
/** An admin GET that tells whether the sign-in still holds when the feed fails. */
const SIGNED_IN_PATH = "/admin/products";
/** The feed is Server-Sent Events, by the name connection.js gives that transport. */
const TRANSPORT = "sse";

/**
 * @typedef {object} TransportCounts
 * @property {number} websocket
 * @property {number} sse
 * @property {number} longPoll
 */

/**
 * @typedef {TransportCounts & { process: string, at: number }} ProcessWatchers
 * One process's watchers, and when it last said so.
 */

/**
 * @typedef {object} Watchers
 * @property {ProcessWatchers[]} processes
 * @property {TransportCounts} total
 */

/**
 * @typedef {object} StoreHealth
 * @property {string} kind "memory", "kv" or "redis".
 * @property {boolean} reachable
 * @property {string | null} lastError
 */

/**
 * @param {string} id
 * @returns {HTMLElement} The page's element of that id.
 */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const elements = {
  signedOut: byId("signed-out"),
  processLine: byId("process-line"),
  websocket: byId("watchers-websocket"),
  sse: byId("watchers-sse"),
  longPoll: byId("watchers-long-poll"),
  watchersTotal: byId("watchers-total"),
  processRows: byId("process-rows"),
  summary: byId("activity-summary"),
  historyStarted: byId("history-started"),
  storeKind: byId("store-kind"),
  storeReachable: byId("store-reachable"),
  storeError: byId("store-error"),
  storeAlert: byId("store-alert"),
};
const numbers = new Intl.NumberFormat();
/** @type {Record<string, string>} */
const STORE_KINDS = {
  memory: "Memory (this process only)",
  kv: "Deno KV",
  redis: "Redis",
};
/** The product dialog and the retire dialog need the table, and its rows need them. */
const rowActions = {
  /** @type {(product: any, opener: HTMLElement) => void} */
  edit: (product, opener) => productForm.edit(product, opener),
  /** @type {(product: any, opener: HTMLElement) => void} */
  retire: (product, opener) => askToRetire(product, opener),
};
const productTable = createProductTable({
  rows: byId("product-rows"),
  versions: byId("version-rows"),
  status: byId("products-status"),
  error: byId("products-error"),
}, rowActions);
const productForm = createProductForm({
  dialog: /** @type {HTMLDialogElement} */ (byId("product-dialog")),
  form: /** @type {HTMLFormElement} */ (byId("product-form")),
  title: byId("product-form-title"),
  note: byId("product-form-note"),
  error: byId("product-form-error"),
  save: /** @type {HTMLButtonElement} */ (byId("product-save")),
}, {
  done: (product) => productTable.offer(product),
  tell: productTable.tell,
  find: productTable.find,
  currency: () => shopCurrency,
});
const askToRetire = createRetireDialog({
  dialog: /** @type {HTMLDialogElement} */ (byId("retire-dialog")),
  form: /** @type {HTMLFormElement} */ (byId("retire-form")),
  title: byId("retire-title"),
  error: byId("retire-error"),
  confirm: /** @type {HTMLButtonElement} */ (byId("retire-confirm")),
}, { done: (product) => productTable.offer(product), tell: productTable.tell });
const addButton = byId("add-product");
addButton.addEventListener("click", () => productForm.add(addButton));
/** The currency a new product starts with: the first product's, as a shop sells in one. */
let shopCurrency = "";
const dropPanels = createDropPanels({
  section: byId("drops"),
  cards: byId("drop-cards"),
  status: byId("drop-status"),
  error: byId("drop-error"),
});
const orderTable = createOrderTable(
  { rows: byId("order-rows"), empty: byId("orders-empty") },
  (id) => productTable.find(id)?.name ?? id,
);
const history = new ActivityHistory();
/** The process that serves this page's feed. */
let feedProcess = "";

const unitsChart = createChart(byId("units-chart"), {
  title: "Holds, releases and sales per second",
  unit: "/s",
  lines: [
    { name: "holds", label: "Holds" },
    { name: "releases", label: "Releases" },
    { name: "sales", label: "Sales" },
  ],
});
const watchersChart = createChart(byId("watchers-chart"), {
  title: "Watchers",
  unit: "",
  lines: [{ name: "watchers", label: "Watchers" }],
});

/**
 * @param {number} ms Since the epoch.
 * @param {boolean} seconds Show seconds too.
 * @returns {string} The local time of day.
 */
function timeOf(ms, seconds = false) {
  return new Date(ms).toLocaleTimeString([], {
    hour: "2-digit",
    minute: "2-digit",
    ...(seconds ? { second: "2-digit" } : {}),
  });
}

/**
 * @param {TransportCounts} counts
 * @returns {number} Watchers over every transport.
 */
function watcherTotal(counts) {
  return counts.websocket + counts.sse + counts.longPoll;
}

/**
 * Shows the watchers now, by transport and by process.
 *
 * @param {Watchers} watchers
 */
function renderWatchers(watchers) {
  const { total } = watchers;
  setText(elements.websocket, numbers.format(total.websocket));
  setText(elements.sse, numbers.format(total.sse));
  setText(elements.longPoll, numbers.format(total.longPoll));
  setText(elements.watchersTotal, numbers.format(watcherTotal(total)));
  syncRows(elements.processRows, watchers.processes, (p) => p.process, () => {
    const row = document.createElement("tr");
    const head = document.createElement("th");
    head.scope = "row";
    head.className = "process-id";
    row.append(head);
    for (
      const [className, label] of [
        ["websocket", "WebSocket"],
        ["sse", "SSE"],
        ["long-poll", "Long poll"],
        ["total", "All"],
      ]
    ) row.append(numberCell(className, label));
    const at = document.createElement("td");
    at.className = "at";
    at.dataset.label = "As of";
    row.append(at);
    return row;
  }, (row, process) => {
    const cells = row.children;
    const own = process.process === feedProcess;
    setText(cells[0], own ? `${process.process} (this one)` : process.process);
    setText(cells[1], numbers.format(process.websocket));
    setText(cells[2], numbers.format(process.sse));
    setText(cells[3], numbers.format(process.longPoll));
    setText(cells[4], numbers.format(watcherTotal(process)));
    setText(cells[5], timeOf(process.at, true));
  });
}

/**
 * Shows the store's health.
 *
 * @param {StoreHealth} store
 */
function renderStore(store) {
  setText(elements.storeKind, STORE_KINDS[store.kind] ?? store.kind);
  setText(elements.storeReachable, store.reachable ? "Reachable" : "Not reachable");
  elements.storeReachable.dataset.reachable = String(store.reachable);
  setText(elements.storeError, store.lastError ?? "None");
  // The details are folded away; a store out of reach is news the owner must see at once.
  setText(
    elements.storeAlert,
    store.reachable ? "" : `The store cannot be reached: ${store.lastError ?? "no answer"}. ` +
      "Adds, sales and restocks fail until it is back.",
  );
}

function renderActivity() {
  const view = history.view();
  const text = summaryText(summarize(view));
  setText(elements.summary, text);
  unitsChart.update(view, text);
  watchersChart.update(view, text);
}

/**
 * Takes the feed's first message: everything as it stands.
 *
 * @param {any} snapshot
 */
function applySnapshot(snapshot) {
  feedProcess = String(snapshot.process);
  productTable.replace(snapshot.products);
  shopCurrency = snapshot.products[0]?.price?.currency ?? shopCurrency;
  dropPanels.replace(snapshot.drops ?? [], snapshot.products);
  orderTable.replace(snapshot.orders ?? []);
  history.reset(snapshot.activity, snapshot.startedAt);
  renderWatchers(snapshot.watchers);
  renderStore(snapshot.store);
  renderActivity();
  setText(elements.processLine, `Process ${feedProcess}, started at ${timeOf(snapshot.startedAt)}`);
  setText(elements.historyStarted, timeOf(snapshot.startedAt));
}

/**
 * Takes a second's news: its counts, the watchers and the store's health.
 *
 * @param {any} tick
 */
function applyTick(tick) {
  history.append(tick.at, {
    holds: tick.holds,
    releases: tick.releases,
    sales: tick.sales,
    watchers: watcherTotal(tick.watchers.total),
  });
  renderWatchers(tick.watchers);
  renderStore(tick.store);
  renderActivity();
}

/**
 * Tells whether the admin sign-in still holds (a failed feed may mean it ended).
 *
 * @returns {Promise<boolean>} False only when the server refuses it.
 */
async function stillSignedIn() {
  try {
    const response = await fetch(SIGNED_IN_PATH, { credentials: "same-origin", cache: "no-store" });
    await response.body?.cancel();
    return response.status !== 401 && response.status !== 403;
  } catch {
    return true;
  }
}

/**
 * Follows the feed over one EventSource. EventSource would retry on its own, every few seconds;
 * as the shop pages do (connection.js) we close it and retry with jittered backoff instead, and
 * stop for good when the sign-in has ended.
 */
function follow() {
  let attempt = 0;
  let everLive = false;
  const open = () => {
    const source = new EventSource(FEED_PATH);
    /**
     * @param {string} type
     * @param {(value: any) => void} apply
     */
    const on = (type, apply) =>
      source.addEventListener(type, (event) => {
        apply(JSON.parse(/** @type {MessageEvent<string>} */ (event).data));
        if (type !== "snapshot") return;
        everLive = true;
        attempt = 0;
        showConnection("live", TRANSPORT, attempt);
      });
    on("snapshot", applySnapshot);
    on("product", (product) => {
      productTable.offer(product);
      dropPanels.product(product);
    });
    on("drop", dropPanels.offer);
    on("order", orderTable.offer);
    on("tick", applyTick);
    source.onerror = () => {
      source.close();
      const delay = backoffDelay(attempt);
      attempt++;
      showConnection(everLive ? "reconnecting" : "connecting", TRANSPORT, attempt);
      stillSignedIn().then((signedIn) => {
        if (signedIn) {
          setTimeout(open, delay);
          return;
        }
        showConnection("ended", TRANSPORT, attempt);
        elements.signedOut.hidden = false;
      });
    };
  };
  showConnection("connecting", TRANSPORT, attempt);
  open();
}

document.documentElement.classList.remove("no-js");
follow();
