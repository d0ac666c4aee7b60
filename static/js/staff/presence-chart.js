/**
 * Connected and checked in over the session as an SVG line chart with a time axis (x) and a people
 * axis (y), built with the DOM (no inline style or script), plus the same story in words for the
 * figure's caption. The SVG is drawn at the size of its box, so its labels stay readable at any width.
 */

import { clockTime } from '../lib/format.js';

const SVG = 'http://www.w3.org/2000/svg';
const HEIGHT = 200;
const MARGIN = { top: 10, right: 14, bottom: 40, left: 44 };
// The time axis spans at least this, the room on the right filling as the class goes on.
const MIN_SPAN_MS = 2 * 60 * 1000;
const TIME_STEPS_S = [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400];
const LABEL_HALF_PX = 42; // about half the width of "02:13:30 PM" at 12 px
const MAX_MARKERS = 150; // a dot per change while they are few enough to tell apart

function svg(name, attrs = {}, text = null) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== null) el.textContent = text;
  return el;
}

/** A round step for about `ticks` ticks from 0 to `top` (1, 2, 5, 10, 20, 50...). */
export function niceStep(top, ticks) {
  const raw = Math.max(1, top / Math.max(1, ticks));
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  return Math.max(1, Math.round(step));
}

/** The y-axis ticks for counts up to `top`: whole numbers from 0 to at least `top`. */
export function countTicks(top, ticks = 4) {
  const step = niceStep(top, ticks);
  const out = [];
  for (let v = 0; v < top + step; v += step) out.push(v);
  return out;
}

/** Time-axis ticks between t0 and t1 (ms), at most about `ticks`: {ticks: [ms], step (ms)}. */
export function timeTicks(t0, t1, ticks) {
  const span = Math.max(1, t1 - t0);
  const seconds = TIME_STEPS_S.find((s) => span / (s * 1000) <= Math.max(1, ticks)) ?? 28800;
  const step = seconds * 1000;
  const out = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) out.push(t);
  return { ticks: out, step };
}

