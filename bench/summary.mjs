// Headline tables from classroom.mjs reports (as written by compare.sh), in Markdown.
//
//   node bench/summary.mjs targets DIR [--title TEXT] [--services FILE]
//       the headline figures for one setup, peer vs project with the ratio and each target met/missed
//   node bench/summary.mjs scale DIR...
//       how p99s, CPU and memory grow with N (one DIR per N)
//
// DIR holds peer-K.json / project-K.json; with several rounds each cell is the median.

import fs from 'node:fs';
import path from 'node:path';

const median = (values) => {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return undefined;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const get = (r, p) => (typeof p === 'function' ? p(r) : p.split('.').reduce((o, k) => o?.[k], r));
const fmt = (x, digits = 1) => (x === undefined || x === null ? '-' : typeof x === 'number' ? (Number.isInteger(x) ? String(x) : x.toFixed(digits)) : String(x));
const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && a > 0 ? `${(b / a).toFixed(2)}x` : '-');

function load(dir) {
  const sides = {};
  for (const f of fs.readdirSync(dir).filter((f) => /^(peer|project)-\d+\.json$/.test(f)).sort()) {
    const r = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    (sides[r.label || f.split('-')[0]] ??= []).push(r);
  }
  return sides;
}
const med = (runs, p) => median((runs ?? []).map((r) => get(r, p)));

// Generator CPU share: its CPU over the wall time, overall and in its busiest phase.
const genShare = (r) => (r.generator?.cpu_s ?? 0) / Math.max(r.wall_s ?? 1, 1e-3);
// Like classroom.mjs's warning, only phases of 1 s or more count (a share of a few ms says little);
// setup, creating the roster over HTTP, measures none of the latencies reported.
const genPeak = (r) => Math.max(0, ...Object.entries(r.phases ?? {})
  .filter(([k, p]) => k !== 'setup' && p.wall_s >= 1).map(([, p]) => p.generator_busy ?? 0));
const N = (r) => r.config?.participants;
const kbPer = (r) => (r.server?.peak_rss_mb ?? NaN) * 1024 / N(r);
const lostTotal = (r) => {
  const ph = r.phases ?? {};
  return (ph.chat?.lost ?? NaN) + (ph.join?.presence_missing ?? NaN) + ((ph.ping?.expected ?? NaN) - (ph.ping?.received ?? NaN)) +
    (ph.help?.notifications_missing ?? NaN) + ((ph.close?.session_event_expected ?? NaN) - (ph.close?.session_event_received ?? NaN));
};
const closeAll = (r) => Math.max(r.phases?.close?.close_ms ?? NaN, r.phases?.close?.session_event_ms?.max ?? NaN);
const intact = (r) => r.completed === true && r.errors?.total === 0 && r.phases?.close?.attendance_ok === true &&
  r.phases?.close?.transcript_ok === true && (r.unexpected_disconnects ?? 0) === 0;

// [label, path to a {p50,p99,max} summary or a single value, target on the project's value, compare p99 with the peer]
const LATENCIES = [
  ['check-in -> dashboard presence', 'phases.join.checkin_to_presence_ms', (v) => v < 250, '< 250 ms'],
  ['check-in ack', 'phases.join.checkin_ack_ms'],
  ['ping launch -> every participant', 'phases.ping.fanout_ms', (v) => v < 500, '< 500 ms'],
  ['poll answer ack', 'phases.ping.answer_ack_ms'],
  ['chat ack', 'phases.chat.ack_ms'],
  ['chat send -> every receipt', 'phases.chat.fanout_ms', (v) => v < 250, '< 250 ms'],
  ['help open -> support queue', 'phases.help.queue_visible_ms'],
  ['help claim -> participant', 'phases.help.claimed_notify_ms'],
  ['help resolve -> participant', 'phases.help.resolved_notify_ms'],
  ['close -> every participant told', 'phases.close.session_event_ms'],
];

