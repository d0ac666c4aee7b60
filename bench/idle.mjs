// Memory per idle connection: N participants connect (WebSocket) to one session and stay idle;
// the server's RSS (its whole process tree, from /proc) is read before and after.
//
//   node bench/idle.mjs --url http://127.0.0.1:8000 --token ADMIN --server-pid PID [options]
//
//   --connections N   participants to connect (5000)
//   --batch B         participants per POST /participants (250)
//   --rate R          connection attempts per second (500), at most --max-pending handshakes at once (200)
//   --settle S        seconds to wait before the first reading and after the last connection (10)
//   --label TEXT, --out FILE
// Prints one JSON object: rss before/after/peak in MB and KB per connection ((after - before) / connected).
// socket.io-client comes from bench/.peer (bench/run.sh installs it there) or BENCH_PEER_DIR.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(process.env.BENCH_PEER_DIR || path.join(here, '.peer'), 'package.json'));
const { io } = require('socket.io-client');

const opt = { url: null, token: null, serverPid: null, connections: 5000, batch: 250, rate: 500, maxPending: 200, settle: 10, label: '', out: null };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  if (!(key in opt) || i + 1 >= argv.length) { console.error(`bad argument ${argv[i]}; see the header of ${process.argv[1]}`); process.exit(2); }
  opt[key] = typeof opt[key] === 'number' || key === 'serverPid' ? Number(argv[i + 1]) : argv[i + 1];
}
if (!opt.url || !opt.token || !opt.serverPid) { console.error('--url, --token and --server-pid are required'); process.exit(2); }
if (!/^http:\/\/(127\.\d+\.\d+\.\d+|localhost)(:\d+)?\/?$/.test(opt.url)) { console.error('loopback URLs only'); process.exit(2); }
opt.url = opt.url.replace(/\/$/, '');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error(`[idle ${(performance.now() / 1000).toFixed(1)}s]`, ...a);

// Summed VmRSS (KB) of the server and all its descendants.
function treeRssKb(root) {
  const parent = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {}
  }
  const tree = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, pp] of parent) if (!tree.has(pid) && tree.has(pp)) { tree.add(pid); grew = true; }
  }
  let kb = 0;
  for (const pid of tree) {
    try { kb += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] || 0); } catch {}
  }
  return { kb, processes: tree.size };
}

async function api(method, p, body) {
  const res = await fetch(opt.url + p, {
    method, signal: AbortSignal.timeout(60_000),
    headers: { authorization: `Bearer ${opt.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${p} -> ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

const report = { tool: 'idle.mjs', label: opt.label, connections: opt.connections, settle_s: opt.settle };
const hardStop = setTimeout(() => { console.error('idle.mjs: gave up after 300 s'); process.exit(1); }, 300_000);
hardStop.unref();
const socks = [];
let peakKb = 0;
const peakTimer = setInterval(() => { peakKb = Math.max(peakKb, treeRssKb(opt.serverPid).kb); }, 500);

try {
  const starts = new Date(Date.now() + 5 * 60_000).toISOString().replace('Z', '+00:00');
  const session = await api('POST', '/api/sessions', {
    topic: 'idle connections', instructor_email: 'instructor@bench.example', starts_at: starts, duration_minutes: 90,
  });
  const tokens = [];
  for (let i = 0; i < opt.connections; i += opt.batch) {
    const batch = [];
    for (let j = i; j < Math.min(opt.connections, i + opt.batch); j++) batch.push({ name: `Idle ${j}`, email: `idle${j}@bench.example` });
    const r = await api('POST', `/api/sessions/${session.id}/participants`, { participants: batch });
    for (const p of r.participants) tokens.push(p.token);
  }
  log(`roster of ${tokens.length}; settling ${opt.settle}s`);
  await sleep(opt.settle * 1000);
  const before = treeRssKb(opt.serverPid);

  let pending = 0, connected = 0, failed = 0, launched = 0;
  const t0 = performance.now();
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(tokens.length, Math.floor(((performance.now() - t0) / 1000) * opt.rate) + 1);
      while (launched < due && pending < opt.maxPending) {
        const s = io(opt.url, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: 30_000,
          auth: { token: tokens[launched++], session: session.id } });
        pending++;
        s.once('connect', () => { pending--; connected++; });
        s.once('connect_error', (e) => { pending--; failed++; if (failed <= 3) log(`connect_error: ${e.message}`); });
        socks.push(s);
      }
      if (launched >= tokens.length && pending === 0) { clearInterval(timer); resolve(); }
    }, 5);
  });
  const connectWall = (performance.now() - t0) / 1000;
  log(`${connected} connected, ${failed} failed in ${connectWall.toFixed(1)}s; settling ${opt.settle}s`);
  await sleep(opt.settle * 1000);
  const after = treeRssKb(opt.serverPid);
  const stillConnected = socks.filter((s) => s.connected).length;
  const mb = (kb) => Math.round(kb / 102.4) / 10;
  Object.assign(report, {
    connected, connect_failures: failed, still_connected_after_settle: stillConnected, connect_wall_s: Math.round(connectWall * 10) / 10,
    server_processes: after.processes,
    rss_before_mb: mb(before.kb), rss_after_mb: mb(after.kb), rss_peak_mb: mb(Math.max(peakKb, after.kb)),
    kb_per_connection: connected ? Math.round(((after.kb - before.kb) / connected) * 10) / 10 : null,
    kb_per_connection_total: connected ? Math.round((after.kb / connected) * 10) / 10 : null,
  });
} catch (e) {
  report.error = String(e?.message ?? e);
}
clearInterval(peakTimer);
for (const s of socks) s.disconnect();
const text = JSON.stringify(report, null, 2) + '\n';
if (opt.out) fs.writeFileSync(opt.out, text);
process.stdout.write(text, () => process.exit(report.error ? 1 : 0));