/** A tick's label: "14:05", with seconds when the ticks are less than a minute apart. */
function tickText(t, step) {
  if (step >= 60_000) return clockTime(t);
  return new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** The checked-in count as steps: [{t, value}] from the check-in times (ms). */
function checkinSteps(times, t0) {
  const sorted = times.filter((t) => t !== null).sort((a, b) => a - b);
  const steps = [{ t: t0, value: sorted.filter((t) => t <= t0).length }];
  sorted.filter((t) => t > t0).forEach((t, i) => steps.push({ t, value: steps[0].value + i + 1 }));
  return steps;
}

/** A step line through the points, held flat to `t1` (now), as polyline points. */
function stepPoints(points, x, y, t1) {
  const out = [];
  points.forEach((p, i) => {
    if (i > 0) out.push(`${x(p.t)},${y(points[i - 1].value)}`);
    out.push(`${x(p.t)},${y(p.value)}`);
  });
  const last = points[points.length - 1];
  if (last) out.push(`${x(t1)},${y(last.value)}`);
  return out.join(' ');
}

/** "From 09:00 to 09:24", or "Since 09:00" while that is the same minute. */
function span(from, to) {
  return clockTime(from) === clockTime(to) ? `Since ${clockTime(from)}` : `From ${clockTime(from)} to ${clockTime(to)}`;
}

/** The story in words: the span, now, the peak and the low since the first join, check-ins. */
export function presenceSummary({ samples, checkins, expected, t1 }) {
  if (samples.length === 0) return 'Nobody has connected yet.';
  const first = samples[0];
  const now = samples[samples.length - 1];
  const peak = samples.reduce((best, s) => (s.connected > best.connected ? s : best), first);
  const checkedIn = checkins.filter((t) => t !== null && t <= t1).length;
  const parts = [
    `${span(first.t, t1)}: connected now ${now.connected} of ${expected}`,
    `peak ${peak.connected} at ${clockTime(peak.t)}`,
  ];
  const afterPeak = samples.filter((s) => s.t > peak.t);
  if (afterPeak.length) {
    const low = afterPeak.reduce((best, s) => (s.connected < best.connected ? s : best), afterPeak[0]);
    if (low.connected < peak.connected) parts.push(`lowest since ${low.connected} at ${clockTime(low.t)}`);
  }
  return `${parts.join(', ')}; checked in ${checkedIn} of ${expected}.`;
}

/**
 * elements: {figure (the box the SVG goes in), caption}.
 * data(): {samples [{t, connected}], checkins [ms], expected, now, loaded}.
 */
export function createPresenceChart(elements, { data }) {
  function render() {
    const { samples, checkins, expected, now, loaded } = data();
    const width = Math.max(280, Math.round(elements.figure.clientWidth || 600));
    elements.figure.replaceChildren();
    const points = samples.map((s) => ({ t: s.t, value: s.connected }));
    const end = Math.max(now, points.length ? points[points.length - 1].t : now); // the data ends now
    const t0 = points.length ? Math.min(points[0].t, end) : end - MIN_SPAN_MS;
    const t1 = Math.max(end, t0 + MIN_SPAN_MS); // the axis: room to the right early in the class
    const peak = Math.max(0, ...points.map((p) => p.value));
    const top = countTicks(Math.max(1, expected, peak)).at(-1);
    const plotW = width - MARGIN.left - MARGIN.right;
    const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
    const x = (t) => (MARGIN.left + ((t - t0) / Math.max(1, t1 - t0)) * plotW).toFixed(1);
    const y = (v) => (MARGIN.top + plotH - (v / top) * plotH).toFixed(1);
    const summary = presenceSummary({ samples, checkins, expected, t1: end }) +
      (loaded ? '' : ' (Counted since this page opened: the server’s history did not load.)');

    const chart = svg('svg', {
      viewBox: `0 0 ${width} ${HEIGHT}`, width, height: HEIGHT, class: 'history-chart', role: 'img',
      'aria-labelledby': 'history-svg-title history-svg-desc', 'data-points': points.length,
    });
    chart.append(
      svg('title', { id: 'history-svg-title' }, 'Connected and checked in over time'),
      svg('desc', { id: 'history-svg-desc' }, summary),
    );
    // The y axis: people, whole numbers, with grid lines.
    for (const v of countTicks(top)) {
      chart.append(
        svg('line', { x1: MARGIN.left, x2: width - MARGIN.right, y1: y(v), y2: y(v), class: v === 0 ? 'history-axis' : 'history-grid' }),
        svg('text', { x: MARGIN.left - 6, y: y(v), class: 'history-tick history-tick-y' }, String(v)),
      );
    }
    // The x axis: clock times on whole minutes.
    const time = timeTicks(t0, t1, Math.floor(plotW / 90));
    for (const t of time.ticks) {
      chart.append(
        svg('line', { x1: x(t), x2: x(t), y1: MARGIN.top + plotH, y2: MARGIN.top + plotH + 4, class: 'history-axis' }),
        // A label near the right edge ends at its tick rather than running off the chart.
        svg('text', {
          x: x(t), y: MARGIN.top + plotH + 16,
          class: `history-tick history-tick-x${x(t) > width - LABEL_HALF_PX ? ' history-tick-end' : ''}`,
        }, tickText(t, time.step)),
      );
    }
    chart.append(
      svg('line', { x1: MARGIN.left, x2: MARGIN.left, y1: MARGIN.top, y2: MARGIN.top + plotH, class: 'history-axis' }),
      svg('text', { x: MARGIN.left + plotW / 2, y: HEIGHT - 4, class: 'history-axis-title' }, 'Time'),
      svg('text', {
        x: 12, y: MARGIN.top + plotH / 2, class: 'history-axis-title',
        transform: `rotate(-90 12 ${MARGIN.top + plotH / 2})`,
      }, 'People'),
    );
    chart.append(
      svg('polyline', { points: stepPoints(checkinSteps(checkins, t0), x, y, end), class: 'history-checked-in' }),
      svg('polyline', { points: stepPoints(points, x, y, end), class: 'history-connected' }),
    );
    if (points.length <= MAX_MARKERS) {
      for (const p of points) chart.append(svg('circle', { cx: x(p.t), cy: y(p.value), r: 2.5, class: 'history-connected history-dot' }));
    }
    const last = points[points.length - 1];
    if (last) chart.append(svg('circle', { cx: x(end), cy: y(last.value), r: 4, class: 'history-connected history-dot' }));
    elements.figure.append(chart);
    elements.caption.textContent = summary;
  }

  return { render };
}
