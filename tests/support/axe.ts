/** Accessibility checks for browser tests: axe-core's rules run in the page as it stands. */
import axe from "axe-core";
import type { Page } from "playwright-core";

/** One rule a page breaks, and where. */
export interface AxeViolation {
  /** The rule's id, e.g. `color-contrast`. */
  readonly id: string;
  /** What the rule asks for. */
  readonly help: string;
  /** CSS selectors of the elements that break it. */
  readonly targets: readonly string[];
}

/**
 * Runs axe-core's WCAG 2 A and AA rules on the page as it is now, once its CSS transitions end.
 *
 * The script goes in through the DevTools protocol (`page.evaluate`), not a `<script>` tag, so the
 * page's Content-Security-Policy, which allows only our own files, neither blocks nor reports it.
 *
 * @param page The page, in the state to check.
 * @returns The rules it breaks; none when it is clean.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  // Colours are measured as they end: a button just enabled is still fading in.
  await page.evaluate(() =>
    Promise.all(
      document.getAnimations()
        .filter((animation) => animation instanceof CSSTransition)
        .map((animation) => animation.finished),
    )
  );
  const loaded = await page.evaluate(() => "axe" in globalThis);
  if (!loaded) await page.evaluate(axe.source);
  return await page.evaluate(async () => {
    const run = (globalThis as unknown as { axe: typeof axe }).axe.run;
    const results = await run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return results.violations.map((violation) => ({
      id: violation.id,
      help: violation.help,
      targets: violation.nodes.map((node) => node.target.join(" ")),
    }));
  });
}
