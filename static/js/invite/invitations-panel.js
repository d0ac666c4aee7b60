/**
 * A session's invitations, for the schedule page's details and the dashboard: who is invited and what
 * they answered (counts first), whether each mail went out, the reminders, and why it is not ready or
 * was invited at short notice. Administrators also get "Send invitations" (for a session of a series:
 * this one, or the whole series as one calendar event); inviting inside the lead time asks for a
 * reason first, as the server does. Answers arrive live through `applyRsvp` (the `rsvp` event).
 */

import { h, setText } from '../lib/dom.js';
import { answerCounts, countsText, mailText, notReadyText, reminderText, ANSWER_TEXT } from './invitations-text.js';

let panels = 0;
const POLL_MS = 2000; // while mails are queued, their state is read again this often...
const POLLS = 30; // ...this many times after a change (a server retrying for an hour is not watched all along)

/**
 * Build the panel into `root` (emptied first). `request(method, path, body)` calls the API and throws
 * an error with `status` and `details` (the server's error object) when refused; `zone` is the
 * viewer's; `canSend()` says whether the viewer may send; `onSummary(text, problem)` hears the
 * one-line summary whenever it changes (the dashboard shows it on its fold); `level` is the heading's,
 * and `titled: false` leaves the heading out (the page has its own); `onSent()` after invitations went out.
 */
