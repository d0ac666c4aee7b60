/**
 * Platform attendance on the dashboard (docs/platform-attendance.md): import a Zoom or Teams attendance
 * report, match the rows nobody could be matched to, and see the check-in beside the call: who was in
 * the call but never checked in, who checked in but was not in the call. `request(method, path, body,
 * {form})` answers the JSON; `canImport()` says whether this person may import and match.
 */

import { h, setText } from '../lib/dom.js';
import { sessionPath } from '../lib/api.js';

const FLAG_TEXT = {
  in_call_not_checked_in: 'In the call, never checked in',
  checked_in_not_in_call: 'Checked in, not in the call',
};

function minutesText(value) {
  return value === null || value === undefined ? '—' : String(value);
}

export function createPlatformAttendancePanel(root, { request, canImport, onSummary = () => {} }) {
  const fileInput = h('input', { type: 'file', id: 'platform-report-file', accept: '.csv,.tsv,.txt,text/csv,text/plain' });
  const importButton = h('button', { type: 'submit', class: 'button', text: 'Import report' });
  const importForm = h('form', {
    class: 'pa-import',
    'aria-label': 'Import an attendance report',
    onsubmit: (e) => { e.preventDefault(); importReport(); },
  }, [
    h('label', { for: 'platform-report-file', text: 'Attendance report (Zoom participants CSV or Teams attendance report)' }),
    fileInput,
    importButton,
  ]);
  const status = h('p', { class: 'pa-status', role: 'status' });
  const problem = h('p', { class: 'pa-problem', role: 'alert', hidden: true });
  const unmatchedTitle = h('h3', { id: 'pa-unmatched-title', text: 'Rows not matched to the roster' });
  const unmatched = h('ul', { class: 'pa-unmatched', 'aria-labelledby': 'pa-unmatched-title' });
  const unmatchedBox = h('div', { hidden: true }, [unmatchedTitle, unmatched]);
  const table = h('table', { class: 'pa-sheet' });
  const tableBox = h('div', { class: 'pa-sheet-box', hidden: true }, [table]);
  root.append(importForm, status, problem, unmatchedBox, tableBox);
  let session = null;

  function fail(prefix, err) {
    setText(problem, `${prefix}: ${err.message}`);
    problem.hidden = false;
  }

  async function importReport() {
    const file = fileInput.files[0];
    if (!file) {
      fail('Nothing imported', new Error('choose the report file first'));
      return;
    }
    problem.hidden = true;
    importButton.disabled = true;
    try {
      const form = new FormData();
      form.append('file', file, file.name);
      const answer = await request('POST', sessionPath(session.id, '/platform-attendance'), undefined, { form });
      const platform = answer.platform === 'teams' ? 'Teams' : 'Zoom';
      const dup = answer.duplicates ? `, ${answer.duplicates} repeated rows counted once` : '';
      setText(status, `Imported the ${platform} report: ${answer.matched} rows matched, ${answer.unmatched.length} not matched${dup}.`);
      fileInput.value = '';
      await reload(false);
    } catch (err) {
      fail('The report was not imported', err);
    } finally {
      importButton.disabled = false;
    }
  }

  async function match(importId, row, select, name) {
    problem.hidden = true;
    try {
      await request('POST', sessionPath(session.id, '/platform-attendance/match'), {
        import_id: importId, row, participant_id: select.value || null,
      });
      const chosen = select.selectedOptions[0]?.textContent || 'nobody';
      setText(status, `Matched ${name} to ${chosen}.`);
      await reload(false);
    } catch (err) {
      fail(`${name} was not matched`, err);
    }
  }

  function renderUnmatched(data) {
    unmatched.replaceChildren();
    const roster = data.participants;
    let n = 0;
    for (const imp of data.imports) {
      const seen = new Set();
      for (const r of imp.rows) {
        const key = `${r.name}\u0000${r.email}`;
        if (r.participant_id || seen.has(key)) continue;
        seen.add(key);
        n += 1;
        const id = `pa-${imp.import_id}-${r.row}`;
        const shown = r.email ? `${r.name} (${r.email})` : r.name;
        const select = h('select', { id }, [
          h('option', { value: '', text: 'Choose a participant' }),
          ...roster.map((p) => h('option', { value: p.participant_id, text: p.name })),
        ]);
        const controls = canImport()
          ? [select, h('button', {
            type: 'button', class: 'button', text: 'Match', 'aria-label': `Match ${r.name}`,
            onclick: () => match(imp.import_id, r.row, select, r.name),
          })]
          : [];
        unmatched.append(h('li', { class: 'pa-row' }, [
          h('label', { for: id, text: `${shown}, ${imp.platform === 'teams' ? 'Teams' : 'Zoom'} line ${r.row}` }),
          ...controls,
        ]));
      }
    }
    unmatchedBox.hidden = n === 0;
    return n;
  }

  function renderSheet(data) {
    const reported = data.imports.length > 0 || data.webhook.length > 0;
    tableBox.hidden = !reported;
    table.replaceChildren(
      h('caption', { text: 'Checked in beside the call' }),
      h('thead', {}, [h('tr', {}, ['Participant', 'Status', 'Here (min)', 'In the call (min)']
        .map((t) => h('th', { scope: 'col', text: t })))]),
      h('tbody', {}, data.participants.map((p) => h('tr', { class: p.flags.length ? 'pa-flagged' : '' }, [
        h('th', { scope: 'row' }, [
          h('span', { class: 'pa-name', text: p.name }),
          ...p.flags.map((f) => h('span', { class: 'pa-flag', text: FLAG_TEXT[f] || f })),
        ]),
        h('td', { text: p.status }),
        h('td', { text: minutesText(p.minutes_present) }),
        h('td', { text: minutesText(p.platform_minutes) }),
      ]))),
    );
    return reported;
  }

  async function reload(clearStatus = true) {
    if (!session) return;
    importForm.hidden = !canImport();
    try {
      const data = await request('GET', sessionPath(session.id, '/platform-attendance'));
      if (clearStatus) problem.hidden = true;
      const open = renderUnmatched(data);
      const reported = renderSheet(data);
      const flagged = data.participants.filter((p) => p.flags.length).length;
      if (!reported) {
        if (clearStatus) setText(status, 'No report yet: import the Zoom or Teams attendance report after the call.');
        onSummary('No report yet');
      } else {
        onSummary([flagged ? `${flagged} to look at` : 'Matches the check-in', open ? `${open} not matched` : '']
          .filter(Boolean).join(', '));
      }
    } catch (err) {
      fail('Platform attendance cannot be shown', err);
    }
  }

  return {
    /** Show the platform attendance of `{id, status}`; called again when the session changes. */
    show(next) {
      session = next;
      reload();
    },
    reload,
  };
}
