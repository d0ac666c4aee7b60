/**
 * The participant's setup check (/setup/{session}#token=…): browser, microphone, camera, speakers and
 * connection, each with what to do when it does not work; the platform's troubleshooting guide; and the
 * result sent to support as a pre-class help request.
 */

import { byId, setText } from '../lib/dom.js';
import { sessionPath } from '../lib/api.js';
import { createDispatcher, IGNORE } from '../lib/dispatcher.js';
import { dateTime, parseTime } from '../lib/format.js';
import { runPage, startPage } from '../lib/page.js';
import { createSessionState } from '../session/session-state.js';
import { createPlatformBanner } from '../session/platform-banner.js';
import { createHelpState } from '../participant/help-state.js';
import { createCheckView } from '../setup/check-view.js';
import { detectBrowser, judgeBrowser, missingFeatures } from '../setup/browser.js';
import { createMicrophoneCheck } from '../setup/microphone.js';
import { createCameraCheck } from '../setup/camera.js';
import { createSpeakersCheck } from '../setup/speakers.js';
import { createNetworkCheck } from '../setup/network.js';
import { renderGuide } from '../setup/guide-view.js';
import { createReport } from '../setup/report.js';

// Until the server's guide arrives (or if it cannot be read), the browsers every platform supports.
const FALLBACK_GUIDE = Object.freeze({
  platform: null,
  browsers: [
    { id: 'chrome', name: 'Google Chrome' }, { id: 'edge', name: 'Microsoft Edge' },
    { id: 'firefox', name: 'Mozilla Firefox' }, { id: 'safari', name: 'Safari' },
  ],
  app: null,
  phone: '',
  troubleshooting: [],
});

function main(page) {
  const { call, notices, api, sessionId, token } = page;
  const state = createSessionState();
  const help = createHelpState();
  const browser = detectBrowser();
  const banner = createPlatformBanner(byId('platform-banner'), { audience: 'participant', notices });
  byId('back-link').href = `/join/${encodeURIComponent(sessionId)}#token=${encodeURIComponent(token)}`;

  let report = null;
  const onChange = () => report?.render();
  const checks = {
    browser: createCheckView(byId('check-browser'), { label: 'Browser', onChange }),
    microphone: createCheckView(byId('check-microphone'), { label: 'Microphone', onChange }),
    camera: createCheckView(byId('check-camera'), { label: 'Camera', onChange }),
    speakers: createCheckView(byId('check-speakers'), { label: 'Speakers', onChange }),
    network: createCheckView(byId('check-network'), { label: 'Connection', onChange }),
  };
  report = createReport(
    {
      summary: byId('send-summary'), status: byId('send-status'), form: byId('send-form'),
      text: byId('send-text'), button: byId('send-button'), note: byId('send-note'),
    },
    { call, notices, checks, help, state },
  );

  createMicrophoneCheck(
    {
      start: byId('microphone-start'), stop: byId('microphone-stop'), deviceField: byId('microphone-device-field'),
      device: byId('microphone-device'), meterField: byId('microphone-meter-field'), meter: byId('microphone-level'),
    },
    { view: checks.microphone, browser, notices },
  );
  createCameraCheck(
    {
      start: byId('camera-start'), stop: byId('camera-stop'), deviceField: byId('camera-device-field'),
      device: byId('camera-device'), preview: byId('camera-preview'),
    },
    { view: checks.camera, browser, notices },
  );
  createSpeakersCheck(
    {
      section: byId('check-speakers'), play: byId('speakers-play'), question: byId('speakers-question'),
      yes: byId('speakers-yes'), no: byId('speakers-no'),
    },
    { view: checks.speakers, notices },
  );
  const network = createNetworkCheck(
    { start: byId('network-start'), figures: byId('network-figures'), rtt: byId('network-rtt'), download: byId('network-download') },
    { view: checks.network, token },
  );

  function judge(guide) {
    const verdict = judgeBrowser(guide, browser, missingFeatures());
    checks.browser.set(verdict.result, verdict.text, verdict.steps);
  }

  async function loadGuide() {
    try {
      const guide = await api.getJson(sessionPath(sessionId, '/setup'));
      renderGuide(
        { title: byId('guide-title'), browsers: byId('guide-browsers'), phone: byId('guide-phone'), steps: byId('guide-steps') },
        guide,
      );
      judge(guide);
    } catch (err) {
      notices.error(`Could not load the platform’s guide: ${err.message}`);
      judge(FALLBACK_GUIDE);
    }
  }

  function renderSession() {
    const s = state.session;
    if (!s) return;
    const starts = parseTime(s.expected_start ?? s.starts_at);
    const when = {
      scheduled: starts ? `starts ${dateTime(starts)}` : 'not started yet',
      live: 'has started',
      closed: 'has ended',
      cancelled: 'was cancelled',
    }[s.status] ?? '';
    setText(byId('setup-for'), `For “${s.topic}”, which ${when}.`);
    document.title = `Setup check: ${s.topic} · Companion`;
    report.render();
  }

  const { dispatch } = createDispatcher({
    'session:state': {
      update(snapshot) {
        state.applySnapshot(snapshot);
        help.replace(snapshot.ticket);
      },
      render() {
        setText(byId('whoami'), state.me?.name ? `Signed in as ${state.me.name}` : '');
        renderSession();
        banner.render(state.platform);
      },
    },
    session: { update: (session) => state.applySession(session), render: renderSession },
    platform: { update: (platform) => state.applyPlatform(platform), render: () => banner.render(state.platform) },
    'help:ticket': { update: (ticket) => help.apply(ticket), render: () => report.render() },
    // What the companion tab shows (pings, chat, materials, reminders): not this page's business.
    ping: IGNORE,
    'ping:closed': IGNORE,
    'ping:shared': IGNORE,
    chat: IGNORE,
    reminder: IGNORE,
    materials: IGNORE,
  });

  report.render();
  loadGuide();
  network.run();
  runPage(page, { dispatch, afterSnapshot: async () => {} });
}

const page = startPage();
if (page) main(page);
