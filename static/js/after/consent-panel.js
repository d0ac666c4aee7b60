/**
 * Recording consent on the dashboard: ask every participant (with an optional text of one's own),
 * see yes / no / pending live, and start or stop the recording. When a connected participant
 * declined, starting is refused: the panel explains it and asks for the override reason inline
 * (kept in the audit log). Support see the counts and the state, without the buttons.
 */

import { h, setText, show } from '../lib/dom.js';
import { clockTime, parseTime } from '../lib/format.js';

const MAX_TEXT = 2000;
const MAX_REASON = 500;

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

/** root: the panel's section; canConduct(): may ask and record (instructor, admin); onSummary(text) hears the one-line state. */
export function createConsentPanel(root, { call, notices, canConduct = () => false, onSummary = () => {} }) {
  let request = null; // {request_id, purpose, text, requested_at}
  let counts = null; // {request_id, yes, no, pending}
  let recording = false;
  let status = 'scheduled';
  let overriding = null; // the conflict's message while the override reason is asked

  const customText = h('textarea', { id: 'consent-custom-text', rows: 3, maxlength: MAX_TEXT, 'aria-describedby': 'consent-custom-hint' });
  const askButton = h('button', { type: 'submit', class: 'button button-primary', text: 'Ask for consent to record' });
  const askForm = h('form', { class: 'consent-ask', 'aria-label': 'Ask for consent', onsubmit: (e) => { e.preventDefault(); ask(); } }, [
    h('div', { class: 'field' }, [
      h('label', { for: 'consent-custom-text', text: 'Text of the request (optional)' }),
      customText,
      h('p', { id: 'consent-custom-hint', class: 'hint', text: 'Leave it empty for the default text. Asking again replaces the open request.' }),
    ]),
    askButton,
  ]);
  const asked = h('p', { class: 'consent-asked' });
  const askedText = h('p', { class: 'hint consent-asked-text' });
  const value = () => h('span', { class: 'consent-count-value', text: '0' });
  const yes = value();
  const no = value();
  const pending = value();
  const countList = h('ul', { class: 'consent-counts', 'aria-label': 'Answers' }, [
    h('li', {}, [yes, 'yes']),
    h('li', {}, [no, 'no']),
    h('li', {}, [pending, 'pending']),
  ]);

  const recordingState = h('p', { class: 'consent-recording-state' });
  const toggle = h('button', { type: 'button', class: 'button', onclick: () => (recording ? stop() : start(null)) });
  const liveHint = h('p', { class: 'hint', text: 'Recording can start once the session is live.' });
  const reason = h('textarea', { id: 'consent-override-reason', rows: 2, maxlength: MAX_REASON, required: true });
  const overrideWhy = h('p', { id: 'consent-override-why' });
  const override = h('form', {
    class: 'consent-override',
    'aria-labelledby': 'consent-override-why',
    onsubmit: (e) => { e.preventDefault(); start(reason.value); },
  }, [
    overrideWhy,
    h('div', { class: 'field' }, [h('label', { for: 'consent-override-reason', text: 'Reason for recording anyway' }), reason]),
    h('button', { type: 'submit', class: 'button button-danger', text: 'Start recording anyway' }),
    ' ',
    h('button', { type: 'button', class: 'button button-quiet', text: 'Cancel', onclick: () => { overriding = null; render(); toggle.focus(); } }),
  ]);
  const recordingPart = h('div', { class: 'consent-recording' }, [recordingState, toggle, liveHint, override]);
  root.replaceChildren(askForm, asked, askedText, countList, recordingPart);

  async function ask() {
    const text = customText.value.trim();
    askButton.disabled = true;
    const ack = await call('consent:request', text ? { purpose: 'recording', text } : { purpose: 'recording' });
    askButton.disabled = false;
    if (notices.failed(ack, 'Consent not asked')) return;
    // The `consent` event (with the text as sent) may come before or after this answer.
    if (request?.request_id !== ack.request_id) {
      request = { request_id: ack.request_id, purpose: 'recording', text: text || null, requested_at: new Date().toISOString() };
    }
    customText.value = '';
    notices.announce('Consent asked: every participant sees the request.');
    render();
  }

  async function start(why) {
    const body = { recording: true };
    if (why !== null) {
      if (!why.trim()) {
        reason.focus();
        return;
      }
      body.override_reason = why.trim();
    }
    const ack = await call('recording:status', body);
    if (ack && ack.ok === false && ack.error?.code === 'conflict' && typeof ack.error.declined === 'number') {
      notices.clear('Recording not started');
      const n = ack.error.declined;
      overriding = `${plural(n, 'connected participant', 'connected participants')} declined to be recorded. `
        + 'To start anyway, give a reason: it is kept in the audit log.';
      render();
      reason.focus();
      return;
    }
    if (notices.failed(ack, 'Recording not started')) return;
    overriding = null;
    reason.value = '';
    recording = true;
    render();
  }

  async function stop() {
    const ack = await call('recording:status', { recording: false });
    if (notices.failed(ack, 'Recording not stopped')) return;
    recording = false;
    render();
  }

  function render() {
    const conduct = canConduct();
    const closed = status === 'closed' || status === 'cancelled';
    show(askForm, conduct && !closed);
    if (request) {
      const at = parseTime(request.requested_at);
      setText(asked, `Consent asked${Number.isFinite(at) ? ` at ${clockTime(at)}` : ''}.`);
    } else {
      setText(asked, closed ? 'No request is open: the session has closed.' : 'Consent has not been asked yet.');
    }
    setText(askedText, request?.text ? `“${request.text}”` : '');
    show(askedText, Boolean(request?.text));
    show(countList, Boolean(request));
    const c = counts && request && counts.request_id === request.request_id ? counts : { yes: 0, no: 0, pending: 0 };
    setText(yes, c.yes);
    setText(no, c.no);
    setText(pending, c.pending);
    setText(recordingState, recording ? 'Recording is on.' : 'Not recording.');
    setText(toggle, recording ? 'Stop recording' : 'Start recording');
    toggle.className = recording ? 'button button-danger' : 'button button-primary';
    show(toggle, conduct && status === 'live');
    show(liveHint, conduct && status === 'scheduled');
    show(override, conduct && status === 'live' && !recording && overriding !== null);
    setText(overrideWhy, overriding ?? '');
    onSummary(summary(c, closed));
  }

  function summary(c, closed) {
    const parts = [];
    if (recording) parts.push('Recording');
    if (request) parts.push(`${c.yes} yes, ${c.no} no, ${c.pending} pending`);
    else if (!recording) parts.push(closed ? 'Closed' : 'Not asked');
    return parts.join(' · ');
  }

  return {
    /** From `session:state`: the open request with its counts, and whether it is recording. */
    applySnapshot(snapshot) {
      const open = snapshot.consent ?? null;
      request = open ? { request_id: open.request_id, purpose: open.purpose, text: open.text, requested_at: open.requested_at } : null;
      counts = open?.results ?? null;
      recording = snapshot.recording === true;
      status = snapshot.session?.status ?? status;
    },
    /** A `consent` event: a request was made (here or on another dashboard), with its text. */
    applyRequest(event) {
      if (!request || request.request_id !== event.request_id) counts = null;
      request = { request_id: event.request_id, purpose: event.purpose, text: event.text, requested_at: event.requested_at };
    },
    applyResults(event) {
      counts = { ...event };
      if (!request || request.request_id !== event.request_id) {
        request = { request_id: event.request_id, purpose: 'recording', text: null, requested_at: null };
      }
    },
    setRecording(on) {
      recording = on === true;
      if (recording) overriding = null;
    },
    setStatus(next) {
      status = next;
      if (status === 'closed' || status === 'cancelled') {
        request = null;
        recording = false;
        overriding = null;
      }
    },
    render,
    get recording() { return recording; },
  };
}
