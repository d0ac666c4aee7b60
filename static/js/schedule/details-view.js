/**
 * One session's details, opened from the week: its times in the viewer's zone and, when they read
 * differently, in the session's own; reschedule and cancel (each for it alone or with the rest of its
 * series); a link to its dashboard. The roster below it is roster-view.js's.
 */

import { byId, h, setText } from '../lib/dom.js';
import { send, sessionUrl } from './api.js';
import { featureName } from './features.js';
import { clearRefusal, showRefusal } from './refusal-view.js';
import { people, sessionWhen, statusText } from './times.js';
import { instantOf, wallTime } from './zones.js';

/**
 * Wire the details panel (`platforms` name them). `onChanged(session, message)` after a reschedule or cancellation;
 * `onClose()` when it is closed; `onShowConflict(conflict)` shows a session in the way.
 */
export function setUpDetails({ viewerZone, platforms, onChanged, onClose, onShowConflict }) {
  const platformNames = Object.fromEntries(platforms.map((p) => [p.id, p.name]));
  const panel = byId('details');
  let current = null;

  byId('details-close').addEventListener('click', () => {
    panel.hidden = true;
    current = null;
    onClose();
  });

  byId('reschedule-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (!current) return;
    const s = current;
    const changes = {};
    const was = wallTime(Date.parse(s.starts_at), s.timezone);
    const date = byId('reschedule-date').value;
    const time = byId('reschedule-time').value;
    if (date !== was.date || time !== was.time) changes.starts_at = instantOf(date, time, s.timezone).iso;
    const duration = Number(byId('reschedule-duration').value);
    if (duration !== s.duration_minutes) changes.duration_minutes = duration;
    const refusal = byId('reschedule-refusal');
    if (!Object.keys(changes).length) {
      showRefusal(refusal, { message: 'the date, time and duration are as they were', details: {} }, { what: 'Nothing changed' });
      return;
    }
    const following = byId('reschedule-following').checked;
    const patch = async (body) => {
      clearRefusal(refusal);
      try {
        const changed = await send('PATCH', sessionUrl(s.id, '', following), { json: body });
        byId('reschedule-following').checked = false; // the next change is to one session unless asked again
        onChanged(changed, following ? 'Rescheduled it and the following sessions.' : 'Rescheduled.');
      } catch (err) {
        showRefusal(refusal, err, {
          what: 'Not rescheduled',
          overrideLabel: 'Reschedule anyway',
          onOverride: (reason) => patch({ ...body, override_reason: reason }),
          onShow: onShowConflict,
        });
      }
    };
    patch(changes);
  });

  byId('cancel-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!current) return;
    const reason = byId('cancel-reason').value.trim();
    const refusal = byId('cancel-refusal');
    clearRefusal(refusal);
    if (!reason) {
      byId('cancel-reason').focus();
      return;
    }
    const following = byId('cancel-following').checked;
    try {
      const cancelled = await send('POST', sessionUrl(current.id, '/cancel', following), { json: { reason } });
      byId('cancel-reason').value = '';
      byId('cancel-following').checked = false;
      onChanged(cancelled, following ? 'Cancelled it and the following sessions.' : 'Cancelled.');
    } catch (err) {
      showRefusal(refusal, err, { what: 'Not cancelled' });
    }
  });

  return {
    /** The session on show, or null. */
    get current() {
      return current;
    },

    /** Show `s`; `focus` moves the keyboard to its heading (when opened from the week). */
    show(s, { focus = false } = {}) {
      const changedSession = !current || current.id !== s.id;
      current = s;
      panel.hidden = false;
      setText(byId('details-title'), s.topic);
      const status = byId('details-status');
      setText(status, statusText(s.status));
      status.dataset.status = s.status;
      byId('details-facts').replaceChildren(...facts(s, viewerZone, platformNames).flatMap(([term, value]) => [
        h('dt', { text: term }),
        h('dd', { text: value }),
      ]));
      byId('details-dashboard').href = `/dashboard/${encodeURIComponent(s.id)}`;
      fillForms(s, changedSession);
      if (focus) {
        byId('details-title').focus({ preventScroll: true });
        panel.scrollIntoView({ block: 'start' });
      }
    },

    hide() {
      panel.hidden = true;
      current = null;
    },
  };
}

/** What the panel says about a session: [term, value] pairs. */
function facts(s, viewerZone, platformNames) {
  const yours = sessionWhen(s, viewerZone);
  const theirs = sessionWhen(s, s.timezone);
  const rows = [[`When (your time, ${viewerZone})`, yours]];
  if (theirs !== yours) rows.push([`When in the session’s zone (${s.timezone})`, theirs]);
  else if (s.timezone !== viewerZone) rows[0][0] = `When (your time and ${s.timezone})`;
  rows.push(['Instructor', s.instructor_email]);
  rows.push(['Platform', s.platform ? platformNames[s.platform] || s.platform : 'not decided yet']);
  if (s.required_features?.length) rows.push(['Required features', s.required_features.map(featureName).join(', ')]);
  if (s.expected_participants) rows.push(['Expected participants', String(s.expected_participants)]);
  if (typeof s.participants === 'number') rows.push(['Roster', people(s.participants)]);
  rows.push(['Series', s.series_id ? 'part of a weekly series' : 'a single session']);
  if (s.override_reason) rows.push(['Booked despite a refusal because', s.override_reason]);
  if (s.cancel_reason) rows.push(['Cancelled because', s.cancel_reason]);
  return rows;
}

function fillForms(s, fresh) {
  const wall = wallTime(Date.parse(s.starts_at), s.timezone);
  byId('reschedule-date').value = wall.date;
  byId('reschedule-time').value = wall.time;
  byId('reschedule-duration').value = String(s.duration_minutes);
  setText(byId('reschedule-zone'), `The date and time are in the session’s zone, ${s.timezone}.`);
  const scheduled = s.status === 'scheduled';
  for (const id of ['reschedule-form', 'cancel-form']) {
    const form = byId(id);
    form.hidden = !scheduled;
    for (const box of form.querySelectorAll('.following')) box.hidden = !s.series_id;
  }
  if (fresh) {
    byId('reschedule-following').checked = false;
    byId('cancel-following').checked = false;
    byId('cancel-reason').value = '';
    clearRefusal(byId('reschedule-refusal'));
    clearRefusal(byId('cancel-refusal'));
  }
}
