/** HTML templates: `{{name}}` filled with escaped text, `{{{name}}}` with trusted markup. */

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes text for HTML content and quoted attribute values.
 *
 * @param text Any text.
 * @returns The text with `& < > " '` replaced by entities.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(escapeHtml(`<a href="x">`), "&lt;a href=&quot;x&quot;&gt;");
 * assert.equal(escapeHtml(`Tom & Jerry's`), "Tom &amp; Jerry&#39;s");
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** HTML built by our own code from escaped parts, inserted as it is by `{{{name}}}`. */
export class TrustedHtml {
  /**
   * Marks markup as trusted.
   *
   * @param html The markup, built by our own code from escaped parts.
   */
  constructor(readonly html: string) {}
}

/**
 * Fills `{{name}}` placeholders with escaped values, and `{{{name}}}` with trusted HTML.
 *
 * @param template The template text.
 * @param values The value of each placeholder.
 * @returns The rendered text.
 * @throws {RangeError} When the template names a value that was not given, or puts text that is
 * not {@linkcode TrustedHtml} in a `{{{name}}}`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const html = renderTemplate("<p>{{name}}</p>{{{list}}}", {
 *   name: "<b>",
 *   list: new TrustedHtml("<ul></ul>"),
 * });
 * assert.equal(html, "<p>&lt;b&gt;</p><ul></ul>");
 * ```
 */
export function renderTemplate(
  template: string,
  values: Record<string, string | number | TrustedHtml>,
): string {
  return template.replace(/\{\{(\{?)\s*(\w+)\s*\}?\}\}/g, (_, raw: string, name: string) => {
    if (!(name in values)) throw new RangeError(`Template value "${name}" is missing`);
    const value = values[name];
    if (raw) {
      if (!(value instanceof TrustedHtml)) {
        throw new RangeError(`Template value "${name}" must be trusted HTML`);
      }
      return value.html;
    }
    return escapeHtml(value instanceof TrustedHtml ? value.html : String(value));
  });
}
