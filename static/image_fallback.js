// Shows our placeholder in place of a product picture that fails to load (an https:// image gone).
// @ts-check
/// <reference lib="dom" />

/** The picture of a product that has none, or whose own picture fails to load. */
const PLACEHOLDER = "/static/placeholder.svg";

/**
 * Puts the placeholder in place of an image that failed, once: a failing placeholder is left.
 *
 * @param {EventTarget | null} target What failed to load.
 * @returns {boolean} True when the target was an image that now shows the placeholder.
 */
function showPlaceholder(target) {
  if (!(target instanceof HTMLImageElement)) return false;
  if (new URL(target.src, location.href).pathname === PLACEHOLDER) return false;
  target.src = PLACEHOLDER;
  return true;
}

// An image's error does not bubble, so it is caught on its way down. Images that failed before
// this deferred module ran are found by their having finished with no size: only those of other
// sites, as an SVG of ours without a size of its own may have none.
document.addEventListener("error", (event) => showPlaceholder(event.target), true);
for (const image of document.images) {
  const elsewhere = image.src !== "" && new URL(image.src).origin !== location.origin;
  if (elsewhere && image.complete && image.naturalWidth === 0) showPlaceholder(image);
}
