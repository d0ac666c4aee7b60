/**
 * Connected and checked-in counts over the session, as a small line chart (SVG built with the
 * DOM: no inline style or script). Samples are kept in memory for this page only, at most one
 * every SAMPLE_MS and MAX_SAMPLES in all (older ones thinned out), so a long session stays cheap.
 */

const SVG = 'http://www.w3.org/2000/svg';
const SAMPLE_MS = 5_000;
const MAX_SAMPLES = 360;
const WIDTH = 600;
const HEIGHT = 120;

function svg(name, attrs = {}) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** elements: {figure, caption}; clock.now() gives the synchronised time. */
export function createCountsHistory(elements, { clock }) {
  const samples = [];

  function points(key, top, t0, t1) {
    const span = Math.max(1, t1 - t0);
    return samples
      .map((s) => `${((s.t - t0) / span) * WIDTH},${HEIGHT - (s[key] / top) * HEIGHT}`)
      .join(' ');
  }

  function render() {
    const last = samples[samples.length - 1];
    elements.figure.replaceChildren();
    if (!last) return;
    const top = Math.max(1, last.expected, ...samples.map((s) => s.connected));
    const t0 = samples[0].t;
    const t1 = Math.max(last.t, t0 + 60_000);
    const chart = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'history-chart', 'aria-hidden': 'true' });
    chart.append(
      svg('line', { x1: 0, y1: HEIGHT, x2: WIDTH, y2: HEIGHT, class: 'history-axis' }),
      svg('polyline', { points: points('connected', top, t0, t1), class: 'history-connected' }),
      svg('polyline', { points: points('checked_in', top, t0, t1), class: 'history-checked-in' }),
    );
    // The latest values as dots, so the first sample shows before there is a line.
    const x = ((last.t - t0) / Math.max(1, t1 - t0)) * WIDTH;
    for (const [key, cls] of [['connected', 'history-connected'], ['checked_in', 'history-checked-in']]) {
      chart.append(svg('circle', { cx: x, cy: HEIGHT - (last[key] / top) * HEIGHT, r: 4, class: `${cls} history-dot` }));
    }
    elements.figure.append(chart);
    const minutes = Math.round((last.t - t0) / 60_000);
    elements.caption.textContent =
      `Over the last ${minutes} min: connected now ${last.connected} (peak ${Math.max(...samples.map((s) => s.connected))}), ` +
      `checked in ${last.checked_in} of ${last.expected}.`;
  }

  return {
    /** Record the counts as they are now (ignored when the last sample is too recent and equal). */
    add(counts) {
      const t = clock.now();
      const sample = {
        t, connected: counts.connected ?? 0, checked_in: counts.checked_in ?? 0, expected: counts.expected ?? 0,
      };
      const last = samples[samples.length - 1];
      const same = last && last.connected === sample.connected && last.checked_in === sample.checked_in;
      if (last && t - last.t < SAMPLE_MS) {
        if (same) return;
        samples[samples.length - 1] = { ...sample, t: last.t };
      } else {
        samples.push(sample);
      }
      if (samples.length > MAX_SAMPLES) samples.splice(1, samples.length - MAX_SAMPLES); // keep the start
      render();
    },
    render,
  };
}
