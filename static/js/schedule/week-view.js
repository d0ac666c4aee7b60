/**
 * The week on show: one list per day, Monday to Sunday in the viewer's zone, each session a button
 * (local time, topic, instructor, roster size, status) that opens its details. A cancelled session is
 * struck through and says "Cancelled" in words. The stylesheet lays the days side by side on a wide
 * screen and one under the other on a phone.
 */

import { h, setText } from '../lib/dom.js';
import { byDay } from './week.js';
import { dateIn, people, sessionSpan, spanIn, statusText } from './times.js';

const DAY_NAME = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });

/**
 * Draw `sessions` of `week` into the list `root`; `zone` is the viewer's. `selected` is the id of the
 * session whose details are open; `onSelect(session)` opens one.
 */
export function renderWeek(root, { week, sessions, zone, selected, fresh = new Set(), onSelect }) {
  const days = byDay(week, sessions);
  const today = Date.now();
  root.replaceChildren(
    ...week.days.map((day, i) => {
      const isToday = today >= day.start && today < day.end;
      const items = days[i];
      const headingId = `day-${i}`;
      return h('li', { class: 'week-day', 'data-today': isToday ? 'true' : null, 'aria-labelledby': headingId }, [
        h('h3', { id: headingId, class: 'week-day-name' }, [
          DAY_NAME.format(day.start),
          isToday && h('span', { class: 'week-today', text: ' (today)' }),
        ]),
        items.length
          ? h('ul', { class: 'week-sessions' }, items.map((s) => h('li', {}, [sessionButton(s, zone, selected, fresh, onSelect)])))
          : h('p', { class: 'week-empty', text: 'No sessions' }),
      ]);
    }),
  );
}

function sessionButton(s, zone, selected, fresh, onSelect) {
  const { start, end } = sessionSpan(s);
  return h('button', {
    type: 'button',
    class: 'week-session',
    'data-status': s.status,
    'data-session': s.id,
    'data-new': fresh.has(s.id) ? 'true' : null,
    'aria-pressed': s.id === selected ? 'true' : 'false',
    onclick: () => onSelect(s),
  }, [
    // The spaces between the lines keep the words apart in the button's accessible name.
    h('span', { class: 'week-session-time', text: spanIn(start, end, zone) }),
    ' ',
    h('span', { class: 'week-session-topic', text: s.topic }),
    ' ',
    h('span', { class: 'week-session-meta week-session-who', text: s.instructor_email }),
    ' ',
    h('span', { class: 'week-session-meta', text: people(s.participants ?? 0) }),
    ' ',
    h('span', { class: 'status-badge week-session-status', 'data-status': s.status, text: statusText(s.status) }),
    s.not_ready?.length > 0 && ' ',
    s.not_ready?.length > 0 && h('span', { class: 'status-badge week-session-ready', 'data-ready': 'no', text: 'Not ready' }),
  ]);
}

/** The heading of the week on show: "Week of Mon 1 Mar 2027". */
export function weekTitle(node, week, zone) {
  setText(node, `Week of ${dateIn(week.start, zone)}`);
}
