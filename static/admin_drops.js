// The dashboard's drops: a card per product with an opening, its live status and its controls.
// @ts-check
/// <reference lib="dom" />
import { setText } from "./set_text.js";

/**
 * @typedef {object} DropStatus
 * A drop's status, as the admin feed and `/queue/status` tell it.
 * @property {string} product
 * @property {"before" | "queueing" | "open" | "soldOut"} phase
 * @property {string} opensAt
 * @property {number} servingUpTo
 * @property {number} queued
 * @property {number} free
 * @property {number} held
 * @property {number} admitRate
 * @property {boolean} paused
 * @property {number} version
 */

/**
 * @typedef {object} DropProduct
 * What the drops need of a product the feed tells of.
 * @property {string} id
 * @property {string} name
 * @property {string} [opensAt]
 * @property {boolean} retired
 */

/**
 * @typedef {object} DropPanels
 * @property {(drops: DropStatus[], products: DropProduct[]) => void} replace Shows these drops,
 *   and only these, named after these products.
 * @property {(drop: DropStatus) => void} offer Takes a drop's newer status.
 * @property {(product: DropProduct) => void} product Takes a product's news: its name, or that it
 *   has no drop any more.
 */

/** The owner's controls of a drop: `{"admitRate"?, "paused"?}`, answered with its status. */
const controlPath = (/** @type {string} */ id) => `/admin/products/${encodeURIComponent(id)}/queue`;

/** The most shoppers a second the admin API takes. */
const MAX_ADMIT_RATE = 10_000;

/** @type {Record<DropStatus["phase"], string>} The phases as the owner reads them. */
const PHASES = {
  before: "Before the queue opens",
  queueing: "Queue open, draw to come",
  open: "Open: admitting shoppers",
  soldOut: "Sold out",
};

/** The figures of a card: the class of each, and its name. */
const FIGURES = /** @type {const} */ ([
  ["phase", "Phase"],
  ["opens-at", "Opens at"],
  ["serving-up-to", "Serving up to"],
  ["queued", "Queued"],
  ["units", "Free / held"],
  ["admit-rate", "Admit rate"],
  ["admissions", "Admissions"],
]);

const numbers = new Intl.NumberFormat();

/**
 * @param {string} iso
 * @returns {string} The local date and time of day, or the text as given when it is no date.
 */
