/** After close: the attendance sheet from the HTTP API, with a CSV download. */

import { h, setText, show } from '../lib/dom.js';
import { clockTime, minutesSeconds, parseTime } from '../lib/format.js';
import { sessionPath } from '../lib/api.js';
import { statusText } from '../shared/attendance.js';
import { byName } from './roster-order.js';

/** elements: {section, body (tbody), state, reload, csv} */
export function createAttendanceReport(elements, { api, sessionId, notices }) {
  let loading = false;

  async function load() {
    if (loading) return;
    loading = true;
    show(elements.section, true);
    setText(elements.state, 'Loading the attendance sheet…');
    try {
      const sheet = await api.getJson(sessionPath(sessionId, '/attendance'));
      // The roster's order, so the two lists read alike.
      const rows = [...(sheet.rows ?? [])].sort(byName);
      elements.body.replaceChildren(...rows.map(row));
      setText(elements.state, rows.length === 0 ? 'Nobody was on the roster.' : `${rows.length} participants.`);
    } catch (err) {
      setText(elements.state, 'The attendance sheet could not be loaded.');
      notices.error(`Could not load attendance: ${err.message}`);
    } finally {
      loading = false;
    }
  }

  function row(r) {
    const at = parseTime(r.checked_in_at);
    const cell = (label, text) => h('td', { 'data-label': label, text });
    return h('tr', {}, [
      h('th', { scope: 'row', class: 'roster-who' }, [
        h('span', { class: 'roster-name', text: r.name }),
        h('span', { class: 'roster-email', text: r.email || '' }),
      ]),
      cell('Status', statusText(r.status, 'closed')),
      cell('Checked in', at === null ? '—' : clockTime(at)),
      cell('Time present', minutesSeconds(r.minutes_present)),
      cell('Pings answered', `${r.pings_answered ?? 0} / ${r.pings_total ?? 0}`),
    ]);
  }

  elements.reload.addEventListener('click', load);
  elements.csv.addEventListener('click', async () => {
    elements.csv.disabled = true;
    try {
      await api.download(sessionPath(sessionId, '/attendance.csv'), `attendance-${sessionId}.csv`, 'text/csv');
    } catch (err) {
      notices.error(`Could not download the CSV: ${err.message}`);
    } finally {
      elements.csv.disabled = false;
    }
  });

  return { load };
}
