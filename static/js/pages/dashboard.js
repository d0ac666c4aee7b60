/**
 * The instructor's dashboard, made to sit beside the video call: a class bar that stays in view
 * (state, countdown, counts, help and unread-chat badges, Start/Delay/Close), then the current ping
 * and its launcher, the roster, and the help, chat and platform panels folded until they are in use.
 * Something new raises a notice (lib/toasts.js, rules in staff/notice-rules.js) and the title count.
 * Presence over time (the chart, a person's join, drop and return times) comes from the server's
 * history on every (re)connect, then grows from `presence` events.
 */

import { byId, setText, show } from '../lib/dom.js';
import { sessionPath } from '../lib/api.js';
import { parseTime } from '../lib/format.js';
import { createDispatcher } from '../lib/dispatcher.js';
import { runPage, startPage } from '../lib/page.js';
import { lasting } from '../lib/storage.js';
import { createToasts } from '../lib/toasts.js';
import { createBeeper } from '../lib/beep.js';
import { createSessionState } from '../session/session-state.js';
import { createSessionView } from '../session/session-view.js';
import { createCountdownView } from '../session/countdown-view.js';
import { createPlatformBanner } from '../session/platform-banner.js';
import { createPlatformSwitch } from '../session/platform-switch.js';
import { createChatPanel } from '../chat/chat-panel.js';
import { createRosterState } from '../staff/roster-state.js';
import { createRosterView } from '../staff/roster-view.js';
import { createCountsView } from '../staff/counts-view.js';
import { createPresenceHistory } from '../staff/presence-history.js';
import { createPresenceChart } from '../staff/presence-chart.js';
import { createRosterDetail } from '../staff/roster-detail.js';
import { createCheckinCodeView } from '../staff/checkin-code-view.js';
import { createSessionControls } from '../staff/session-controls.js';
import { createPingLauncher } from '../staff/ping-launcher.js';
import { createResultsState } from '../staff/results-state.js';
import { createResultsView } from '../staff/results-view.js';
import { createQueueState } from '../staff/queue-state.js';
import { createQueueView } from '../staff/queue-view.js';
import { createAttendanceReport } from '../staff/attendance-report.js';
import { createChatLog } from '../staff/chat-log.js';
import { createInvitationsPanel } from '../invite/invitations-panel.js';
import { createPreparationPanel } from '../prep/preparation-panel.js';
import { createMinutesPanel } from '../after/minutes-panel.js';
import { createConsentPanel } from '../after/consent-panel.js';
import { createRecordingBanner } from '../participant/consent-banner.js';
import { createRecordPanel } from '../after/record-panel.js';
import { createPlatformAttendancePanel } from '../after/platform-attendance-panel.js';
import { createFeedbackPanel } from '../after/feedback-panel.js';
import {
  dropNotice, droppedOut, helpNotices, lostNotice, mentionNotice, mentionsMe, titleWithCount,
} from '../staff/notice-rules.js';

const CONDUCT_ROLES = new Set(['instructor', 'admin']);
const SUPPORT_ROLES = new Set(['support', 'admin']);
const SOUND_KEY = 'companion:dashboard:sound'; // off unless switched on here
const WIDE_ENOUGH_TO_EDIT = '(min-width: 900px)'; // the launch form's fields start open this wide
const PLATFORM_TEXT = { ok: 'Working', degraded: 'Having problems', down: 'Down' };
const CHART_COALESCE_MS = 200; // presence batches come every 100 ms at most: one chart redraw for a few
const CHART_REDRAW_S = 15; // the open chart's time axis moves on this often (each change redraws it at once)

