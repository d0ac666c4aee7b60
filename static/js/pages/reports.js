/**
 * /reports: reviews across sessions for staff (GET /api/reports/...). Pick a series (or, as an admin or
 * support, an instructor; an instructor reads their own), then read attendance per participant with the
 * low-attendance rows named in words, punctuality, help-queue waits and feedback over time, drawn as
 * charts with the figures in words and in the table beside them; each table downloads as CSV.
 */

import { call } from '../signin/http.js';
import { signedIn } from '../signin/page.js';
import { byId, el, problem, status } from '../signin/view.js';
import { describe, drawTrend, lineStyle, SHAPE_NAMES } from '../reports/trend-chart.js';

const TABLES = ['attendance', 'punctuality', 'help', 'feedback'];
const SVG = 'http://www.w3.org/2000/svg';
let current = null; // the report shown, for redrawing the charts at a new width

const dateText = (iso) => new Date(iso).toLocaleDateString([], { day: 'numeric', month: 'short', year: 'numeric' });
const shortDate = (iso) => new Date(iso).toLocaleDateString([], { day: 'numeric', month: 'short' });
const timeText = (iso) => (iso ? new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }) : '');
const percent = (rate) => (rate === null || rate === undefined ? '—' : `${Math.round(rate * 100)}%`);

/** 45 s, 2 min 36 s, 1 h 5 min, 7 d 40 min. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.round(Math.abs(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
  const m = Math.round(s / 60);
  if (m < 24 * 60) return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m / 60} h`;
  const d = Math.floor(m / 1440);
  const rest = m % 1440;
  const h = Math.floor(rest / 60);
  return [`${d} d`, h ? `${h} h` : '', rest % 60 ? `${rest % 60} min` : ''].filter(Boolean).join(' ');
}

function lateness(seconds) {
  if (seconds === null || seconds === undefined) return 'not started';
  if (Math.abs(seconds) < 30) return 'on time';
  return seconds > 0 ? `${duration(seconds)} late` : `${duration(seconds)} early`;
}

function range(form) {
  const params = new URLSearchParams();
  for (const name of ['from', 'to']) {
    const local = form.elements[name].value;
    if (local) params.set(name, new Date(local).toISOString());
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

function basePath(form) {
  const kind = form.elements.kind.value;
  if (kind === 'series') return `/api/reports/series/${encodeURIComponent(form.elements.series.value)}`;
  return `/api/reports/instructors/${encodeURIComponent(form.elements.instructor.value)}`;
}

function sessionLabel(sessions, id) {
  const s = sessions.find((x) => x.id === id);
  return s ? `${dateText(s.starts_at)}, ${s.topic}` : id;
}

function warningText(row) {
  const told = row.warned_at ? `instructor told on ${dateText(row.warned_at)}` : row.warning === 'pending' || row.warning === 'running' ? 'mail to the instructor queued' : '';
  if (row.low) return told ? `Low attendance: ${told}` : 'Low attendance';
  return told ? `Earlier low: ${told}` : '';
}

function fill(tableId, rows) {
  const body = byId(tableId).tBodies[0];
  body.replaceChildren(...rows);
  return body;
}

function showAttendance(report) {
  const { rate, min_sessions: min } = report.threshold;
  byId('att-rule').textContent = rate > 0
    ? `Low attendance is below ${percent(rate)} once ${min} ${min === 1 ? 'session counts' : 'sessions count'}; the Warning column names it. An excused absence counts neither way. The instructor is mailed once per series and person.`
    : 'Low-attendance warnings are turned off (COMPANION_LOW_ATTENDANCE=0).';
  const rows = report.attendance.map((r) => el('tr', { class: r.low ? 'report-low' : null }, [
    el('th', { scope: 'row', text: r.name }),
    el('td', { class: 'num', text: percent(r.rate) }),
    el('td', { class: 'report-warning', text: warningText(r) }),
    el('td', { class: 'num', text: r.sessions }),
    el('td', { class: 'num', text: r.attended }),
    el('td', { class: 'num', text: r.late }),
    el('td', { class: 'num', text: r.absent }),
    el('td', { class: 'num', text: r.excused }),
    el('td', { text: r.email }),
  ]));
  if (!rows.length) rows.push(el('tr', {}, [el('td', { colspan: '9', text: 'No closed sessions with a roster in this report.' })]));
  fill('attendance', rows);
}

function showPunctuality(report) {
  const rows = report.punctuality.map((p) => el('tr', {}, [
    el('th', { scope: 'row', text: sessionLabel(report.sessions, p.session_id) }),
    el('td', { text: timeText(p.scheduled) }),
    el('td', { text: timeText(p.started_at) || 'not started' }),
    el('td', { text: lateness(p.late_by_s) }),
    el('td', { text: p.delay_minutes ? `${p.delay_minutes} min` : 'none' }),
  ]));
  if (!rows.length) rows.push(el('tr', {}, [el('td', { colspan: '5', text: 'No closed sessions in this report.' })]));
  fill('punctuality', rows);
}

function showHelp(report) {
  const rows = report.help.map((h) => el('tr', {}, [
    el('th', { scope: 'row', text: sessionLabel(report.sessions, h.session_id) }),
    el('td', { class: 'num', text: h.tickets }),
    el('td', { class: 'num', text: h.claimed }),
    el('td', { text: duration(h.median_wait_s) }),
    el('td', { text: duration(h.p90_wait_s) }),
    el('td', { text: duration(h.max_wait_s) }),
  ]));
  if (!rows.length) rows.push(el('tr', {}, [el('td', { colspan: '6', text: 'No closed sessions in this report.' })]));
  fill('help', rows);
}

/** The numeric questions asked across the report's sessions, in the order first asked. */
function questionsOf(report) {
  const out = new Map();
  for (const f of report.feedback) {
    for (const [id, q] of Object.entries(f.questions)) if (!out.has(id)) out.set(id, { id, text: q.text, kind: q.kind });
  }
  return [...out.values()];
}

