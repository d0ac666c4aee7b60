/**
 * The roster: a compact table of everyone, searchable and sortable, that stays quick with thousands
 * of people. Only the rows in the scrolled window are in the DOM (rows have one fixed height, see
 * ROW_PX); the table's box is padded above and below by the height of the rows not drawn (no spacer
 * rows, which would add a column where cells are hidden). Staff can mark attendance.
 */

import { h, reorder, setText, show } from '../lib/dom.js';
import { clockTime, parseTime } from '../lib/format.js';
import { markChoices, statusText } from '../shared/attendance.js';
import { FILTERS, SORTS, arrange } from './roster-order.js';
import { visibleWindow } from './virtual-window.js';

const ROW_PX = 40; // the height of a roster row: `.roster-table tbody tr` in app.css says the same
const OVERSCAN = 10; // rows drawn beyond the window either side, so a quick scroll shows no gap

/**
 * elements: {table, body (tbody), markHeader (th), empty, filter, sort, search (selects, input),
 *            scroller (the scrolling box), canvas (the padded box around the table), summary,
 *            marking (checkbox: show the Mark column), markingField}
 * canMark(): whether marking is possible now; sessionStatus(): how "absent" reads;
 * onPerson(participant_id): the name was pressed; selected(): the participant_id shown in detail, or null.
 */
export function createRosterView(elements, { call, notices, roster, canMark, onMarked, sessionStatus, onPerson, selected }) {
  const entries = new Map(); // participant_id -> its row's nodes, built the first time it is drawn
  let arranged = [];
  let markable = false;
  let frame = null;

  elements.filter.replaceChildren(...Object.entries(FILTERS).map(([value, f]) => h('option', { value, text: f.label })));
  elements.sort.replaceChildren(...Object.entries(SORTS).map(([value, s]) => h('option', { value, text: s.label })));

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
      name: h('button', { type: 'button', class: 'roster-name roster-person', 'aria-controls': 'roster-detail', 'aria-expanded': 'false' }),
      email: h('span', { class: 'roster-email' }),
      connection: h('span', { class: 'presence-dot' }),
      connectionText: h('span', { class: 'presence-text' }),
      status: h('span', { class: 'status-pill' }),
      checkedIn: h('span'),
      markLabel: h('label', { for: selectId, class: 'visually-hidden' }),
      select: h('select', { id: selectId }, markChoices().map(([value, text]) => h('option', { value, text }))),
    };
    const button = h('button', { type: 'button', class: 'button button-small', text: 'Set' });
    button.addEventListener('click', () => mark(entry.row, entry.select, button));
    entry.name.addEventListener('click', () => onPerson(entry.row.participant_id));
    entry.markCell = h('td', { class: 'roster-mark', 'data-label': 'Mark' }, [entry.markLabel, entry.select, button]);
    entry.tr = h('tr', {}, [
      h('th', { scope: 'row', class: 'roster-who' }, [entry.name, entry.email]),
      h('td', { class: 'roster-connection' }, [entry.connection]),
      h('td', { class: 'roster-status' }, [entry.status]),
      h('td', { class: 'roster-checked-in' }, [entry.checkedIn]),
      entry.markCell,
    ]);
    entry.connection.append(entry.connectionText);
    return entry;
  }

  function update(entry, row, index) {
    entry.tr.setAttribute('aria-rowindex', String(index + 2)); // 1 is the header row
    const chosen = selected() === row.participant_id;
    if (entry.chosen !== chosen) {
      entry.chosen = chosen;
      entry.name.setAttribute('aria-expanded', String(chosen));
      entry.tr.dataset.selected = String(chosen);
    }
    if (entry.row === row && entry.markable === markable && entry.sessionStatus === sessionStatus()) return;
    entry.row = row;
    entry.markable = markable;
    entry.sessionStatus = sessionStatus();
    setText(entry.name, row.name);
    setText(entry.email, row.email || '');
    setText(entry.connectionText, row.connected ? 'Online' : 'Offline');
    entry.connection.dataset.connected = String(Boolean(row.connected));
    setText(entry.status, statusText(row.status, sessionStatus()));
    entry.status.dataset.status = row.status;
    const at = parseTime(row.checked_in_at);
    setText(entry.checkedIn, at === null ? '—' : clockTime(at));
    show(entry.markCell, markable);
    setText(entry.markLabel, `Attendance of ${row.name}`);
    if (document.activeElement !== entry.select) entry.select.value = row.status;
  }

  /** Draw the rows in the scrolled window (cheap: called on scroll). */
  function draw() {
    frame = null;
    const win = visibleWindow({
      count: arranged.length, rowHeight: ROW_PX, scrollTop: elements.scroller.scrollTop,
      viewportHeight: elements.scroller.clientHeight || ROW_PX * 12, overscan: OVERSCAN,
    });
    const nodes = [];
    for (let i = win.start; i < win.end; i += 1) {
      const row = arranged[i];
      let entry = entries.get(row.participant_id);
      if (!entry) {
        entry = build(row);
        entries.set(row.participant_id, entry);
      }
      update(entry, row, i);
      nodes.push(entry.tr);
    }
    elements.canvas.style.setProperty('--before', `${win.before}px`);
    elements.canvas.style.setProperty('--after', `${win.after}px`);
    reorder(elements.body, nodes);
  }

  /** Search, filter and sort everyone again, then draw the window (measured: "roster-render"). */
  function render() {
    performance.mark('roster-render-start');
    // Marking is occasional: its column (the widest) shows only when asked for.
    show(elements.markingField, canMark());
    markable = canMark() && elements.marking.checked;
    show(elements.markHeader, markable);
    elements.table.dataset.marking = String(markable);
    const all = roster.rows();
    arranged = arrange(all, { query: elements.search.value, filter: elements.filter.value, sort: elements.sort.value });
    elements.table.setAttribute('aria-rowcount', String(arranged.length + 1));
    draw();
    show(elements.empty, arranged.length === 0);
    setText(elements.empty, all.length === 0 ? 'No participants yet.' : 'Nobody matches.');
    setText(elements.summary, arranged.length === all.length ? `${all.length} people` : `${arranged.length} of ${all.length} shown`);
    performance.measure('roster-render', 'roster-render-start');
  }

  function rearrange() {
    elements.scroller.scrollTop = 0;
    render();
  }
  elements.filter.addEventListener('change', rearrange);
  elements.sort.addEventListener('change', rearrange);
  elements.marking.addEventListener('change', render);
  elements.search.addEventListener('input', rearrange);
  elements.scroller.addEventListener('scroll', () => {
    if (frame === null) frame = requestAnimationFrame(draw);
  }, { passive: true });

  return { render, draw };
}
