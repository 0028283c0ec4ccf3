// The dashboard's retire dialog: asks once more, then takes a product off sale (DELETE).
// @ts-check
/// <reference lib="dom" />
import { setText } from "./set_text.js";

/** The admin API's product, by id: `DELETE` retires it. */
const productPath = (/** @type {string} */ id) => `/admin/products/${encodeURIComponent(id)}`;

/**
 * @typedef {object} RetireElements
 * @property {HTMLDialogElement} dialog
 * @property {HTMLFormElement} form Its submit button retires; a `[data-close]` button keeps it.
 * @property {HTMLElement} title
 * @property {HTMLElement} error The dialog's alert line, for the API's refusals.
 * @property {HTMLButtonElement} confirm
 */

/**
 * @typedef {object} RetireActions
 * @property {(product: any) => void} done Takes the retired product the API answered with.
 * @property {(text: string) => void} tell Says what was done, in the page's status line.
 */

/**
 * Makes the retire dialog.
 *
 * @param {RetireElements} elements
 * @param {RetireActions} actions
 * @returns {(product: { id: string, name: string }, opener: HTMLElement) => void} Asks whether
 *   to retire a product, and does it when the owner confirms.
 */
export function createRetireDialog({ dialog, form, title, error, confirm }, actions) {
  /** @type {{ id: string, name: string } | undefined} */
  let asked;
  /** @type {HTMLElement | undefined} */
  let opener;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (asked === undefined) return;
    const { id, name } = asked;
    setText(error, "");
    confirm.disabled = true;
    try {
      const response = await fetch(productPath(id), {
        method: "DELETE",
        credentials: "same-origin",
        cache: "no-store",
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) {
        const reason = typeof answer.error === "string"
          ? answer.error
          : `the server answered ${response.status}`;
        setText(error, `Could not retire ${name}: ${reason}`);
        return;
      }
      actions.done(answer);
      // The row's retire button is disabled now: the focus goes to the row's heading instead.
      opener =
        /** @type {HTMLElement | undefined} */ (opener?.closest("tr")?.querySelector("th")) ??
          opener;
      dialog.close();
      actions.tell(`${name} is retired: its page says it is gone.`);
    } catch {
      setText(error, `Could not reach the server to retire ${name}. Try again.`);
    } finally {
      confirm.disabled = false;
    }
  });
  for (const button of form.querySelectorAll("[data-close]")) {
    button.addEventListener("click", () => dialog.close());
  }
  dialog.addEventListener("close", () => opener?.focus());

  return (product, from) => {
    asked = product;
    opener = from;
    setText(error, "");
    setText(title, `Retire ${product.name}?`);
    setText(confirm, `Retire ${product.name}`);
    dialog.showModal();
  };
}
