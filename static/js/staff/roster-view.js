/** The roster table: who is connected, checked in and how; staff can mark attendance. */

import { h, reorder, setText, show } from '../lib/dom.js';
import { clockTime, parseTime } from '../lib/format.js';

const STATUS_TEXT = { present: 'Present', late: 'Late', excused: 'Excused', absent: 'Absent' };
const FILTERS = {
  all: () => true,
  missing: (row) => !row.checked_in_at && row.status !== 'excused',
  offline: (row) => !row.connected,
};

/**
 * elements: {body (tbody), markHeader (th), empty, filter (select)}
 * canMark(): whether marking is possible now (instructor or admin, session not closed).
 */
export function createRosterView(elements, { call, notices, roster, canMark, onMarked }) {
  const rows = new Map(); // participant_id -> {tr, cells...}

  elements.filter.addEventListener('change', render);

  async function mark(row, select, button) {
    button.disabled = true;
    const ack = await call('attendance:mark', { participant_id: row.participant_id, status: select.value });
    button.disabled = false;
    if (notices.failed(ack, `Could not mark ${row.name}`)) return;
    roster.mark(row.participant_id, select.value);
    notices.announce(`${row.name} marked ${select.value}.`);
    onMarked();
  }

  function build(row) {
    const selectId = `mark-${row.participant_id}`;
    const entry = {
      name: h('span', { class: 'roster-name' }),
      email: h('span', { class: 'roster-email' }),
      connection: h('span', { class: 'presence-dot' }),
      status: h('span', { class: 'status-pill' }),
      checkedIn: h('span'),
      markLabel: h('label', { for: selectId, class: 'visually-hidden' }),
      select: h('select', { id: selectId }, Object.entries(STATUS_TEXT).map(([value, text]) => h('option', { value, text }))),
    };
    const button = h('button', { type: 'button', class: 'button button-small', text: 'Set' });
    button.addEventListener('click', () => mark(entry.row, entry.select, button));
    entry.markCell = h('td', { class: 'roster-mark', 'data-label': 'Mark' }, [entry.markLabel, entry.select, button]);
    entry.tr = h('tr', {}, [
      h('th', { scope: 'row', class: 'roster-who' }, [entry.name, entry.email]),
      h('td', { 'data-label': 'Connection' }, [entry.connection]),
      h('td', { 'data-label': 'Attendance' }, [entry.status]),
      h('td', { 'data-label': 'Checked in' }, [entry.checkedIn]),
      entry.markCell,
    ]);
    return entry;
  }

  function update(entry, row, markable) {
    entry.row = row;
    setText(entry.name, row.name);
    setText(entry.email, row.email || '');
    setText(entry.connection, row.connected ? 'Online' : 'Offline');
    entry.connection.dataset.connected = String(Boolean(row.connected));
    setText(entry.status, STATUS_TEXT[row.status] ?? row.status);
    entry.status.dataset.status = row.status;
    const at = parseTime(row.checked_in_at);
    setText(entry.checkedIn, at === null ? '—' : clockTime(at));
    show(entry.markCell, markable);
    setText(entry.markLabel, `Attendance of ${row.name}`);
    if (document.activeElement !== entry.select) entry.select.value = row.status;
  }

  function render() {
    const filter = FILTERS[elements.filter.value] ?? FILTERS.all;
    const markable = canMark();
    show(elements.markHeader, markable);
    const all = roster.rows();
    const shown = all.filter(filter);
    const nodes = shown.map((row) => {
      let entry = rows.get(row.participant_id);
      if (!entry) {
        entry = build(row);
        rows.set(row.participant_id, entry);
      }
      update(entry, row, markable);
      return entry.tr;
    });
    reorder(elements.body, nodes);
    show(elements.empty, shown.length === 0);
    setText(elements.empty, all.length === 0 ? 'No participants yet.' : 'Nobody matches this filter.');
  }

  return { render };
}