function meanText(q, kind) {
  if (!q || q.mean === null || q.mean === undefined) return null;
  return kind === 'yesno' ? `${Math.round(q.mean * 100)}% yes` : `${q.mean.toFixed(1)} of 5`;
}

function showFeedbackTable(report, questions) {
  const head = byId('feedback').tHead.rows[0];
  head.replaceChildren(
    el('th', { scope: 'col', text: 'Session' }),
    el('th', { scope: 'col', text: 'Responses' }),
    ...questions.map((q) => el('th', { scope: 'col', text: q.text })),
  );
  const rows = report.feedback.map((f) => el('tr', {}, [
    el('th', { scope: 'row', text: sessionLabel(report.sessions, f.session_id) }),
    el('td', { class: 'num', text: f.responses }),
    ...questions.map((q) => el('td', {
      text: f.hidden ? 'not shown (fewer than 3 responses)' : meanText(f.questions[q.id], q.kind) ?? '—',
    })),
  ]));
  if (!rows.length) rows.push(el('tr', {}, [el('td', { colspan: String(2 + questions.length), text: 'No closed sessions in this report.' })]));
  fill('feedback', rows);
}

function legendSwatch(n) {
  const { shape, dash, index } = lineStyle(n);
  const box = document.createElementNS(SVG, 'svg');
  for (const [k, v] of Object.entries({ width: 28, height: 12, viewBox: '0 0 28 12', 'aria-hidden': 'true', focusable: 'false', class: 'trend-swatch' })) box.setAttribute(k, String(v));
  const line = document.createElementNS(SVG, 'line');
  for (const [k, v] of Object.entries({ x1: 1, x2: 27, y1: 6, y2: 6, class: `trend-line trend-line-${index}`, ...(dash ? { 'stroke-dasharray': dash } : {}) })) line.setAttribute(k, String(v));
  box.append(line);
  const r = 4;
  const m = shape === 'circle' ? document.createElementNS(SVG, 'circle') : shape === 'square' ? document.createElementNS(SVG, 'rect') : document.createElementNS(SVG, 'polygon');
  const attrs = shape === 'circle' ? { cx: 14, cy: 6, r } : shape === 'square' ? { x: 10, y: 2, width: 8, height: 8 }
    : shape === 'triangle' ? { points: '14,1 19,11 9,11' } : { points: '14,1 19,6 14,11 9,6' };
  for (const [k, v] of Object.entries({ ...attrs, class: `trend-marker trend-line-${index}` })) m.setAttribute(k, String(v));
  box.append(m);
  return box;
}

const SCALES = {
  rating: { title: 'Ratings, 1 to 5 (mean per session)', min: 1, max: 5, ticks: [1, 2, 3, 4, 5], format: (v) => v.toFixed(1) },
  yesno: { title: 'Share answering yes (per session)', min: 0, max: 1, ticks: [0, 0.25, 0.5, 0.75, 1], format: (v) => `${Math.round(v * 100)}%` },
};

