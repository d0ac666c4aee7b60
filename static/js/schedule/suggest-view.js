/**
 * "Suggest times": who (the instructor, a session's roster and/or pasted emails), how long, which days
 * and working hours go to POST /api/schedule/suggest; the ranked slots come back, each "12 of 14 can
 * attend" with who cannot and why, and "Use this time" puts one into the create form.
 */

import { byId, h, setText } from '../lib/dom.js';
import { send } from './api.js';
import { clearRefusal, showRefusal } from './refusal-view.js';
import { dateIn, dayTimeIn, spanIn } from './times.js';
import { addDays, isoDate, parseDate } from './week.js';

const REASON = { outside_working_hours: 'outside their working hours', busy: 'busy' };

/** The emails in pasted text: split on commas, semicolons, spaces and line ends; duplicates once. */
export function emailsIn(text) {
  const seen = new Set();
  return (text || '')
    .split(/[\s,;]+/)
    .map((e) => e.trim().replace(/^<|>$/g, ''))
    .filter((e) => e && !seen.has(e.toLowerCase()) && seen.add(e.toLowerCase()));
}

/** "12 of 14 can attend". */
export function attendText(slot) {
  return `${slot.available} of ${slot.total} can attend`;
}

/**
 * Wire the suggest form. `viewerZone` reads the dates; `onUse({startsAt, durationMinutes, instructor})`
 * fills the create form. Answers {sessions(list)}, which offers those sessions' rosters.
 */
export function setUpSuggest({ viewerZone, onUse }) {
  const form = byId('suggest-form');
  const refusal = byId('suggest-refusal');
  const status = byId('suggest-status');
  const slotsList = byId('suggest-slots');
  const select = byId('suggest-session');
  const today = new Date();
  byId('suggest-from').value = isoDate(today);
  byId('suggest-to').value = isoDate(addDays(today, 13));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearRefusal(refusal);
    const from = parseDate(byId('suggest-from').value);
    const to = parseDate(byId('suggest-to').value);
    if (!from || !to || to < from) {
      showRefusal(refusal, { message: 'the last day must be on or after the first', details: {} }, { what: 'No suggestions' });
      return;
    }
    const instructor = byId('suggest-instructor').value.trim();
    const duration = Number(byId('suggest-duration').value);
    const body = {
      instructor_email: instructor,
      duration_minutes: duration,
      from: from.toISOString(),
      to: addDays(to, 1).toISOString(), // "to" is a day included: up to the midnight after it
      working_hours: { start: byId('suggest-start').value, end: byId('suggest-end').value },
      timezone: viewerZone, // for whoever has no zone on record
    };
    if (select.value) body.session_id = select.value;
    const emails = emailsIn(byId('suggest-emails').value);
    if (emails.length) body.emails = emails;
    setText(status, 'Looking for times…');
    slotsList.replaceChildren();
    try {
      const { slots } = await send('POST', '/api/schedule/suggest', { json: body });
      setText(status, slots.length
        ? `${slots.length} suggested time${slots.length === 1 ? '' : 's'}, the best first (times are yours, ${viewerZone}).`
        : 'No time in those days suits the instructor and anyone else: try more days or longer working hours.');
      slotsList.replaceChildren(...slots.map((slot, i) => slotItem(slot, i, { duration, instructor })));
    } catch (err) {
      setText(status, '');
      showRefusal(refusal, err, { what: 'No suggestions' });
    }
  });

  function slotItem(slot, i, { duration, instructor }) {
    const start = Date.parse(slot.starts_at);
    const end = Date.parse(slot.ends_at);
    const titleId = `slot-${i}`;
    const when = `${dateIn(start, viewerZone)}, ${spanIn(start, end, viewerZone)}`;
    const missing = slot.unavailable || [];
    return h('li', { class: 'slot', 'aria-labelledby': titleId }, [
      h('p', { class: 'slot-head' }, [
        h('span', { id: titleId, class: 'slot-when', text: when }),
        ' ',
        h('span', { class: 'slot-count', 'data-all': slot.available === slot.total ? 'true' : null, text: attendText(slot) }),
      ]),
      missing.length > 0 && h('details', { class: 'slot-missing' }, [
        h('summary', { text: `Who cannot (${missing.length})` }),
        h('ul', {}, missing.map((u) => h('li', {
          text: `${u.name ? `${u.name} (${u.email})` : u.email}: ${REASON[u.reason] || u.reason}${u.detail ? ` (${localDetail(u.detail, viewerZone)})` : ''}`,
        }))),
      ]),
      h('button', {
        type: 'button',
        class: 'button button-small',
        onclick: () => onUse({ startsAt: slot.starts_at, durationMinutes: duration, instructor }),
      }, ['Use this time', h('span', { class: 'visually-hidden', text: ` (${when})` })]),
    ]);
  }

  return {
    /** Offer the rosters of these sessions (the week on show, and the one whose details are open). */
    sessions(list) {
      const keep = select.value;
      select.replaceChildren(
        h('option', { value: '', text: 'No session (only the emails below)' }),
        ...list.map((s) => h('option', { value: s.id, text: `${s.topic}, ${dateIn(Date.parse(s.starts_at), viewerZone)}` })),
      );
      if ([...select.options].some((o) => o.value === keep)) select.value = keep;
    },
    /** Prefill from a session: its instructor, length and roster. */
    from(session) {
      byId('suggest-instructor').value = session.instructor_email;
      byId('suggest-duration').value = String(session.duration_minutes);
      if ([...select.options].some((o) => o.value === session.id)) select.value = session.id;
    },
  };
}

/** A reason's detail with its UTC instants ("2027-10-05T09:00:00.000Z") read in the viewer's zone. */
function localDetail(detail, zone) {
  return detail.replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z/g, (iso) => dayTimeIn(Date.parse(iso), zone));
}