function main(page) {
  const { call, notices, clock, ticker, connection, api, sessionId } = page;
  const state = createSessionState();
  const roster = createRosterState();
  const results = createResultsState();
  const queue = createQueueState();
  const history = createPresenceHistory();
  const canConduct = () => CONDUCT_ROLES.has(state.me?.role);
  const canSupport = () => SUPPORT_ROLES.has(state.me?.role);
  let refresh = async () => false;
  let reportShown = false;
  let unread = 0;
  let chatCount = 0;
  let freshTickets = [];
  let dropped = [];
  const toldLost = new Set(); // pulses whose "lost" share was already told

  const helpPanel = byId('help-panel');
  const chatPanel = byId('chat-panel');
  const platformPanel = byId('platform-panel');

  // --- notices, sound and the title count -----------------------------------------------------------
  const beeper = createBeeper();
  const sound = byId('sound-toggle');
  sound.checked = lasting.get(SOUND_KEY) === 'on';
  sound.addEventListener('change', () => {
    lasting.set(SOUND_KEY, sound.checked ? 'on' : 'off');
    if (sound.checked) {
      beeper.unlock();
      beeper.beep();
    }
  });
  const toasts = createToasts(byId('toasts'), { onChange: updateTitle });

  function raise(notice) {
    if (!notice) return;
    toasts.push(notice);
    if (sound.checked) beeper.beep();
  }

  function updateTitle() {
    document.title = titleWithCount(document.title, toasts.count() + unread);
  }

  // --- the chat: unread while it is folded, scrolled away or the tab is hidden ----------------------
  let chatInView = false;
  new IntersectionObserver((seen) => {
    chatInView = seen.some((entry) => entry.isIntersecting);
    markChatRead();
  }).observe(byId('chat-log'));
  const chatVisible = () => chatPanel.open && chatInView && document.visibilityState === 'visible';
  function markChatRead() {
    if (!chatVisible() || unread === 0) return;
    unread = 0;
    renderBadges();
  }
  chatPanel.addEventListener('toggle', markChatRead);
  document.addEventListener('visibilitychange', markChatRead);

  function openPanel(panel, focus) {
    panel.open = true;
    panel.scrollIntoView({ block: 'start', behavior: 'smooth' });
    if (focus) panel.querySelector('summary').focus({ preventScroll: true });
  }
  byId('help-badge').addEventListener('click', () => openPanel(helpPanel, true));
  byId('chat-badge').addEventListener('click', () => {
    openPanel(chatPanel, false);
    byId('chat-input').focus({ preventScroll: true });
  });

  function renderBadges() {
    const waiting = queue.waiting().length;
    setText(byId('help-count'), waiting);
    byId('help-badge').dataset.count = String(waiting);
    setText(byId('unread-count'), unread);
    byId('chat-badge').dataset.count = String(unread);
    updateTitle();
  }

  // --- views ----------------------------------------------------------------------------------------
  const chat = createChatPanel({
    sessionId, token: page.token, call, notices,
    isConnected: () => connection.connected, whoAmI: () => state.me, onRender: renderChatFold,
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
    expected: byId('count-expected'), connected: byId('count-connected'), checkedIn: byId('count-checked-in'),
    late: byId('count-late'), absent: byId('count-absent'), absentLabel: byId('count-absent-label'),
  });
  const historyFold = byId('history-fold');
  const chart = createPresenceChart({ figure: byId('history-figure'), caption: byId('history-caption') }, {
    data: () => ({
      samples: history.samples(),
      checkins: roster.rows().map((row) => parseTime(row.checked_in_at)),
      expected: roster.counts().expected ?? roster.rows().length,
      now: parseTime(state.session?.closed_at) ?? clock.now(),
      loaded: history.loaded,
    }),
  });
  // Drawn at the width of its box (again when unfolded or resized), at most every CHART_COALESCE_MS
  // however fast presence batches come; its caption tells the same in words, folded or not.
  let chartTimer = null;
  const renderChart = () => {
    if (chartTimer === null) {
      chartTimer = setTimeout(() => {
        chartTimer = null;
        chart.render();
      }, CHART_COALESCE_MS);
    }
  };
  historyFold.addEventListener('toggle', renderChart);
  let chartWidth = 0;
  new ResizeObserver(([entry]) => {
    const width = Math.round(entry.contentRect.width);
    if (width !== chartWidth) {
      chartWidth = width;
      renderChart();
    }
  }).observe(byId('history-figure'));
  let chartAge = 0;
  const chartTick = () => {
    chartAge = (chartAge + 1) % CHART_REDRAW_S;
    if (chartAge === 0 && !state.isClosed) renderChart();
  };
  const codeView = createCheckinCodeView(
    { section: byId('code-section'), code: byId('checkin-code'), expires: byId('checkin-code-expires'), opens: byId('checkin-code-opens') },
    { clock, roster, session: () => state.session, onExpired: () => connection.connected && refresh() },
  );
  const rosterView = createRosterView(
    {
      table: byId('roster-table'), body: byId('roster-body'), markHeader: byId('roster-mark-header'), empty: byId('roster-empty'),
      filter: byId('roster-filter'), sort: byId('roster-sort'), search: byId('roster-search'),
      scroller: byId('roster-scroller'), canvas: byId('roster-canvas'), summary: byId('roster-summary'),
      marking: byId('roster-marking'), markingField: byId('roster-marking-field'),
    },
    {
      call, notices, roster, canMark: () => canConduct() && !state.isClosed, onMarked: renderRoster, sessionStatus: () => state.status,
      onPerson: (participantId) => rosterDetail.choose(participantId), selected: () => rosterDetail.selected(),
    },
  );
  const rosterDetail = createRosterDetail(
    {
      section: byId('roster-detail'), title: byId('roster-detail-title'), story: byId('roster-detail-story'),
      total: byId('roster-detail-total'), close: byId('roster-detail-close'),
    },
    { roster, history, clock, onChange: () => rosterView.draw() },
  );

  /** The server's presence history: on every (re)connect, so a reload or a gap still draws the whole class. */
  async function loadHistory() {
    try {
      const timeline = await api.getJson(sessionPath(sessionId, '/presence'));
      history.replace(timeline, { rows: roster.rows(), connected: roster.counts().connected ?? null, now: clock.now() });
    } catch (err) {
      // Without it the chart counts from this page's own events, and says so.
      console.info('companion: presence history not loaded', err);
    }
    renderChart();
    rosterDetail.render();
  }
  const resultsView = createResultsView(
    {
      list: byId('results-list'), empty: byId('results-empty'), closedSection: byId('closed-pings'),
      closedList: byId('closed-list'), closedCount: byId('closed-count'), justClosed: byId('just-closed'),
      justClosedText: byId('just-closed-text'), justClosedShare: byId('just-closed-share'), justClosedShared: byId('just-closed-shared'),
    },
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

  // Invitations: answers come live (`rsvp`); a problem (not ready, a mail given up) unfolds the panel once.
  const invitationsFold = byId('invitations-fold');
  let invitationsTold = false;
  const invitations = createInvitationsPanel(byId('invitations'), {
    request: api.send,
    zone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    canSend: () => state.me?.role === 'admin',
    titled: false,
    onSummary: (text, problem) => {
      setText(byId('invitations-summary'), text);
      if (problem && !invitationsTold) invitationsFold.open = true;
      invitationsTold ||= problem;
    },
  });

  // Preparation: unfolds by itself when the session starts within a day and is not ready.
  const preparationFold = byId('preparation-fold');
  let preparationTold = false;
  const preparation = createPreparationPanel(byId('preparation'), {
    request: api.send,
    canShare: canConduct,
    canCheck: () => canConduct() || canSupport(),
    titled: false,
    onSummary: (text, problem) => {
      setText(byId('preparation-summary'), text);
      if (problem && !preparationTold) preparationFold.open = true;
      preparationTold ||= problem;
    },
  });

  // Notes and minutes: open for whoever writes them, so the notes box is there mid-lecture without a click.
  const minutesPanel = createMinutesPanel(byId('minutes'), {
    request: api.send,
    canWrite: canConduct,
    onSummary: (text) => setText(byId('minutes-summary'), text),
  });
  let minutesOpened = false;

  // Feedback: the results of each form (staff) and its editor (admins, the instructor).
  const feedbackPanel = createFeedbackPanel(byId('feedback'), {
    request: api.send,
    canEdit: canConduct,
    onSummary: (text) => setText(byId('feedback-summary'), text),
  });

  // The session record: for those who may download it (admins, the instructor); made at close.
  const recordPanel = createRecordPanel(byId('record'), {
    request: api.send,
    download: api.download,
    onSummary: (text) => setText(byId('record-summary'), text),
  });

  // Platform attendance: the Zoom or Teams report beside the check-in (staff; admins and the instructor import).
  const platformAttendancePanel = createPlatformAttendancePanel(byId('platform-attendance'), {
    request: api.send,
    canImport: canConduct,
    onSummary: (text) => setText(byId('platform-attendance-summary'), text),
  });

  // Recording consent: ask, live yes / no / pending, start and stop; the banner while it records.
  const consentPanel = createConsentPanel(byId('consent'), {
    call, notices, canConduct,
    onSummary: (text) => setText(byId('consent-summary'), text),
  });
  const recordingBanner = createRecordingBanner(null, { notices });
  function renderConsent() {
    consentPanel.setStatus(state.status);
    consentPanel.render();
    recordingBanner.render(consentPanel.recording);
  }

  function renderRoster() {
    rosterView.render();
    countsView.render(roster.counts(), state.status);
    renderChart();
    rosterDetail.render();
    codeView.render();
    raise(dropNotice(dropped));
    dropped = [];
  }

  function renderPlatform() {
    banner.render(state.platform);
    platformSwitch.render(state.platform);
    setText(byId('platform-summary'), PLATFORM_TEXT[state.platform.status] ?? state.platform.status);
    // Trouble with the call is in use by definition: show the switch.
    if (state.platform.status !== 'ok') platformPanel.open = true;
  }

  function renderSession() {
    sessionView.render(state.session);
    countdownView.render(state.session);
    controls.render(state.session, { canConduct: canConduct() });
    show(byId('launch-section'), canConduct() && !state.isClosed);
    platformSwitch.setEnabled(!state.isClosed);
    chat.setClosed(state.isClosed);
    show(byId('chat-form'), !state.isClosed); // read-only after close: no dead box
    renderConsent();
    show(byId('platform-attendance-fold'), Boolean(state.me && state.me.role !== 'participant'));
    if (state.me && state.me.role !== 'participant') platformAttendancePanel.show({ id: sessionId, status: state.status });
    show(byId('record-fold'), canConduct());
    if (canConduct()) recordPanel.show({ id: sessionId, status: state.status });
    if (state.me && state.me.role !== 'participant') preparation.show({ id: sessionId, status: state.status });
    if (state.me && state.me.role !== 'participant') feedbackPanel.show({ id: sessionId, status: state.status });
    renderRoster();
    if (state.isClosed && !reportShown) {
      // Close answers once attendance and chat are saved, so the sheets are final now.
      reportShown = true;
      report.load();
      chatLog.load();
    }
    updateTitle();
  }

  function renderQueue() {
    const wasEmpty = helpPanel.dataset.count === '0' || !helpPanel.dataset.count;
    queueView.render();
    const open = queue.waiting().length + queue.claimed().length;
    helpPanel.dataset.count = String(open);
    // A folded panel opens when something arrives in it; the instructor may fold it again.
    if (wasEmpty && open > 0) helpPanel.open = true;
    for (const notice of helpNotices(freshTickets)) raise(notice);
    freshTickets = [];
    renderBadges();
  }

  function renderChatFold() {
    const count = byId('chat-log').children.length;
    setText(byId('chat-summary'), count === 0 ? 'No messages yet' : `${count} message${count === 1 ? '' : 's'}`);
    if (chatCount === 0 && count > 0) chatPanel.open = true;
    chatCount = count;
  }

  function onChatMessage(message) {
    const me = state.me;
    const mine = me && message.author === me.name && message.role === me.role;
    const fresh = chat.put(message);
    if (mine || !fresh) return;
    if (!chatVisible()) unread += 1;
    if (mentionsMe(message, me)) raise(mentionNotice(message));
  }

  const { dispatch } = createDispatcher({
    'session:state': {
      update(snapshot) {
        state.applySnapshot(snapshot);
        roster.replace(snapshot);
        history.apply(snapshot.participants, roster.counts().connected, clock.now());
        results.replaceOpen(snapshot.pings);
        freshTickets = queue.replace(snapshot.tickets);
        consentPanel.applySnapshot(snapshot);
      },
      render() {
        if (state.me?.role === 'participant') {
          page.showProblem('This is a participant link: open your companion tab instead (/join/…).');
        }
        setText(byId('whoami'), state.me?.name ? `${state.me.name} (${state.me.role})` : '');
        renderSession();
        renderPlatform();
        resultsView.render();
        renderQueue();
        chat.render();
        if (state.me?.role !== 'participant') {
          invitations.show({ id: sessionId }, { again: true });
          minutesPanel.show({ id: sessionId, status: state.status });
          if (canConduct() && !minutesOpened) byId('minutes-fold').open = true;
          minutesOpened ||= canConduct();
        }
      },
    },
    session: { update: (session) => state.applySession(session), render: renderSession },
    platform: { update: (platform) => state.applyPlatform(platform), render: renderPlatform },
    presence: {
      update(event) {
        dropped = droppedOut(event.changes, (id) => roster.get(id), state.status);
        roster.applyPresence(event);
        history.apply(event.changes, roster.counts().connected, clock.now());
      },
      render: renderRoster,
    },
    'ping:results': {
      update: (result) => results.apply(result),
      render(result) {
        resultsView.render();
        const notice = lostNotice(results.get(result.ping_id), toldLost);
        if (notice) {
          toldLost.add(result.ping_id);
          raise(notice);
        }
      },
    },
    'help:queue': { update: (event) => { freshTickets = queue.replace(event.tickets); }, render: renderQueue },
    chat: { update: onChatMessage, render: () => { chat.render(); renderBadges(); } },
    rsvp: { update: (event) => invitations.applyRsvp(event), render: () => {} },
    materials: { update: () => {}, render: () => preparation.reload() },
    readiness: { update: () => {}, render: () => preparation.reload() },
    consent: { update: (event) => consentPanel.applyRequest(event), render: renderConsent },
    'consent:results': { update: (event) => consentPanel.applyResults(event), render: renderConsent },
    recording: { update: (event) => consentPanel.setRecording(event.recording), render: renderConsent },
  });

  const controls = createSessionControls(
    {
      root: byId('controls'), start: byId('start-button'), delaySection: byId('delay-section'), delayForm: byId('delay-form'),
      delayMinutes: byId('delay-minutes'), delayReason: byId('delay-reason'), close: byId('close-button'),
    },
    { call, notices, onSession: (session) => dispatch('session', session) },
  );
  byId('launch-edit').open = window.matchMedia(WIDE_ENOUGH_TO_EDIT).matches;
  createPingLauncher(
    {
      form: byId('launch-form'), template: byId('launch-template'), edit: byId('launch-edit'), kind: byId('launch-kind'),
      kindHint: byId('launch-kind-hint'), question: byId('launch-question'), optionsField: byId('launch-options-field'),
      options: byId('launch-options'), seconds: byId('launch-seconds'),
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
  ticker.add(chartTick);
  const afterSnapshot = async () => {
    loadHistory(); // not awaited: the chat catches up meanwhile
    await chat.onConnect();
  };
  ({ refresh } = runPage(page, { dispatch, afterSnapshot }));
}

const page = startPage({ staff: true });
if (page) main(page);