function openingText(iso) {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  return new Date(at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

/**
 * Makes the drops' cards in a section, which stays hidden while the shop has no drop, with the
 * status and error lines its controls report in.
 *
 * @param {{ section: HTMLElement, cards: HTMLElement, status: HTMLElement, error: HTMLElement }}
 *   elements
 * @returns {DropPanels}
 */
export function createDropPanels({ section, cards, status, error }) {
  /** @type {Map<string, DropStatus>} The drops as last told, by product id, in catalog order. */
  const drops = new Map();
  /** @type {Map<string, string>} The products' names, by id. */
  const names = new Map();
  /** @type {Map<string, HTMLElement>} Each drop's card, made once so a rate being typed stays. */
  const shown = new Map();

  const nameOf = (/** @type {string} */ id) => names.get(id) ?? id;

  /**
   * Makes a drop's card: its name, its figures, an admit-rate form and a pause button.
   *
   * @param {string} id The product.
   * @returns {HTMLElement}
   */
  function dropCard(id) {
    const card = document.createElement("article");
    card.className = "drop";
    card.dataset.product = id;
    const titleId = `drop-title-${crypto.randomUUID()}`;
    card.setAttribute("aria-labelledby", titleId);
    const title = document.createElement("h3");
    title.id = titleId;
    title.className = "drop-title";
    card.append(title);

    const figures = document.createElement("dl");
    figures.className = "figures drop-figures";
    for (const [className, label] of FIGURES) {
      const figure = document.createElement("div");
      const term = document.createElement("dt");
      term.textContent = label;
      const value = document.createElement(className === "opens-at" ? "time" : "span");
      value.className = className;
      const detail = document.createElement("dd");
      detail.append(value);
      figure.append(term, detail);
      figures.append(figure);
    }
    card.append(figures);

    const controls = document.createElement("div");
    controls.className = "drop-controls";
    const pause = document.createElement("button");
    pause.type = "button";
    pause.className = "button secondary pause-button";
    const pauseText = document.createElement("span");
    pauseText.className = "pause-text";
    const pauseName = document.createElement("span");
    pauseName.className = "visually-hidden pause-name";
    pause.append(pauseText, pauseName);
    pause.addEventListener("click", () => {
      const paused = !(drops.get(id)?.paused ?? false);
      control(id, { paused }, pause, () => paused ? "admissions paused." : "admissions resumed.");
    });
    const form = document.createElement("form");
    form.className = "admit-rate";
    const label = document.createElement("label");
    label.className = "admit-rate-label";
    label.textContent = "New admit rate (shoppers a second)";
    // Each card's controls say whose they are, for a screen reader's list of controls.
    const labelName = document.createElement("span");
    labelName.className = "visually-hidden admit-rate-name";
    label.append(labelName);
    const input = document.createElement("input");
    input.id = `admit-rate-${crypto.randomUUID()}`;
    label.htmlFor = input.id;
    Object.assign(input, {
      type: "number",
      name: "admitRate",
      min: "1",
      max: String(MAX_ADMIT_RATE),
      step: "1",
      required: true,
      inputMode: "numeric",
      className: "admit-rate-input",
    });
    const set = document.createElement("button");
    set.type = "submit";
    set.className = "button secondary admit-rate-button";
    set.textContent = "Set rate";
    form.append(input, set);
    // The server's refusal names the rule; it goes to the alert line, which a screen reader
    // announces, where the browser's own bubble would not be.
    form.noValidate = true;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (input.value.trim() === "") {
        setText(status, "");
        setText(
          error,
          `Type an admit rate for ${nameOf(id)} first: ` +
            `a whole number from 1 to ${numbers.format(MAX_ADMIT_RATE)}.`,
        );
        input.focus();
        return;
      }
      const admitRate = Number(input.value);
      control(id, { admitRate }, set, () => {
        input.value = "";
        return `admit rate set to ${numbers.format(admitRate)} a second.`;
      });
    });
    // The label stands above the row, so the rate's field, its button and the pause line up.
    const row = document.createElement("div");
    row.className = "drop-control-row";
    row.append(form, pause);
    controls.append(label, row);
    card.append(controls);
    return card;
  }

  /**
   * Shows a drop in its card.
   *
   * @param {HTMLElement} card
   * @param {DropStatus} drop
   */
  function showDrop(card, drop) {
    const part = (
      /** @type {string} */ selector,
    ) => /** @type {HTMLElement} */ (card.querySelector(selector));
    const name = nameOf(drop.product);
    setText(part(".drop-title"), name);
    setText(part(".phase"), PHASES[drop.phase] ?? drop.phase);
    const opensAt = part(".opens-at");
    opensAt.setAttribute("datetime", drop.opensAt);
    setText(opensAt, openingText(drop.opensAt));
    setText(part(".serving-up-to"), numbers.format(drop.servingUpTo));
    setText(part(".queued"), numbers.format(drop.queued));
    setText(
      part(".units"),
      `${numbers.format(drop.free)} free, ${numbers.format(drop.held)} held`,
    );
    setText(part(".admit-rate"), `${numbers.format(drop.admitRate)} a second`);
    setText(part(".admissions"), drop.paused ? "Paused" : "Running");
    card.dataset.phase = drop.phase;
    card.dataset.paused = String(drop.paused);
    card.dataset.version = String(drop.version);
    setText(part(".admit-rate-name"), ` for ${name}`);
    /** @type {HTMLInputElement} */ (part(".admit-rate-input")).placeholder = String(
      drop.admitRate,
    );
    setText(part(".pause-text"), drop.paused ? "Resume admissions" : "Pause admissions");
    setText(part(".pause-name"), ` of ${name}`);
  }

  function render() {
    section.hidden = drops.size === 0;
    for (const [id, card] of shown) {
      if (drops.has(id)) continue;
      card.remove();
      shown.delete(id);
    }
    let previous = /** @type {Element | null} */ (null);
    for (const drop of drops.values()) {
      let card = shown.get(drop.product);
      if (card === undefined) {
        card = dropCard(drop.product);
        shown.set(drop.product, card);
      }
      showDrop(card, drop);
      const next = previous === null ? cards.firstElementChild : previous.nextElementSibling;
      if (next !== card) cards.insertBefore(card, next);
      previous = card;
    }
  }

  /**
   * Takes a drop's newer status; an older one (a control's answer overtaken by the feed) is
   * ignored.
   *
   * @param {DropStatus} drop
   */
  function offer(drop) {
    const known = drops.get(drop.product);
    if (known !== undefined && known.version > drop.version) return;
    drops.set(drop.product, drop);
    render();
  }

  /**
   * Sends the owner's controls of a drop, and says how it went.
   *
   * @param {string} id The product.
   * @param {{ admitRate?: number, paused?: boolean }} controls
   * @param {HTMLButtonElement} button The control's button, disabled while the request runs.
   * @param {() => string} done What was done, told once the server took it.
   */
  async function control(id, controls, button, done) {
    const name = nameOf(id);
    setText(status, "");
    setText(error, "");
    button.disabled = true;
    try {
      const response = await fetch(controlPath(id), {
        method: "POST",
        credentials: "same-origin",
        cache: "no-store",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(controls),
      });
      const answer = await response.json().catch(() => ({}));
      if (response.ok) {
        offer(answer);
        setText(status, `${name}: ${done()}`);
      } else {
        const reason = typeof answer.error === "string"
          ? answer.error
          : `the server answered ${response.status}`;
        setText(error, `Change to the drop of ${name} refused: ${reason}`);
      }
    } catch {
      setText(
        error,
        `Could not reach the server to change the drop of ${name}. ` +
          "Check the connection and try again.",
      );
    } finally {
      button.disabled = false;
    }
  }

  return {
    replace(list, products) {
      names.clear();
      for (const product of products) names.set(product.id, product.name);
      drops.clear();
      for (const drop of list) drops.set(drop.product, drop);
      render();
    },
    offer,
    product(product) {
      names.set(product.id, product.name);
      if (product.opensAt === undefined || product.retired) drops.delete(product.id);
      if (drops.has(product.id) || shown.has(product.id)) render();
    },
  };
}
