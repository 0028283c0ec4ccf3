// A line chart of the last hour, drawn as inline SVG through the DOM: no library, nothing inline.
// @ts-check
/// <reference lib="dom" />
import { columnPeaks, linePath, niceCeiling, spanMinutes } from "./activity_history.js";
import { setText } from "./set_text.js";

const SVG = "http://www.w3.org/2000/svg";
/** The plot's size in SVG units; it is stretched to its box, its lines kept thin by CSS. */
const WIDTH = 360;
const HEIGHT = 100;

/**
 * @typedef {object} ChartLine
 * @property {import("./activity_history.js").SeriesName} name The series it draws.
 * @property {string} label Its name in the legend, e.g. "Holds".
 */

/**
 * @typedef {object} Chart
 * @property {(view: import("./activity_history.js").ActivityView, description: string) => void}
 * update Draws the history, and gives the picture the words that describe it.
 */

/**
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string>} attributes
 * @returns {SVGElementTagNameMap[K]}
 */
function svgElement(tag, attributes = {}) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  return element;
}

/**
 * @param {string} tag
 * @param {string} className
 * @param {string} text
 * @returns {HTMLElement}
 */
function htmlElement(tag, className, text = "") {
  const element = document.createElement(tag);
  element.className = className;
  element.textContent = text;
  return element;
}

/**
 * Builds a chart of some series of the history into a container: a legend, the plot (an
 * `<svg role="img">` with a title and a description), its scale and its time axis.
 *
 * @param {HTMLElement} container Where the chart goes; its content is replaced.
 * @param {{ title: string, unit: string, lines: ChartLine[] }} options The chart's title (also
 * the picture's accessible name), the unit of its scale (e.g. "per second"), and its lines.
 * @returns {Chart} The chart, empty until its first update.
 */
export function createChart(container, options) {
  const id = container.id;
  const figure = htmlElement("figure", "chart");
  const caption = htmlElement("figcaption", "chart-caption");
  caption.append(htmlElement("span", "chart-title", options.title));
  const legend = htmlElement("ul", "chart-legend");
  for (const line of options.lines) {
    const item = htmlElement("li", `legend-item series-${line.name}`);
    item.append(htmlElement("span", "legend-swatch"), line.label);
    legend.append(item);
  }
  caption.append(legend);

  const svg = svgElement("svg", {
    role: "img",
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    preserveAspectRatio: "none",
    "aria-labelledby": `${id}-title`,
    "aria-describedby": `${id}-desc`,
    class: "chart-plot",
  });
  const title = svgElement("title", { id: `${id}-title` });
  title.textContent = options.title;
  const desc = svgElement("desc", { id: `${id}-desc` });
  svg.append(title, desc);
  for (const y of [0, HEIGHT / 2, HEIGHT]) {
    svg.append(
      svgElement("line", {
        class: "chart-grid",
        x1: "0",
        x2: String(WIDTH),
        y1: String(y),
        y2: String(y),
      }),
    );
  }
  /** @type {Map<string, SVGPathElement>} */
  const paths = new Map();
  for (const line of options.lines) {
    const path = svgElement("path", {
      class: `chart-line series-${line.name}`,
      d: "",
      // The plot is stretched to its box: its lines keep their width.
      "vector-effect": "non-scaling-stroke",
    });
    paths.set(line.name, path);
    svg.append(path);
  }

  const scale = htmlElement("div", "chart-scale");
  const top = htmlElement("span", "chart-top");
  const middle = htmlElement("span", "chart-middle");
  scale.append(top, middle, htmlElement("span", "chart-bottom", "0"));
  const body = htmlElement("div", "chart-body");
  body.append(scale, svg);
  const axis = htmlElement("div", "chart-axis");
  axis.setAttribute("aria-hidden", "true");
  const oldest = htmlElement("span", "chart-oldest");
  const halfway = htmlElement("span", "chart-halfway");
  axis.append(oldest, halfway, htmlElement("span", "", "now"));
  figure.append(caption, body, axis);
  container.replaceChildren(figure);

  return {
    update(view, description) {
      const first = Math.round(view.start / view.stepMs);
      const length = view.series.holds.length;
      const minutes = spanMinutes((length * view.stepMs) / 1_000);
      // Buckets in the span, and how many a column of the plot stands for (at least one).
      const buckets = (minutes * 60_000) / view.stepMs;
      const perColumn = Math.ceil(buckets / WIDTH);
      const columns = options.lines.map((line) =>
        columnPeaks(view.series[line.name], perColumn, Number.isFinite(first) ? first : 0)
      );
      const peak = niceCeiling(Math.max(0, ...columns.flat()));
      const slots = Math.ceil(buckets / perColumn);
      options.lines.forEach((line, i) => {
        const d = linePath(columns[i], { width: WIDTH, height: HEIGHT, slots, top: peak });
        paths.get(line.name)?.setAttribute("d", d);
      });
      setText(oldest, `${minutes} min ago`);
      setText(halfway, `${minutes / 2} min ago`);
      setText(top, `${peak} ${options.unit}`);
      setText(middle, Number.isInteger(peak / 2) ? String(peak / 2) : "");
      setText(desc, description);
    },
  };
}
