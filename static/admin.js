// The shop owner's dashboard: one event stream of the whole shop, shown as tables, charts and text.
// @ts-check
/// <reference lib="dom" />
import { createChart } from "./activity_chart.js";
import { ActivityHistory, summarize, summaryText } from "./activity_history.js";
import { showConnection } from "./connection.js";
import { backoffDelay } from "./live_state.js";
import { setText } from "./set_text.js";

const FEED_PATH = "/admin/feed";
const RESTOCK_PATH = "/admin/inventory";
/** An admin GET that tells whether the sign-in still holds when the feed fails. */
const SIGNED_IN_PATH = "/admin/products";
/** The feed is Server-Sent Events, by the name connection.js gives that transport. */
const TRANSPORT = "sse";

/**
 * @typedef {object} AdminProduct
 * A product as the feed tells of it.
 * @property {string} id
 * @property {string} name
 * @property {number} total
 * @property {number} held
 * @property {number} sold
 * @property {number} inventoryCount
 * @property {number} version
 * @property {boolean} retired
 */

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
  productRows: byId("product-rows"),
  restockStatus: byId("restock-status"),
  restockError: byId("restock-error"),
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
};
const numbers = new Intl.NumberFormat();
/** @type {Record<string, string>} */
const STORE_KINDS = {
  memory: "Memory (this process only)",
  kv: "Deno KV",
  redis: "Redis",
};
/** The product table's number columns: the field each shows, and its heading for stacked rows. */
const COLUMNS = /** @type {const} */ ([
  ["inventoryCount", "available", "Available"],
  ["held", "held", "Held"],
  ["sold", "sold", "Sold"],
  ["total", "total", "Total"],
  ["version", "version", "Version"],
]);

/** @type {Map<string, AdminProduct>} The products as last told, by id. */
const products = new Map();
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
 * Keeps a table body's rows in step with a list: one row per item, in the list's order, made
 * once and then updated in place (so that a restock being typed keeps its input).
 *
 * @template T
 * @param {HTMLElement} body The `<tbody>`.
 * @param {T[]} items The items.
 * @param {(item: T) => string} keyOf An item's key, kept in the row's `data-key`.
 * @param {(item: T) => HTMLTableRowElement} create Makes an item's row.
 * @param {(row: HTMLTableRowElement, item: T) => void} update Shows an item in its row.
 */
function syncRows(body, items, keyOf, create, update) {
  /** @type {Map<string, HTMLTableRowElement>} */
  const rows = new Map();
  for (const row of /** @type {HTMLCollectionOf<HTMLTableRowElement>} */ (body.children)) {
    rows.set(row.dataset.key ?? "", row);
  }
  let previous = /** @type {Element | null} */ (null);
  for (const item of items) {
    const key = keyOf(item);
    let row = rows.get(key);
    rows.delete(key);
    if (row === undefined) {
      row = create(item);
      row.dataset.key = key;
    }
    update(row, item);
    const next = previous === null ? body.firstElementChild : previous.nextElementSibling;
    if (next !== row) body.insertBefore(row, next);
    previous = row;
  }
  for (const row of rows.values()) row.remove();
}

/**
 * @param {string} className
 * @param {string} label The column's heading, shown beside the value in stacked rows.
 * @returns {HTMLTableCellElement}
 */
function numberCell(className, label) {
  const cell = document.createElement("td");
  cell.className = `num ${className}`;
  cell.dataset.label = label;
  return cell;
}

/**
 * Makes a product's row: its name, its numbers and a restock form.
 *
 * @param {AdminProduct} product
 * @returns {HTMLTableRowElement}
 */