function targets(dir, title, servicesFile) {
  const s = load(dir);
  const peer = s.peer ?? [], proj = s.project ?? [];
  const any = proj[0] ?? peer[0];
  if (!any) throw new Error(`no reports in ${dir}`);
  const n = N(any);
  const out = [];
  out.push(`### ${title ?? path.basename(dir)}: N = ${n}, ${proj.length || peer.length} round(s), medians`);
  out.push('');
  out.push('| figure (ms) | peer p50 | peer p99 | peer max | project p50 | project p99 | project max | p99 project/peer | target | met | p99 <= peer |');
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |');
  const verdicts = [];
  for (const [label, p, ok, target] of LATENCIES) {
    const cell = (runs, st) => med(runs, `${p}.${st}`);
    const [a, b] = [cell(peer, 'p99'), cell(proj, 'p99')];
    const met = ok && b !== undefined ? (ok(b) ? 'met' : '**missed**') : '';
    const le = a !== undefined && b !== undefined ? (b <= a ? 'yes' : '**no**') : '';
    if (ok) verdicts.push([`${label} p99 ${target}`, met]);
    if (le) verdicts.push([`${label} p99 <= peer`, le]);
    out.push(`| ${label} | ${fmt(cell(peer, 'p50'))} | ${fmt(a)} | ${fmt(cell(peer, 'max'))} | ${fmt(cell(proj, 'p50'))} | ${fmt(b)} | ` +
      `${fmt(cell(proj, 'max'))} | ${ratio(a, b)} | ${target ?? ''} | ${met} | ${le} |`);
  }
  const single = [
    ['last poll answer -> results', 'phases.ping.last_answer_to_results_ms'],
    ['POST close', 'phases.close.close_ms'],
    ['close: POST + everyone told', closeAll, (v) => v < 2000, '< 2000 ms'],
  ];
  for (const [label, p, ok, target] of single) {
    const [a, b] = [med(peer, p), med(proj, p)];
    const met = ok && b !== undefined ? (ok(b) ? 'met' : '**missed**') : '';
    if (ok) verdicts.push([`${label} ${target}`, met]);
    out.push(`| ${label} | | | ${fmt(a)} | | | ${fmt(b)} | ${ratio(a, b)} | ${target ?? ''} | ${met} | |`);
  }
  out.push('');
  out.push('| figure | peer | project | project/peer | target | met |');
  out.push('| --- | ---: | ---: | ---: | --- | --- |');
  const rows = [
    ['participants connected', 'phases.join.connected'],
    ['errors', 'errors.total', (v) => v === 0, '0'],
    ['unexpected disconnects', 'unexpected_disconnects', (v) => v === 0, '0'],
    ['chat messages sent', 'phases.chat.sent'],
    // `lost` counts copies of acknowledged messages only: a send never acknowledged is a loss too.
    ['chat sends not acknowledged', (r) => (r.phases?.chat?.sent ?? NaN) - (r.phases?.chat?.acked ?? NaN), (v) => v === 0, '0'],
    ['chat copies lost', 'phases.chat.lost', (v) => v === 0, '0'],
    ['chat copies duplicated', 'phases.chat.duplicates', (v) => v === 0, '0'],
    ['chat copies out of order', 'phases.chat.out_of_order', (v) => v === 0, '0'],
    ['other events lost (presence, ping, help, close)', (r) => lostTotal(r) - (r.phases?.chat?.lost ?? 0), (v) => v === 0, '0'],
    ['attendance and transcript intact', (r) => (intact(r) ? 1 : 0), (v) => v === 1, '1'],
    ['server CPU s (whole run)', 'server.cpu_s'],
    ['server CPU s: join', 'phases.join.server_cpu_s'],
    ['server CPU s: ping', 'phases.ping.server_cpu_s'],
    ['server CPU s: chat', 'phases.chat.server_cpu_s'],
    ['server processes', 'server.processes'],
    ['server peak RSS MB', 'server.peak_rss_mb'],
    ['server KB per participant (peak RSS / N)', kbPer, (v) => v < 100, '< 100 KB'],
    ['generator CPU share (whole run)', genShare],
    ['generator CPU share (busiest measured phase)', genPeak],
    ['generator warnings', (r) => r.warnings?.filter((w) => !w.startsWith('chat: ') || !w.includes('capped')).length ?? 0],
    ['wall s', 'wall_s'],
  ];
  for (const [label, p, ok, target] of rows) {
    const [a, b] = [med(peer, p), med(proj, p)];
    const met = ok && b !== undefined ? (ok(b) ? 'met' : '**missed**') : '';
    if (ok) verdicts.push([`${label} ${target}`, met]);
    out.push(`| ${label} | ${fmt(a, 2)} | ${fmt(b, 2)} | ${ratio(a, b)} | ${target ?? ''} | ${met} |`);
  }
  if (servicesFile && fs.existsSync(servicesFile)) {
    const sv = JSON.parse(fs.readFileSync(servicesFile, 'utf8'));
    const k = Math.max(proj.length, 1);
    out.push(`| Redis CPU s per project run | | ${fmt(sv.redis.cpu_s / k, 2)} | | | |`);
    out.push(`| Redis peak RSS MB | | ${fmt(sv.redis.peak_rss_mb)} | | | |`);
    out.push(`| PostgreSQL backends CPU s per project run | | ${fmt(sv.postgres.cpu_s / k, 2)} | | | |`);
    out.push(`| PostgreSQL backends peak private MB | | ${fmt(sv.postgres.peak_private_mb)} | | | |`);
  }
  const warnings = [...new Set([...peer, ...proj].flatMap((r) => (r.warnings ?? []).map((w) => `${r.label}: ${w}`)))];
  if (warnings.length) {
    out.push('');
    out.push('Generator warnings:');
    for (const w of warnings) out.push(`- ${w}`);
  }
  const missed = verdicts.filter(([, v]) => v !== 'met' && v !== 'yes').map(([k]) => k);
  out.push('');
  out.push(missed.length ? `Targets missed: ${missed.join('; ')}.` : 'All targets met.');
  return out.join('\n');
}

