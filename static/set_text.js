// The pages' one way to change an element's text: only when it differs.
// @ts-check
/// <reference lib="dom" />

/**
 * Sets an element's text when it differs from the text it has. A live region announces every
 * change, so touching it only for real news keeps screen readers quiet; a change a second of the
 * same text also costs no layout.
 *
 * @param {Element} element The element.
 * @param {string} text Its new text.
 */
export function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}
