/** The instructor's dashboard: run the session, watch presence, launch pings, see help and chat. */

import { byId, setText, show } from '../lib/dom.js';
import { createDispatcher } from '../lib/dispatcher.js';
import { runPage, startPage } from '../lib/page.js';
import { createSessionState } from '../session/session-state.js';
import { createSessionView } from '../session/session-view.js';
import { createCountdownView } from '../session/countdown-view.js';
import { createPlatformBanner } from '../session/platform-banner.js';
import { createPlatformSwitch } from '../session/platform-switch.js';
import { createChatPanel } from '../chat/chat-panel.js';
import { createRosterState } from '../staff/roster-state.js';
import { createRosterView } from '../staff/roster-view.js';
import { createCountsView } from '../staff/counts-view.js';
import { createCountsHistory } from '../staff/counts-history.js';
import { createCheckinCodeView } from '../staff/checkin-code-view.js';
import { createSessionControls } from '../staff/session-controls.js';
import { createPingLauncher } from '../staff/ping-launcher.js';
import { createResultsState } from '../staff/results-state.js';
import { createResultsView } from '../staff/results-view.js';
import { createQueueState } from '../staff/queue-state.js';
import { createQueueView } from '../staff/queue-view.js';
import { createAttendanceReport } from '../staff/attendance-report.js';
import { createChatLog } from '../staff/chat-log.js';

const CONDUCT_ROLES = new Set(['instructor', 'admin']);
const SUPPORT_ROLES = new Set(['support', 'admin']);

function main(page) {
  const { call, notices, clock, ticker, connection, api, sessionId } = page;
  const state = createSessionState();
  const roster = createRosterState();
  const results = createResultsState();
  const queue = createQueueState();
  const canConduct = () => CONDUCT_ROLES.has(state.me?.role);
  const canSupport = () => SUPPORT_ROLES.has(state.me?.role);
  let refresh = async () => false;
  let reportShown = false;

  const chat = createChatPanel({
    sessionId, token: page.token, call, notices,
    isConnected: () => connection.connected, whoAmI: () => state.me,
  });
  const sessionView = createSessionView({
    topic: byId('topic'), status: byId('session-status'), schedule: byId('schedule'), joinLink: byId('join-link'),
  });
  const countdownView = createCountdownView(
    { label: byId('countdown-label'), value: byId('countdown-value'), note: byId('countdown-note') },
    { clock, notices },
  );
  const banner = createPlatformBanner(byId('platform-banner'), { audience: 'staff', notices });
  const platformSwitch = createPlatformSwitch(byId('platform-form'), { call, notices });
  const countsView = createCountsView({
    expected: byId('count-expected'), connected: byId('count-connected'),
    checkedIn: byId('count-checked-in'), late: byId('count-late'),
  });
  const countsHistory = createCountsHistory({ figure: byId('history-figure'), caption: byId('history-caption') }, { clock });
  const codeView = createCheckinCodeView(
    { section: byId('code-section'), code: byId('checkin-code'), expires: byId('checkin-code-expires') },
    { clock, roster, onExpired: () => connection.connected && refresh() },
  );
  const rosterView = createRosterView(
    { body: byId('roster-body'), markHeader: byId('roster-mark-header'), empty: byId('roster-empty'), filter: byId('roster-filter') },
    { call, notices, roster, canMark: () => canConduct() && !state.isClosed, onMarked: renderRoster },
  );
  const resultsView = createResultsView(
    { list: byId('results-list'), empty: byId('results-empty') },
    { call, notices, clock, results, canClose: canConduct },
  );
  const queueView = createQueueView(
    {
      waitingList: byId('queue-waiting'), claimedList: byId('queue-claimed'), waitingEmpty: byId('queue-waiting-empty'),
      claimedEmpty: byId('queue-claimed-empty'), summary: byId('queue-summary'),
    },
    { call, notices, clock, queue, canAct: canSupport },
  );
  const report = createAttendanceReport(
    { section: byId('report-section'), body: byId('report-body'), state: byId('report-state'), reload: byId('report-reload'), csv: byId('report-csv') },
    { api, sessionId, notices },
  );
  const chatLog = createChatLog(
    { section: byId('chatlog-section'), list: byId('chatlog-list'), state: byId('chatlog-state'), download: byId('chatlog-download') },
    { api, sessionId, notices },
  );

  function renderRoster() {
    rosterView.render();
    countsView.render(roster.counts());
    countsHistory.add(roster.counts());
    codeView.render();
  }

  function renderPlatform() {
    banner.render(state.platform);
    platformSwitch.render(state.platform);
  }

  function renderSession() {
    sessionView.render(state.session);
    countdownView.render(state.session);
    controls.render(state.session, { canConduct: canConduct() });
    show(byId('launch-section'), canConduct() && !state.isClosed);
    platformSwitch.setEnabled(!state.isClosed);
    chat.setClosed(state.isClosed);
    rosterView.render();
    if (state.isClosed && !reportShown) {
      // Close answers once attendance and chat are saved, so the sheets are final now.
      reportShown = true;
      report.load();
      chatLog.load();
    }
  }

  const { dispatch } = createDispatcher({
    'session:state': {
      update(snapshot) {
        state.applySnapshot(snapshot);
        roster.replace(snapshot);
        results.replaceOpen(snapshot.pings);
        queue.replace(snapshot.tickets);
      },
      render() {
        if (state.me?.role === 'participant') {
          page.showProblem('This is a participant link: open your companion tab instead (/join/…).');
        }
        setText(byId('whoami'), state.me?.name ? `${state.me.name} (${state.me.role})` : '');
        renderSession();
        renderPlatform();
        renderRoster();
        resultsView.render();
        queueView.render();
      },
    },
    session: { update: (session) => state.applySession(session), render: renderSession },
    platform: { update: (platform) => state.applyPlatform(platform), render: renderPlatform },
    presence: { update: (event) => roster.applyPresence(event), render: renderRoster },
    'ping:results': { update: (result) => results.apply(result), render: () => resultsView.render() },
    'help:queue': { update: (event) => queue.replace(event.tickets), render: () => queueView.render() },
    chat: { update: (message) => chat.put(message), render: () => chat.render() },
  });

  const controls = createSessionControls(
    {
      root: byId('controls'), start: byId('start-button'), delayForm: byId('delay-form'),
      delayMinutes: byId('delay-minutes'), delayReason: byId('delay-reason'), close: byId('close-button'),
    },
    { call, notices, onSession: (session) => dispatch('session', session) },
  );
  createPingLauncher(
    {
      form: byId('launch-form'), kind: byId('launch-kind'), question: byId('launch-question'),
      optionsField: byId('launch-options-field'), options: byId('launch-options'), seconds: byId('launch-seconds'),
    },
    {
      call, notices,
      onLaunched: (ping) => {
        results.apply(ping);
        resultsView.render();
      },
    },
  );

  ticker.add(countdownView.tick);
  ticker.add(codeView.tick);
  ticker.add(resultsView.tick);
  ticker.add(queueView.tick);
  ({ refresh } = runPage(page, { dispatch, afterSnapshot: chat.onConnect }));
}

const page = startPage({ staff: true });
if (page) main(page);