function scale(dirs) {
  const rows = dirs.map(load).map((s) => ({ peer: s.peer ?? [], project: s.project ?? [] }))
    .map((s) => ({ ...s, n: N(s.project[0] ?? s.peer[0]) })).sort((a, b) => a.n - b.n);
  const cols = [
    ['check-in p99 ms', 'phases.join.checkin_to_presence_ms.p99'],
    ['ping fan-out p99 ms', 'phases.ping.fanout_ms.p99'],
    ['chat fan-out p99 ms', 'phases.chat.fanout_ms.p99'],
    ['help claim p99 ms', 'phases.help.claimed_notify_ms.p99'],
    ['close all ms', closeAll],
    ['CPU s', 'server.cpu_s'],
    ['CPU s chat', 'phases.chat.server_cpu_s'],
    ['peak MB', 'server.peak_rss_mb'],
    ['KB/participant', kbPer],
    ['lost+dup', (r) => lostTotal(r) + (r.phases?.chat?.duplicates ?? 0)],
    ['gen. busiest phase', genPeak],
  ];
  const out = [];
  out.push(`| N | side | ${cols.map(([c]) => c).join(' | ')} |`);
  out.push(`| ---: | --- | ${cols.map(() => '---:').join(' | ')} |`);
  for (const r of rows) {
    for (const side of ['peer', 'project']) {
      if (!r[side].length) continue;
      out.push(`| ${r.n} | ${side} | ${cols.map(([, p]) => fmt(med(r[side], p), p === genPeak ? 2 : 1)).join(' | ')} |`);
    }
    if (r.peer.length && r.project.length) {
      out.push(`| ${r.n} | project/peer | ${cols.map(([, p]) => ratio(med(r.peer, p), med(r.project, p))).join(' | ')} |`);
    }
  }
  return out.join('\n');
}

const [cmd, ...rest] = process.argv.slice(2);
const flag = (name) => { const i = rest.indexOf(name); if (i < 0) return undefined; const v = rest[i + 1]; rest.splice(i, 2); return v; };
if (cmd === 'targets') {
  const title = flag('--title'), services = flag('--services');
  console.log(targets(rest[0], title, services));
} else if (cmd === 'scale') {
  console.log(scale(rest));
} else {
  console.error('usage: node bench/summary.mjs targets DIR [--title T] [--services FILE] | scale DIR...');
  process.exit(2);
}
