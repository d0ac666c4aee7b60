/**
 * The connection check: round trips to this server (GET /api/setup/ping) and a short download from it
 * (GET /api/setup/download), each never cached. A rough guide, since the call itself goes to the video
 * platform's servers, but a slow or lossy line shows here too.
 */

import { setText, show } from '../lib/dom.js';

const PINGS = 6; // the first one also opens the connection, so it is left out of the figure
const DOWNLOAD_BYTES = 1_000_000; // well under a second on a line fit for video; 1 MB off a metered plan
// Group video calls need about 1.5 to 3 Mbit/s down (the platforms' own bandwidth figures); round trips
// past 300 ms make conversation awkward, past 150 ms noticeable.
const GOOD = { rttMs: 150, mbps: 3 };
const FAIR = { rttMs: 300, mbps: 1.5 };

const SLOW_STEPS = [
  'Move closer to your Wi-Fi router, or use a network cable.',
  'Pause downloads, streaming and other busy tabs or devices on the same network.',
  'In the class, turn your camera off if the sound breaks up: sound needs far less than video.',
  'Then test again.',
];
const OFFLINE_STEPS = [
  'Check you are connected to the internet (Wi-Fi or cable), then test again.',
  'On a work or school network, a firewall may block this page: ask your IT desk, or try another network.',
];

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function roundTrips() {
  const times = [];
  for (let i = 0; i < PINGS; i += 1) {
    const t0 = performance.now();
    const response = await fetch('/api/setup/ping', { cache: 'no-store', credentials: 'omit' });
    if (response.status !== 204) throw new Error(`ping answered HTTP ${response.status}`);
    times.push(performance.now() - t0);
  }
  return median(times.slice(1));
}

async function download(token) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const t0 = performance.now();
  const response = await fetch(`/api/setup/download?bytes=${DOWNLOAD_BYTES}`, { cache: 'no-store', headers, credentials: 'same-origin' });
  if (!response.ok) throw new Error(`download answered HTTP ${response.status}`);
  const size = (await response.arrayBuffer()).byteLength;
  const seconds = Math.max((performance.now() - t0) / 1000, 0.001);
  return (size * 8) / seconds / 1e6;
}

/** "12 ms", "0.8 Mbit/s", "85 Mbit/s". */
const ms = (value) => `${Math.max(1, Math.round(value))} ms`;
const mbps = (value) => `${value < 10 ? value.toFixed(1) : Math.round(value)} Mbit/s`;

/** elements: {start, figures, rtt, download}; view: a check view; token: the page's token. */
export function createNetworkCheck(elements, { view, token }) {
  let busy = false;

  async function run() {
    if (busy) return;
    busy = true;
    elements.start.disabled = true;
    view.set('running', 'Measuring…');
    try {
      if (!navigator.onLine) throw new Error('offline');
      const rtt = await roundTrips();
      setText(elements.rtt, ms(rtt));
      show(elements.figures, true);
      const speed = await download(token);
      setText(elements.download, mbps(speed));
      elements.figures.dataset.rttMs = String(Math.round(rtt));
      elements.figures.dataset.mbps = speed.toFixed(1);
      const text = `${ms(rtt)} round trip, ${mbps(speed)} download.`;
      if (rtt <= GOOD.rttMs && speed >= GOOD.mbps) view.set('ok', `${text} Fine for a video call.`);
      else if (rtt <= FAIR.rttMs && speed >= FAIR.mbps) view.set('warn', `${text} Enough for sound; video may stutter.`, SLOW_STEPS);
      else view.set('problem', `${text} Too slow for a smooth video call.`, SLOW_STEPS);
    } catch (err) {
      console.info('companion: connection check failed', err);
      view.set('problem', 'This page could not reach the server.', OFFLINE_STEPS);
    } finally {
      busy = false;
      elements.start.disabled = false;
    }
  }

  elements.start.addEventListener('click', run);
  return { run };
}
