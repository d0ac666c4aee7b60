/**
 * A feedback question's mean over the sessions of a report, as an SVG line chart built with the DOM (no
 * inline style or script): one line per question, each with its own marker shape and dash pattern so that
 * lines are told apart without colour, a gap where a session has no figure, and the same story in words
 * (`describe`) for the figure's caption. Drawn at the width of its box, so its labels stay readable.
 */

const SVG = 'http://www.w3.org/2000/svg';
const HEIGHT = 220;
const MARGIN = { top: 12, right: 16, bottom: 44, left: 44 };
const SHAPES = ['circle', 'square', 'triangle', 'diamond'];
export const SHAPE_NAMES = { circle: 'circles', square: 'squares', triangle: 'triangles', diamond: 'diamonds' };
const DASHES = ['', '6 3', '2 3', '8 3 2 3'];
const MIN_WIDTH = 280;
const LABEL_PX = 64; // about the width of a date label at 12 px

function svg(name, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

function marker(shape, x, y, cls) {
  const r = 4.5;
  if (shape === 'circle') return svg('circle', { cx: x, cy: y, r, class: cls });
  if (shape === 'square') return svg('rect', { x: x - r, y: y - r, width: 2 * r, height: 2 * r, class: cls });
  if (shape === 'triangle') return svg('polygon', { points: `${x},${y - r - 1} ${x + r + 1},${y + r} ${x - r - 1},${y + r}`, class: cls });
  return svg('polygon', { points: `${x},${y - r - 1} ${x + r + 1},${y} ${x},${y + r + 1} ${x - r - 1},${y}`, class: cls });
}

/** The shape and dash pattern of the i-th line. */
export function lineStyle(i) {
  return { shape: SHAPES[i % SHAPES.length], dash: DASHES[i % DASHES.length], index: i % SHAPES.length };
}

/**
 * Draw into `box` (replacing what it held).
 * labels: the sessions' x labels; lines: [{name, values: [number|null]}]; scale: {min, max, ticks, format(v)}.
 */
export function drawTrend(box, { labels, lines, scale, title }) {
  const width = Math.max(MIN_WIDTH, Math.floor(box.clientWidth || MIN_WIDTH));
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (i) => MARGIN.left + (labels.length <= 1 ? plotW / 2 : (plotW * i) / (labels.length - 1));
  const y = (v) => MARGIN.top + plotH - ((v - scale.min) / (scale.max - scale.min)) * plotH;
  const chart = svg('svg', { class: 'trend-chart', width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, 'aria-hidden': 'true', focusable: 'false' });
  for (const t of scale.ticks) {
    chart.append(svg('line', { class: 'trend-grid', x1: MARGIN.left, x2: width - MARGIN.right, y1: y(t), y2: y(t) }));
    chart.append(svg('text', { class: 'trend-tick trend-tick-y', x: MARGIN.left - 6, y: y(t) }, scale.format(t)));
  }
  chart.append(svg('line', { class: 'trend-axis', x1: MARGIN.left, x2: MARGIN.left, y1: MARGIN.top, y2: MARGIN.top + plotH }));
  chart.append(svg('line', { class: 'trend-axis', x1: MARGIN.left, x2: width - MARGIN.right, y1: MARGIN.top + plotH, y2: MARGIN.top + plotH }));
  // Every label when they fit, else every n-th (the first and the last always).
  const every = Math.max(1, Math.ceil((labels.length * LABEL_PX) / Math.max(1, plotW)));
  labels.forEach((label, i) => {
    if (i % every !== 0 && i !== labels.length - 1) return;
    const anchor = labels.length > 1 && i === labels.length - 1 ? 'end' : labels.length > 1 && i === 0 ? 'start' : 'middle';
    chart.append(svg('text', { class: `trend-tick trend-tick-x trend-anchor-${anchor}`, x: x(i), y: MARGIN.top + plotH + 18 }, label));
  });
  chart.append(svg('text', { class: 'trend-axis-title', x: MARGIN.left + plotW / 2, y: HEIGHT - 6 }, 'Session'));
  lines.forEach((line, n) => {
    const { shape, dash, index } = lineStyle(n);
    const cls = `trend-line trend-line-${index}`;
    let run = [];
    const flush = () => {
      if (run.length > 1) chart.append(svg('polyline', { class: cls, points: run.join(' '), ...(dash ? { 'stroke-dasharray': dash } : {}) }));
      run = [];
    };
    line.values.forEach((v, i) => {
      if (v === null || v === undefined) {
        flush();
        return;
      }
      run.push(`${x(i)},${y(v)}`);
    });
    flush();
    line.values.forEach((v, i) => {
      if (v !== null && v !== undefined) chart.append(marker(shape, x(i), y(v), `trend-marker trend-line-${index}`));
    });
  });
  box.replaceChildren(chart);
  box.dataset.title = title;
  return chart;
}

/** The chart in words: each line's figures in session order, and where there is none. */
export function describe({ labels, lines, scale }) {
  return lines
    .map((line, n) => {
      const { shape } = lineStyle(n);
      const parts = line.values.map((v, i) => `${labels[i]}: ${v === null || v === undefined ? 'no figure' : scale.format(v)}`);
      return `${line.name} (${SHAPE_NAMES[shape]}): ${parts.join('; ')}.`;
    })
    .join(' ');
}