function showCharts(report, questions) {
  const holder = byId('fb-charts');
  holder.replaceChildren();
  const labels = report.feedback.map((f) => shortDate(f.starts_at));
  for (const kind of ['rating', 'yesno']) {
    const qs = questions.filter((q) => q.kind === kind);
    if (!qs.length || report.feedback.length === 0) continue;
    const scale = SCALES[kind];
    const lines = qs.map((q) => ({ name: q.text, values: report.feedback.map((f) => (f.hidden ? null : f.questions[q.id]?.mean ?? null)) }));
    const id = `chart-${kind}`;
    const box = el('div', { class: 'trend-box' });
    const words = el('p', { id: `${id}-text`, class: 'visually-hidden', text: describe({ labels, lines, scale }) });
    const legend = el('ul', { class: 'trend-legend' }, lines.map((line, n) => {
      const item = el('li', {}, [el('span', { text: `${line.name} (${SHAPE_NAMES[lineStyle(n).shape]})` })]);
      item.prepend(legendSwatch(n));
      return item;
    }));
    const figure = el('figure', { class: 'trend', 'aria-labelledby': `${id}-title`, 'aria-describedby': `${id}-text` }, [
      el('figcaption', { id: `${id}-title`, text: scale.title }),
      box,
      legend,
      words,
    ]);
    holder.append(figure);
    drawTrend(box, { labels, lines, scale, title: scale.title });
  }
  if (!holder.children.length) holder.append(el('p', { class: 'empty', text: 'No rated feedback in this report yet.' }));
  holder.append(el('p', { class: 'hint', text: 'The table below has the same figures. A session with fewer than 3 responses to an anonymous form shows none, so that nobody’s answer can be told.' }));
}

function showReport(report, path, query) {
  current = report;
  const scope = report.scope;
  const counted = report.sessions.filter((s) => s.counted).length;
  const cancelled = report.sessions.filter((s) => s.status === 'cancelled').length;
  byId('report-title').textContent = scope.kind === 'series'
    ? `Series “${scope.topic ?? ''}” (${scope.instructor_email ?? ''})`
    : `Instructor ${scope.name ? `${scope.name} (${scope.instructor_email})` : scope.instructor_email}`;
  const parts = [`${report.sessions.length} ${report.sessions.length === 1 ? 'session' : 'sessions'}`, `${counted} closed`];
  if (cancelled) parts.push(`${cancelled} cancelled`);
  byId('report-summary').textContent = `${parts.join(', ')}. Only closed sessions are counted; cancelled ones never are.`;
  const fromCounts = report.sessions.filter((s) => Object.values(s.source || {}).includes('counts')).length;
  byId('report-notes').replaceChildren(...(fromCounts
    ? [el('li', { text: `${fromCounts} ${fromCounts === 1 ? 'session’s' : 'sessions’'} records were purged: their figures come from the counts kept at the purge, with no row per participant.` })]
    : []));
  showAttendance(report);
  showPunctuality(report);
  showHelp(report);
  const questions = questionsOf(report);
  showFeedbackTable(report, questions);
  for (const table of TABLES) byId(`csv-${table}`).href = `${path}/${table}.csv${query}`;
  byId('report').hidden = false;
  showCharts(report, questions); // once shown: drawn at the width of their box
}

async function show(form) {
  const path = basePath(form);
  const query = range(form);
  status('Loading the report…');
  const report = await call('GET', `${path}${query}`);
  showReport(report, path, query);
  status(`Report loaded: ${report.sessions.length} ${report.sessions.length === 1 ? 'session' : 'sessions'}.`);
}

function setKind(form, kind) {
  form.elements.kind.value = kind;
  byId('series-field').hidden = kind !== 'series';
  byId('instructor-field').hidden = kind !== 'instructor';
}

async function main() {
  const me = await signedIn();
  if (!me) return;
  let listing;
  try {
    listing = await call('GET', '/api/reports');
  } catch (err) {
    problem(err.message);
    return;
  }
  const form = byId('pick');
  form.elements.series.append(...listing.series.map((s) => el('option', {
    value: s.series_id,
    text: `${s.topic} · ${s.instructor_email} · ${s.sessions} sessions from ${dateText(s.first_starts_at)}`,
  })));
  form.elements.instructor.append(...listing.instructors.map((i) => el('option', {
    value: i.email,
    text: i.name ? `${i.name} (${i.email})` : i.email,
  })));
  byId('pick-panel').hidden = false;
  byId('nothing').hidden = listing.series.length > 0 || me.role !== 'instructor';
  for (const radio of form.querySelectorAll('input[name="kind"]')) radio.addEventListener('change', () => setKind(form, radio.value));
  const run = () => show(form).catch((err) => problem(err.message));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run();
  });
  const fromUrl = new URLSearchParams(window.location.search);
  const asked = fromUrl.get('instructor') ? 'instructor' : fromUrl.get('series') ? 'series' : null;
  if (asked) {
    setKind(form, asked);
    const wanted = fromUrl.get(asked);
    form.elements[asked].value = wanted;
    if (form.elements[asked].value !== wanted) problem(`That ${asked} is not one you may read reports of, or there is no such ${asked}.`);
    else run();
  } else {
    setKind(form, listing.series.length ? 'series' : 'instructor');
    status(listing.series.length ? 'Choose a series or an instructor.' : 'Choose an instructor.');
  }
  let pending = null;
  window.addEventListener('resize', () => {
    clearTimeout(pending);
    pending = setTimeout(() => current && showCharts(current, questionsOf(current)), 150);
  });
}

main();
