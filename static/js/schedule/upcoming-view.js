/**
 * The staff home's "Upcoming sessions": the next two weeks (an instructor's own, as the server answers
 * them), each with its local time, topic and a link to its dashboard; live ones first to catch the eye.
 */

import { h, setText } from '../lib/dom.js';
import { calendarDaysBetween } from '../lib/format.js';
import { dayIn, people, sessionSpan, spanIn, statusText } from './times.js';
import { browserZone } from './zones.js';

const DAYS_AHEAD = 14;
// An admin's fortnight can hold a whole faculty's classes: the first of them here, the rest on the schedule.
const AT_MOST = 100;
// A class that started up to this long ago may still be running: it stays listed while live.
const LOOK_BACK_MS = 24 * 60 * 60 * 1000;

/** The query of GET /api/sessions for the upcoming list, from `now` (epoch ms). */
export function upcomingQuery(now) {
  return new URLSearchParams({
    from: new Date(now - LOOK_BACK_MS).toISOString(),
    to: new Date(now + DAYS_AHEAD * 24 * 60 * 60 * 1000).toISOString(),
    limit: String(AT_MOST),
  });
}

/** Which of the listed sessions to show: live ones, and those not yet over that are not closed. */
export function upcoming(sessions, now) {
  return sessions.filter((s) => s.status === 'live' || (s.status !== 'closed' && sessionSpan(s).end > now));
}

/** "Today", "Tomorrow", else "Tue 6 Jul": the day of `ms` as the viewer reads it. */
function dayName(ms, now, zone) {
  const days = calendarDaysBetween(now, ms);
  return days === 0 ? 'Today' : days === 1 ? 'Tomorrow' : dayIn(ms, zone);
}

/** Draw the list into `list`, and a line about it into `note`. */
export function renderUpcoming(list, note, sessions, { now = Date.now(), more = false } = {}) {
  const zone = browserZone();
  const shown = upcoming(sessions, now);
  setText(
    note,
    shown.length
      ? `The next ${DAYS_AHEAD} days, in your time zone (${zone})${more ? '; more on the schedule' : ''}.`
      : `Nothing in the next ${DAYS_AHEAD} days.`,
  );
  list.replaceChildren(
    ...shown.map((s) => {
      const { start, end } = sessionSpan(s);
      return h('li', { class: 'upcoming-item', 'data-status': s.status }, [
        h('p', { class: 'upcoming-when' }, [
          h('span', { text: `${dayName(start, now, zone)}, ${spanIn(start, end, zone)}` }),
          s.status !== 'scheduled' && h('span', { class: 'upcoming-status', text: ` · ${statusText(s.status)}` }),
        ]),
        h('p', { class: 'upcoming-topic', text: s.topic }),
        h('p', { class: 'upcoming-meta', text: `${s.instructor_email} · ${people(s.participants ?? 0)}` }),
        s.status !== 'cancelled' && h('a', { class: 'button button-small', href: `/dashboard/${encodeURIComponent(s.id)}` }, [
          'Open the dashboard',
          h('span', { class: 'visually-hidden', text: ` of ${s.topic}` }),
        ]),
      ]);
    }),
  );
}