export function createInvitationsPanel(
  root,
  { request, zone, canSend = () => false, onSummary = () => {}, onSent = () => {}, level = 3, titled = true },
) {
  panels += 1;
  const id = (name) => `inv${panels}-${name}`;
  let session = null;
  let invitations = [];
  let reminders = [];
  let loaded = null; // the id whose lists are on show
  let poll = null;
  let polls = 0;

  const heading = h(`h${level}`, { id: id('title'), class: 'inv-title', text: 'Invitations' });
  const summary = h('p', { class: 'inv-summary', role: 'status' });
  const problems = h('ul', { class: 'inv-problems' });
  const seriesBox = h('input', { id: id('series'), type: 'checkbox' });
  const seriesChoice = h('div', { class: 'choice' }, [
    seriesBox,
    h('label', { for: id('series'), text: 'The whole series, as one calendar event' }),
  ]);
  const sendButton = h('button', { type: 'submit', class: 'button button-primary', text: 'Send invitations' });
  const result = h('div', { class: 'refusal', hidden: true });
  const form = h('form', { class: 'inv-send', 'aria-label': 'Send invitations', onsubmit: (e) => { e.preventDefault(); send(); } }, [
    seriesChoice, result, sendButton,
  ]);
  const table = h('table', { class: 'inv-table' }, [
    h('caption', { text: 'Who is invited' }),
    h('thead', {}, [h('tr', {}, [
      h('th', { scope: 'col', text: 'Person' }),
      h('th', { scope: 'col', text: 'Answer' }),
      h('th', { scope: 'col', text: 'Mail' }),
    ])]),
  ]);
  const body = h('tbody');
  table.append(body);
  const nobody = h('p', { class: 'empty', text: 'Nobody invited yet.' });
  const reminderList = h('ul', { class: 'inv-reminders', 'aria-labelledby': id('reminders') });
  root.replaceChildren(...[
    titled ? heading : null, summary, problems, form,
    // A long list or a long mail error may scroll sideways on a phone: the keyboard can scroll it too.
    h('div', { class: 'inv-scroll', tabindex: 0, role: 'group', 'aria-label': 'Who is invited' }, [table]), nobody,
    h(`h${level + 1}`, { id: id('reminders'), class: 'inv-subtitle', text: 'Reminders' }),
    reminderList,
  ].filter(Boolean));
  if (titled) root.setAttribute('aria-labelledby', id('title'));

  async function load() {
    if (!session) return;
    const sid = session.id;
    const path = `/api/sessions/${encodeURIComponent(sid)}`;
    try {
      const [fresh, list, due] = await Promise.all([
        request('GET', path),
        request('GET', `${path}/invitations`),
        request('GET', `${path}/reminders`),
      ]);
      if (!session || session.id !== sid) return; // another session was opened meanwhile
      session = fresh;
      invitations = list.invitations;
      reminders = due.reminders;
      loaded = sid;
    } catch (err) {
      setText(summary, `The invitations could not be read: ${err.message}`);
      return;
    }
    render();
  }

  function render() {
    const s = session;
    const counts = answerCounts(invitations);
    const text = s.invitations_sent_at || invitations.length ? countsText(counts) : 'Not invited yet.';
    setText(summary, text);
    const notes = [];
    const notReady = notReadyText(s.not_ready || []);
    if (notReady) notes.push(h('li', { class: 'inv-problem', 'data-kind': 'not-ready', text: notReady }));
    const failed = invitations.filter((i) => i.mail === 'failed').length;
    if (failed) {
      notes.push(h('li', {
        class: 'inv-problem',
        'data-kind': 'mail-failed',
        text: `${failed === 1 ? 'One invitation mail' : `${failed} invitation mails`} could not be delivered (see the list).`,
      }));
    }
    if (s.short_notice_reason) {
      notes.push(h('li', { class: 'inv-note', text: `Invited at short notice because: ${s.short_notice_reason}` }));
    }
    problems.replaceChildren(...notes);
    problems.hidden = notes.length === 0;
    onSummary(notReady ? `Not ready · ${text}` : text, Boolean(notReady || failed));

    const open = s.status === 'scheduled' && canSend();
    form.hidden = !open;
    seriesChoice.hidden = !s.series_id;
    setText(sendButton, s.invitations_sent_at ? 'Send to those not yet invited' : 'Send invitations');
    sendButton.className = s.invitations_sent_at ? 'button' : 'button button-primary';

    body.replaceChildren(...invitations.map((i) => row(i)));
    table.hidden = invitations.length === 0;
    nobody.hidden = invitations.length > 0;
    reminderList.replaceChildren(...reminders.map((r) => h('li', { 'data-state': r.state, text: reminderText(r, zone) })));
    if (!reminders.length) reminderList.append(h('li', { text: 'No reminders are configured.' }));

    clearTimeout(poll);
    if (invitations.some((i) => i.mail === 'queued') && polls < POLLS) {
      polls += 1;
      poll = setTimeout(load, POLL_MS);
    }
  }

  function row(i) {
    return h('tr', { 'data-rsvp': i.rsvp, 'data-mail': i.mail }, [
      h('td', {}, [
        h('span', { class: 'inv-name', text: i.name || i.email }),
        i.role === 'instructor' && h('span', { class: 'inv-role', text: ' (instructor)' }),
        i.name && i.name !== i.email && h('span', { class: 'inv-email', text: ` ${i.email}` }),
      ]),
      h('td', { text: ANSWER_TEXT[i.rsvp] || i.rsvp }),
      h('td', { text: mailText(i) }),
    ]);
  }

  async function send(reason) {
    const s = session;
    if (!s) return;
    const series = Boolean(s.series_id && seriesBox.checked);
    result.replaceChildren();
    result.hidden = true;
    sendButton.disabled = true;
    try {
      const path = `/api/sessions/${encodeURIComponent(s.id)}/invitations${series ? '?scope=series' : ''}`;
      const sent = await request('POST', path, reason ? { short_notice_reason: reason } : {});
      polls = 0;
      done(sent.sent ? `Invitations are going out to ${sent.sent === 1 ? 'one person' : `${sent.sent} people`}.`
        : 'Everyone was already invited.');
      await load();
      onSent();
    } catch (err) {
      if (err.status === 409 && err.details?.reason === 'short_notice') askReason(err);
      else refused(err.message);
    } finally {
      sendButton.disabled = false;
    }
  }

  function done(text) {
    result.replaceChildren(h('p', { class: 'refusal-done', role: 'status', text }));
    result.dataset.kind = 'done';
    result.hidden = false;
  }

  function refused(message) {
    result.replaceChildren(h('p', { class: 'refusal-message', role: 'alert', text: `Not sent: ${message}` }));
    result.dataset.kind = 'problem';
    result.hidden = false;
  }

  /** The session starts sooner than the lead time: say so, and send only with a reason. */
  function askReason(err) {
    const lead = err.details?.lead;
    const input = h('input', { id: id('reason'), type: 'text', maxlength: 500, required: true, autocomplete: 'off' });
    result.replaceChildren(
      h('p', {
        class: 'refusal-message',
        role: 'alert',
        text: `This is short notice: invitations should go out at least ${lead || 'the lead time'} before the start.`,
      }),
      h('div', { class: 'override-form' }, [
        h('label', { for: id('reason'), text: 'Reason for inviting at short notice (kept with the session)' }),
        h('div', { class: 'override-row' }, [
          input,
          h('button', {
            type: 'button',
            class: 'button button-danger',
            text: 'Send anyway',
            onclick: () => {
              const reason = input.value.trim();
              if (reason) send(reason);
              else input.focus();
            },
          }),
        ]),
      ]),
    );
    result.dataset.kind = 'problem';
    result.hidden = false;
    input.focus();
  }

  return {
    /** Show the session `s` (its lists are read again when it is another one, or `again`). */
    show(s, { again = false } = {}) {
      const other = !session || session.id !== s.id;
      session = { ...session, ...s };
      if (other) {
        polls = 0;
        invitations = [];
        reminders = [];
        seriesBox.checked = false;
        result.replaceChildren();
        result.hidden = true;
      }
      if (other || again || loaded !== s.id) return load();
      render();
      return Promise.resolve();
    },

    /** Read everything again (after a change elsewhere on the page). */
    reload: load,

    /** An `rsvp` event: the answer of one invitee (the instructor's row has participant_id null). */
    applyRsvp(event) {
      if (!session || event.session_id !== session.id) return;
      const who = invitations.find((i) => i.participant_id === event.participant_id);
      if (!who) {
        load();
        return;
      }
      who.rsvp = event.rsvp;
      render();
    },
  };
}