function productRow(product) {
  const row = document.createElement("tr");
  row.dataset.product = product.id;
  const head = document.createElement("th");
  head.scope = "row";
  const name = document.createElement("span");
  name.className = "product-name";
  const id = document.createElement("span");
  id.className = "product-id";
  const state = document.createElement("span");
  state.className = "product-state";
  head.append(name, " ", id, " ", state);
  row.append(head);
  for (const [, className, label] of COLUMNS) row.append(numberCell(className, label));

  const cell = document.createElement("td");
  cell.className = "restock-cell";
  cell.dataset.label = "Restock";
  const form = document.createElement("form");
  form.className = "restock";
  const label = document.createElement("label");
  const labelText = document.createElement("span");
  labelText.className = "visually-hidden restock-label";
  const input = document.createElement("input");
  Object.assign(input, {
    type: "number",
    name: "total",
    min: "0",
    max: "1000000000",
    step: "1",
    required: true,
    inputMode: "numeric",
    className: "restock-input",
  });
  label.append(labelText, input);
  const button = document.createElement("button");
  button.type = "submit";
  button.className = "button secondary restock-button";
  button.textContent = "Set total";
  form.append(label, button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    restock(product.id, input, button);
  });
  cell.append(form);
  row.append(cell);
  return row;
}

/**
 * Shows a product in its row.
 *
 * @param {HTMLTableRowElement} row
 * @param {AdminProduct} product
 */
function showProduct(row, product) {
  const part = (
    /** @type {string} */ selector,
  ) => /** @type {HTMLElement} */ (row.querySelector(selector));
  setText(part(".product-name"), product.name);
  setText(part(".product-id"), product.id);
  setText(part(".product-state"), product.retired ? "Retired" : "");
  for (const [field, className] of COLUMNS) {
    setText(part(`.${className}`), numbers.format(product[field]));
  }
  row.dataset.version = String(product.version);
  row.dataset.retired = String(product.retired);
  setText(part(".restock-label"), `New total for ${product.name}`);
  const input = /** @type {HTMLInputElement} */ (part(".restock-input"));
  input.placeholder = String(product.total);
  input.disabled = product.retired;
  /** @type {HTMLButtonElement} */ (part(".restock-button")).disabled = product.retired;
}

function renderProducts() {
  syncRows(elements.productRows, [...products.values()], (p) => p.id, productRow, showProduct);
}

/**
 * Takes a product's newer state; an older one (a restock's answer overtaken by the feed) is
 * ignored.
 *
 * @param {AdminProduct} product
 */
function offerProduct(product) {
  const known = products.get(product.id);
  if (known !== undefined && known.version > product.version) return;
  products.set(product.id, { ...known, ...product });
  renderProducts();
}

/**
 * Sets a product's total from its row's form, and says how it went.
 *
 * @param {string} id The product.
 * @param {HTMLInputElement} input The new total.
 * @param {HTMLButtonElement} button The form's button, disabled while the request runs.
 */
async function restock(id, input, button) {
  const name = products.get(id)?.name ?? id;
  const total = Number(input.value);
  setText(elements.restockStatus, "");
  setText(elements.restockError, "");
  button.disabled = true;
  try {
    const response = await fetch(RESTOCK_PATH, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ product: id, total }),
    });
    const answer = await response.json().catch(() => ({}));
    if (response.ok) {
      input.value = "";
      const known = products.get(id);
      if (known !== undefined) {
        offerProduct({
          ...known,
          total: answer.total,
          held: answer.held,
          inventoryCount: answer.inventoryCount,
          version: answer.version,
        });
      }
      setText(
        elements.restockStatus,
        `${name}: total set to ${numbers.format(total)}, ` +
          `${numbers.format(answer.inventoryCount)} available.`,
      );
    } else {
      const reason = typeof answer.error === "string"
        ? answer.error
        : `the server answered ${response.status}`;
      setText(elements.restockError, `Restock of ${name} refused: ${reason}`);
    }
  } catch {
    setText(
      elements.restockError,
      `Could not reach the server to restock ${name}. Check the connection and try again.`,
    );
  } finally {
    button.disabled = products.get(id)?.retired ?? false;
  }
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
  products.clear();
  for (const product of snapshot.products) products.set(product.id, product);
  renderProducts();
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
    on("product", offerProduct);
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
