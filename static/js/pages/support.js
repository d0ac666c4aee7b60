/** The support console: the help queue live, with alerts for new requests, the chat and the platform switch. */

import { byId, setText } from '../lib/dom.js';
import { IGNORE, createDispatcher } from '../lib/dispatcher.js';
import { runPage, startPage } from '../lib/page.js';
import { createSessionState } from '../session/session-state.js';
import { createSessionView } from '../session/session-view.js';
import { createCountdownView } from '../session/countdown-view.js';
import { createPlatformBanner } from '../session/platform-banner.js';
import { createPlatformSwitch } from '../session/platform-switch.js';
import { createChatPanel } from '../chat/chat-panel.js';
import { createRosterState } from '../staff/roster-state.js';
import { createQueueState } from '../staff/queue-state.js';
import { createQueueView } from '../staff/queue-view.js';
import { createTicketAlerts } from '../staff/ticket-alerts.js';
import { createRecordingBanner } from '../participant/consent-banner.js';

const SUPPORT_ROLES = new Set(['support', 'admin']);

function main(page) {
  const { call, notices, clock, ticker, connection, sessionId } = page;
  const state = createSessionState();
  const roster = createRosterState(); // only for the connected count
  const queue = createQueueState();
  const canSupport = () => SUPPORT_ROLES.has(state.me?.role);
  let freshTickets = [];

  const chat = createChatPanel({
    sessionId, token: page.token, call, notices,
    isConnected: () => connection.connected, whoAmI: () => state.me,
  });
  const sessionView = createSessionView({ topic: byId('topic'), status: byId('session-status'), schedule: byId('schedule') });
  const countdownView = createCountdownView(
    { label: byId('countdown-label'), value: byId('countdown-value'), note: byId('countdown-note') },
    { clock, notices },
  );
  const banner = createPlatformBanner(byId('platform-banner'), { audience: 'staff', notices });
  const platformSwitch = createPlatformSwitch(byId('platform-form'), { call, notices });
  const recordingBanner = createRecordingBanner(byId('recording-banner'), { notices });
  let recording = false;
  const queueView = createQueueView(
    {
      waitingList: byId('queue-waiting'), claimedList: byId('queue-claimed'), waitingEmpty: byId('queue-waiting-empty'),
      claimedEmpty: byId('queue-claimed-empty'), summary: byId('queue-summary'),
    },
    { call, notices, clock, queue, canAct: canSupport },
  );
  const alerts = createTicketAlerts(
    { sound: byId('alert-sound'), soundNote: byId('alert-sound-note'), notify: byId('alert-notify'), notifyNote: byId('alert-notify-note') },
    { notices },
  );

  function renderSession() {
    sessionView.render(state.session);
    countdownView.render(state.session);
    platformSwitch.setEnabled(!state.isClosed);
    chat.setClosed(state.isClosed);
  }

  function renderPlatform() {
    banner.render(state.platform);
    platformSwitch.render(state.platform);
  }

  function renderConnected() {
    const counts = roster.counts();
    setText(byId('connected-count'), `${counts.connected ?? 0} of ${counts.expected ?? 0} participants connected`);
  }

  function renderQueue() {
    queueView.render();
    alerts.alert(freshTickets);
    freshTickets = [];
  }

  const { dispatch } = createDispatcher({
    'session:state': {
      update(snapshot) {
        state.applySnapshot(snapshot);
        roster.replace(snapshot);
        freshTickets = queue.replace(snapshot.tickets);
        recording = snapshot.recording === true;
      },
      render() {
        if (!canSupport() && state.me) notices.error('This link cannot claim or resolve requests (support or admin only).');
        setText(byId('whoami'), state.me?.name ? `${state.me.name} (${state.me.role})` : '');
        renderSession();
        renderPlatform();
        renderConnected();
        renderQueue();
        recordingBanner.render(recording && !state.isClosed);
      },
    },
    session: {
      update: (session) => state.applySession(session),
      render: () => { renderSession(); recordingBanner.render(recording && !state.isClosed); },
    },
    platform: { update: (platform) => state.applyPlatform(platform), render: renderPlatform },
    'help:queue': { update: (event) => { freshTickets = queue.replace(event.tickets); }, render: renderQueue },
    presence: { update: (event) => roster.applyPresence(event), render: renderConnected },
    // Staff receive ping results too; this console does not show them.
    'ping:results': IGNORE,
    // Invitation answers and preparation changes are the dashboard's and the schedule's to show.
    rsvp: IGNORE,
    materials: IGNORE,
    readiness: IGNORE,
    // Consent counts are the dashboard's; the recording banner shows here too.
    consent: IGNORE,
    'consent:results': IGNORE,
    recording: { update: (event) => { recording = event.recording === true; }, render: () => recordingBanner.render(recording) },
    chat: { update: (message) => chat.put(message), render: () => chat.render() },
  });

  ticker.add(countdownView.tick);
  ticker.add(queueView.tick);
  runPage(page, { dispatch, afterSnapshot: chat.onConnect });
}

const page = startPage({ staff: true });
if (page) main(page);
