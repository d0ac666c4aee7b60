/**
 * The participant's companion tab: countdown, check-in, pings, help and the backup chat; "Add to
 * calendar" (their personal calendar feed) and the reminders that arrive while it is open.
 */

import { byId, h, setText, show } from '../lib/dom.js';
import { sessionPath } from '../lib/api.js';
import { createDispatcher } from '../lib/dispatcher.js';
import { runPage, startPage } from '../lib/page.js';
import { createSessionState } from '../session/session-state.js';
import { createSessionView } from '../session/session-view.js';
import { createCountdownView } from '../session/countdown-view.js';
import { createPlatformBanner } from '../session/platform-banner.js';
import { createChatPanel } from '../chat/chat-panel.js';
import { createCheckin } from '../participant/checkin.js';
import { createPingsState } from '../participant/pings-state.js';
import { createPingCards } from '../participant/ping-cards.js';
import { createSharedResults } from '../participant/shared-results.js';
import { createHelpState } from '../participant/help-state.js';
import { createHelpView } from '../participant/help-view.js';
import { createEndView } from '../participant/end-view.js';
import { createFeedbackCard } from '../feedback/tab-card.js';
import { createConsentState } from '../participant/consent-state.js';
import { createConsentPrompt } from '../participant/consent-prompt.js';
import { createRecordingBanner } from '../participant/consent-banner.js';

