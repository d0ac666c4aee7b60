// CPU seconds and peak memory of the backing services of the two-process setup: a private
// redis-server (by pid) and the PostgreSQL backends serving the run's databases (by the name in
// their process title). The companion processes themselves are measured by classroom.mjs.
//
//   node bench/svcmon.mjs --pid REDIS_PID --db-prefix companion_bench_x_ --out FILE
//
// Samples every 200 ms until SIGTERM/SIGINT, then writes one JSON object to FILE:
// {redis: {cpu_s, peak_rss_mb}, postgres: {cpu_s, peak_rss_mb, backends, by_db: {db: cpu_s}}}.

import fs from 'node:fs';
import { execSync } from 'node:child_process';

const args = process.argv.slice(2);
const opt = { pid: [], dbPrefix: null, out: null };
for (let i = 0; i < args.length; i += 2) {
  if (args[i] === '--pid') opt.pid.push(Number(args[i + 1]));
  else if (args[i] === '--db-prefix') opt.dbPrefix = args[i + 1];
  else if (args[i] === '--out') opt.out = args[i + 1];
  else { console.error(`unknown argument ${args[i]}`); process.exit(2); }
}
let hz = 100;
try { hz = Number(execSync('getconf CLK_TCK').toString().trim()) || 100; } catch {}

function stat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch { return null; }
}
// VmRSS for Redis; RssAnon (private memory) for PostgreSQL backends, whose VmRSS counts the
// shared buffers again in every backend.
function rssKb(pid, field = 'VmRSS') {
  try { return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] || 0); } catch { return 0; }
}

const redis = { start: new Map(), last: new Map(), peakKb: 0 };
for (const p of opt.pid) { const t = stat(p); if (t !== null) { redis.start.set(p, t); redis.last.set(p, t); } }
// PostgreSQL backends: pid -> {db, first, last}; a backend seen first mid-life counts from then.
const backends = new Map();
let pgPeakKb = 0;
const dbRe = opt.dbPrefix ? new RegExp(`postgres: \\S+: \\S+ (${opt.dbPrefix.replace(/[^A-Za-z0-9_]/g, '\\$&')}\\S*) `) : null;

function sample() {
  let kb = 0;
  for (const p of opt.pid) { const t = stat(p); if (t !== null) { redis.last.set(p, t); kb += rssKb(p); } }
  redis.peakKb = Math.max(redis.peakKb, kb);
  if (!dbRe) return;
  let pgKb = 0;
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    let b = backends.get(pid);
    if (!b) {
      let title;
      try { title = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '); } catch { continue; }
      const m = dbRe.exec(title);
      if (!m) continue;
      const t = stat(pid);
      if (t === null) continue;
      b = { db: m[1], first: t, last: t };
      backends.set(pid, b);
    }
    const t = stat(pid);
    if (t !== null) { b.last = t; pgKb += rssKb(pid, 'RssAnon'); }
  }
  pgPeakKb = Math.max(pgPeakKb, pgKb);
}

const timer = setInterval(sample, 200);
function finish() {
  clearInterval(timer);
  sample();
  let redisTicks = 0;
  for (const [p, t0] of redis.start) redisTicks += (redis.last.get(p) ?? t0) - t0;
  const byDb = {};
  let pgTicks = 0;
  for (const b of backends.values()) { pgTicks += b.last - b.first; byDb[b.db] = (byDb[b.db] ?? 0) + (b.last - b.first) / hz; }
  const r3 = (x) => Math.round(x * 1000) / 1000;
  const out = {
    redis: { cpu_s: r3(redisTicks / hz), peak_rss_mb: Math.round(redis.peakKb / 102.4) / 10 },
    postgres: { cpu_s: r3(pgTicks / hz), peak_private_mb: Math.round(pgPeakKb / 102.4) / 10, backends: backends.size,
      by_db: Object.fromEntries(Object.entries(byDb).map(([k, v]) => [k, r3(v)])) },
  };
  const text = JSON.stringify(out, null, 2) + '\n';
  if (opt.out) fs.writeFileSync(opt.out, text); else process.stdout.write(text);
  process.exit(0);
}
process.on('SIGTERM', finish);
process.on('SIGINT', finish);
sample();
