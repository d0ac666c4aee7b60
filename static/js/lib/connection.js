/**
 * The Socket.IO connection: connect with the page's token, show its state where people can see it,
 * and `call(event, payload)` that always resolves to an ack ({ok: true, ...} or {ok: false, error}).
 */

import { io } from '/static/vendor/socket.io.esm.min.js';
import { setText } from './dom.js';

// Long enough for a busy server's write to commit, short enough to tell a person something went wrong.
const ACK_TIMEOUT_MS = 10_000;
// A refusal coded `unavailable` (database or live state briefly away) is retried after this long.
const REFUSED_RETRY_MS = 15_000;

// What a person is told for each refusal code (docs/protocol.md, Refusals); the server's message follows.
const REFUSAL_TEXT = {
  unauthorized: 'Your link is no longer valid (or you are signed out)',
  forbidden: 'This link does not give access to this session',
  not_found: 'This session does not exist',
  invalid: 'The connection request was not understood',
  unavailable: 'The service is briefly unavailable; trying again shortly',
  rate_limited: 'Too many connection attempts',
};

const OFFLINE = Object.freeze({
  ok: false,
  error: { code: 'offline', message: 'not connected to the server right now; try again in a moment' },
});
const TIMED_OUT = Object.freeze({
  ok: false,
  error: { code: 'timeout', message: 'the server did not answer in time; try again' },
});

/**
 * token: the link's token, or null for staff signed in with a passkey (the session cookie then rides
 * along with the handshake).
 * indicator: the element that shows the state (its data-state is connecting|online|reconnecting|refused).
 * notices: from notices.js, to explain a refusal; onRefused({code, message}): the page's own reaction.
 */
export function createConnection({ sessionId, token, indicator, notices, onRefused = () => {} }) {
  const socket = io({
    path: '/socket.io/',
    transports: ['websocket', 'polling'],
    // Where a proxy blocks WebSocket, fall back to long-polling instead of failing.
    tryAllTransports: true,
    auth: token ? { token, session: sessionId } : { session: sessionId },
    autoConnect: false,
  });
  const connectListeners = [];
  let retryTimer = null;

  // The indicator is a status region: its text changes only when the state does, so a long outage
  // is announced once, not at every retry.
  function showState(state, text) {
    indicator.dataset.state = state;
    setText(indicator, text);
    document.body.dataset.connection = state;
  }

  socket.on('connect', () => {
    showState('online', 'Connected');
    indicator.title = '';
    for (const listener of connectListeners) {
      Promise.resolve()
        .then(listener)
        .catch((err) => {
          console.error('companion: catching up after connect failed', err);
          notices.error('Could not load the latest state; it will load again on the next reconnect.');
        });
    }
  });

  socket.on('disconnect', (reason) => {
    if (reason === 'io server disconnect') {
      showState('refused', 'Disconnected by the server');
      notices.error('The server closed this connection (the link may have been revoked). Reload the page to try again.');
    } else if (reason !== 'io client disconnect') {
      showState('reconnecting', 'Reconnecting…');
    }
  });

  socket.on('connect_error', (err) => {
    if (socket.active) {
      // A network problem: the client retries by itself.
      showState('reconnecting', 'Reconnecting…');
      return;
    }
    // Refused by the server: its code says what to do (the Socket.IO client hands over the CONNECT_ERROR's
    // `data`, where the server puts the code), its message says why.
    const code = err.data?.code ?? 'invalid';
    const text = REFUSAL_TEXT[code] ?? 'The server refused the connection';
    showState('refused', `Not connected: ${err.message}`);
    notices.error(`${text}: ${err.message}`);
    onRefused({ code, message: err.message });
    if (code === 'unavailable' && retryTimer === null) {
      retryTimer = setTimeout(() => {
        retryTimer = null;
        showState('connecting', 'Connecting…');
        socket.connect();
      }, REFUSED_RETRY_MS);
    }
  });

  socket.io.on('reconnect_attempt', (attempt) => {
    showState('reconnecting', 'Reconnecting…');
    indicator.title = `Reconnection attempt ${attempt}`;
  });

  /** Emit with an acknowledgement; resolves to the ack, or to an `offline`/`timeout` failure. */
  function call(event, payload = {}, { timeoutMs = ACK_TIMEOUT_MS } = {}) {
    // Not buffered while offline: an action done "later" by surprise is worse than a clear failure.
    if (!socket.connected) return Promise.resolve(OFFLINE);
    return new Promise((resolve) => {
      socket.timeout(timeoutMs).emit(event, payload, (err, ack) => {
        if (err) resolve(TIMED_OUT);
        else if (!ack || typeof ack !== 'object') {
          resolve({ ok: false, error: { code: 'invalid', message: `unexpected answer to ${event}` } });
        } else resolve(ack);
      });
    });
  }

  return {
    call,
    /** Run fn on every connect and reconnect (in the order added). */
    onConnect(fn) {
      connectListeners.push(fn);
    },
    /** Receive every server event as fn(eventName, payload). */
    onServerEvent(fn) {
      socket.onAny((event, payload) => fn(event, payload));
    },
    get connected() {
      return socket.connected;
    },
    start() {
      showState('connecting', 'Connecting…');
      socket.connect();
    },
  };
}