function main(page) {
  const { call, notices, clock, ticker, connection } = page;
  const state = createSessionState();
  const pings = createPingsState();
  const help = createHelpState();
  const consent = createConsentState(); // recording consent and the recording banner

  const chat = createChatPanel({
    sessionId: page.sessionId, token: page.token, call, notices,
    isConnected: () => connection.connected, whoAmI: () => state.me, onRender: () => endView.render(),
  });
  const sessionView = createSessionView({
    topic: byId('topic'), status: byId('session-status'), schedule: byId('schedule'),
    joinLink: byId('join-link'), agendaSection: byId('agenda-section'), agendaList: byId('agenda'),
  });
  const countdownView = createCountdownView(
    { label: byId('countdown-label'), value: byId('countdown-value'), note: byId('countdown-note') },
    { clock, notices },
  );
  const banner = createPlatformBanner(byId('platform-banner'), { audience: 'participant', notices });
  const checkin = createCheckin(
    {
      form: byId('checkin-form'), codeField: byId('checkin-code-field'), codeInput: byId('checkin-code'),
      button: byId('checkin-button'), opensNote: byId('checkin-opens'), result: byId('checkin-result'),
    },
    { call, notices, clock, state },
  );
  const pingCards = createPingCards({ list: byId('ping-list'), empty: byId('pings-empty') }, { call, notices, clock, pings });
  const sharedResults = createSharedResults({ list: byId('shared-list'), heading: byId('pings-title') }, { notices, pings });
  const helpView = createHelpView(
    {
      start: byId('help-start'), chooser: byId('help-chooser'), categories: byId('help-categories'),
      steps: byId('help-steps'), stepsList: byId('help-steps-list'), form: byId('help-form'),
      text: byId('help-text'), cancel: byId('help-cancel'), status: byId('help-status'),
      statusText: byId('help-status-text'), note: byId('help-note'), withdraw: byId('help-withdraw'),
    },
    { call, notices, help, isClosed: () => state.isClosed },
  );

  const endView = createEndView(
    {
      end: byId('end-section'), attendance: byId('end-attendance'), countdown: byId('countdown'),
      checkin: byId('checkin-section'), pings: byId('pings-section'), help: byId('help-section'),
      chat: byId('chat-section'), chatForm: byId('chat-form'), chatLog: byId('chat-log'),
    },
    { state },
  );
  const consentPrompt = createConsentPrompt(byId('consent-section'), { call, notices, consent });
  const recordingBanner = createRecordingBanner(byId('recording-banner'), { notices });
  function renderConsent() {
    if (state.isClosed) consent.end();
    consentPrompt.render();
    recordingBanner.render(consent.recording);
  }

  function renderSession() {
    sessionView.render(state.session);
    countdownView.render(state.session);
    checkin.render();
    helpView.render();
    chat.setClosed(state.isClosed);
    endView.render();
  }

  function renderCalendar() {
    const url = state.me?.calendar_url;
    if (url) byId('calendar-link').href = url;
    show(byId('calendar'), Boolean(url) && !state.isClosed);
    // The setup check takes the same personal token as this tab (it stays out of the address bar here).
    byId('setup-link').href = `/setup/${encodeURIComponent(page.sessionId)}#token=${encodeURIComponent(page.token)}`;
    show(byId('setup'), state.status === 'scheduled');
  }

  // Materials shared ahead: each a personal download link (or a link elsewhere), before and during the class.
  function renderMaterials(list) {
    const items = list || [];
    byId('materials').replaceChildren(...items.map((m) => h('li', {}, [
      m.kind === 'file'
        ? h('a', { href: m.url, download: m.filename, text: m.title })
        : h('a', { href: m.url, target: '_blank', rel: 'noopener noreferrer', text: m.title }),
      m.kind === 'file' && h('span', { class: 'hint', text: ` (${m.filename})` }),
    ])));
    show(byId('materials-section'), items.length > 0);
  }
  async function reloadMaterials() {
    try {
      renderMaterials((await page.api.getJson(sessionPath(page.sessionId, '/materials'))).materials);
    } catch (err) {
      console.info('companion: materials not read again', err);
    }
  }

  // After the close: the participant's own feedback form (their link is personal).
  const feedback = createFeedbackCard({
    section: byId('feedback-section'), link: byId('feedback-link'), root: byId('feedback-form'),
    note: byId('end-note'),
  });

  const startsAt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
  function remind(event) {
    const note = byId('reminder-note');
    setText(note, `Reminder: the class starts at ${startsAt.format(Date.parse(event.starts_at))}.`);
    show(note, true);
  }

  const { dispatch } = createDispatcher({
    'session:state': {
      update(snapshot) {
        state.applySnapshot(snapshot);
        pings.replaceAll(snapshot.pings);
        help.replace(snapshot.ticket);
        consent.applySnapshot(snapshot);
      },
      render(snapshot) {
        setText(byId('whoami'), state.me?.name ? `Signed in as ${state.me.name}` : '');
        renderSession();
        renderCalendar();
        renderMaterials(snapshot.materials);
        feedback.show(snapshot.feedback);
        banner.render(state.platform);
        pingCards.render();
        renderConsent();
      },
    },
    session: {
      update: (session) => state.applySession(session),
      render: () => { renderSession(); renderCalendar(); renderConsent(); },
    },
    platform: { update: (platform) => state.applyPlatform(platform), render: () => banner.render(state.platform) },
    ping: { update: (ping) => pings.add(ping), render: () => pingCards.render() },
    'ping:closed': { update: (event) => pings.close(event.ping_id), render: () => pingCards.render() },
    'ping:shared': { update: (event) => pings.share(event), render: () => sharedResults.render() },
    'help:ticket': { update: (ticket) => help.apply(ticket), render: () => helpView.render() },
    chat: { update: (message) => chat.put(message), render: () => chat.render() },
    reminder: { update: () => {}, render: remind },
    materials: { update: () => {}, render: reloadMaterials },
    feedback: { update: () => {}, render: (event) => feedback.show(event) },
    consent: { update: (event) => consent.applyRequest(event), render: renderConsent },
    recording: { update: (event) => consent.setRecording(event.recording), render: renderConsent },
  });

  ticker.add(countdownView.tick);
  ticker.add(pingCards.tick);
  ticker.add(checkin.tick);
  runPage(page, { dispatch, afterSnapshot: chat.onConnect });
}

const page = startPage();
if (page) main(page);
