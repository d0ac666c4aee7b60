/**
 * What every page does the same way: read the session id and token, set up notices, the connection,
 * the server clock and the ticker; then on every (re)connect sync the clock, redraw from
 * `session:state` through the dispatcher, and let the chat catch up.
 */

import { byId, h, setText, show } from './dom.js';
import { sessionIdFromPath, takeToken } from './auth.js';
import { createNotices } from './notices.js';
import { createConnection } from './connection.js';
import { createClock } from './clock.js';
import { createTicker } from './ticker.js';
import { createApi } from './api.js';

// Clocks drift and laptops sleep: measure the offset again this often.
const CLOCK_RESYNC_MS = 5 * 60 * 1000;

/**
 * A problem that stops the page (no link, wrong link): shown in place, not as a passing notice.
 * `advice`: lines saying what to do; `hideMain`: the page cannot work at all, so its panels go.
 */
function showProblem(text, link = null, { advice = [], hideMain = false } = {}) {
  const problem = byId('problem');
  problem.replaceChildren(
    h('p', { class: 'problem-title', text }),
    ...advice.map((line) => h('p', { text: line })),
    ...(link ? [h('p', {}, [h('a', { href: link.href, text: link.text })])] : []),
  );
  show(problem, true);
  if (hideMain) show(byId('main'), false);
  const indicator = byId('connection');
  indicator.dataset.state = 'refused';
  setText(indicator, 'Not connected');
}

/**
 * Set up the page; null when it cannot run (its problem is then shown).
 * staff: staff pages also work without a token, for staff signed in with a passkey (session cookie).
 */
export function startPage({ staff = false } = {}) {
  const notices = createNotices({ politeRegion: byId('announcer'), errorRegion: byId('notices') });
  const sessionId = sessionIdFromPath();
  // Staff pages are often screen-shared: their token leaves the address bar.
  const token = sessionId ? takeToken(sessionId, { hideFromAddressBar: staff }) : null;
  if (!sessionId || (!token && !staff)) {
    showProblem('This link is incomplete: its personal part is missing.', null, {
      hideMain: true,
      advice: staff ? ['Open the dashboard link you were given in full (it ends with #token=…), or sign in.'] : [
        'Open the link from your invitation email again: it ends with “#token=” and a long code, which is your personal key to this class.',
        'Copied it by hand? Copy the whole link. Still stuck? Ask the organiser to send your link again.',
      ],
    });
    return null;
  }
  // Signing in is the way out of a refusal for who you are (no or an expired session, a disabled
  // person, someone else's session), not of one for a server that is briefly away.
  const onRefused = ({ code, message }) => {
    if (!token && (code === 'unauthorized' || code === 'forbidden')) {
      const here = window.location.pathname;
      showProblem(`Not signed in: ${message}`, { href: `/login?next=${encodeURIComponent(here)}`, text: 'Sign in with your passkey' });
    }
  };
  const connection = createConnection({ sessionId, token, indicator: byId('connection'), notices, onRefused });
  return {
    sessionId,
    token,
    notices,
    connection,
    call: connection.call,
    clock: createClock(connection.call),
    ticker: createTicker(),
    api: createApi({ token }),
    showProblem,
  };
}

/**
 * Connect and keep the page whole: on every (re)connect, sync the clock, dispatch the
 * `session:state` snapshot, then run `afterSnapshot` (the chat's catch-up).
 * Returns refresh(), which fetches and dispatches a new snapshot.
 */
export function runPage(page, { dispatch, afterSnapshot }) {
  const { connection, clock, call, notices } = page;

  async function refresh() {
    const snapshot = await call('session:state');
    if (notices.failed(snapshot, 'Could not load the session')) return false;
    dispatch('session:state', snapshot);
    return true;
  }

  connection.onServerEvent(dispatch);
  connection.onConnect(async () => {
    await clock.sync();
    await refresh();
    await afterSnapshot();
  });
  setInterval(() => {
    if (connection.connected) clock.sync();
  }, CLOCK_RESYNC_MS);
  connection.start();
  return { refresh };
}
