/**
 * The roster of the session on show: each person with their time zone and the other sessions of theirs
 * this one overlaps; taking someone off; importing a CSV file, all or nothing, with every bad row of a
 * refused file listed by its line ("Line 4: email: not an email address").
 */

import { byId, h, setText } from '../lib/dom.js';
import { send, sessionUrl } from './api.js';
import { clearRefusal, showDone, showRefusal } from './refusal-view.js';
import { dayTimeIn, people } from './times.js';

// "Person 2" before "Person 10", and accents where people expect them.
const BY_NAME = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** Wire the roster part of the details panel; `onChanged(count)` after an import or a removal. */
export function setUpRoster({ viewerZone, onChanged }) {
  let sessionId = null;
  let editable = false;
  const result = byId('import-result');

  async function load() {
    const id = sessionId;
    const list = byId('roster');
    try {
      const { participants } = await send('GET', sessionUrl(id, '/participants'));
      if (id !== sessionId) return; // another session was opened meanwhile
      const warned = participants.filter((p) => p.warnings?.length).length;
      setText(
        byId('roster-summary'),
        participants.length
          ? `${people(participants.length)}${warned ? `; ${warned} also booked elsewhere at this time` : ''}.`
          : 'Nobody on the roster yet.',
      );
      list.replaceChildren(...[...participants].sort((a, b) => BY_NAME.compare(a.name, b.name)).map((p) => person(p)));
      return participants.length;
    } catch (err) {
      setText(byId('roster-summary'), `The roster could not be read: ${err.message}`);
      list.replaceChildren();
      return null;
    }
  }

  function person(p) {
    const warnings = p.warnings || [];
    return h('li', { class: 'roster-entry', 'data-warned': warnings.length ? 'true' : null }, [
      h('span', { class: 'roster-entry-name', text: p.name }),
      ' ',
      h('span', { class: 'roster-entry-email', text: p.email }),
      p.timezone && h('span', { class: 'roster-entry-zone', text: ` · ${p.timezone}` }),
      warnings.length > 0 && h('ul', { class: 'roster-warnings' }, warnings.map((w) => h('li', {
        text: `Also booked then: “${w.topic}”, ${dayTimeIn(Date.parse(w.starts_at), viewerZone)}`,
      }))),
      editable && h('button', {
        type: 'button',
        class: 'button button-small roster-remove',
        text: 'Remove',
        'aria-label': `Remove ${p.name}`,
        onclick: () => remove(p),
      }),
    ]);
  }

  async function remove(p) {
    try {
      await send('DELETE', sessionUrl(sessionId, `/participants/${encodeURIComponent(p.id)}`));
      showDone(result, `${p.name} is off the roster; their link no longer works.`);
      onChanged(await load());
    } catch (err) {
      showRefusal(result, err, { what: 'Not removed' });
    }
  }

  byId('import-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const file = byId('import-file').files[0];
    clearRefusal(result);
    if (!file) return;
    try {
      const bytes = await file.arrayBuffer();
      const { participants } = await send('POST', sessionUrl(sessionId, '/participants.csv'), {
        bytes,
        contentType: 'text/csv',
      });
      byId('import-file').value = '';
      onChanged(await load());
      showDone(result, `Imported ${people(participants.length)} from ${file.name}.`);
    } catch (err) {
      showImportProblem(err, file.name);
    }
  });

  function showImportProblem(err, name) {
    const tooLarge = err.status === 413;
    const shown = tooLarge ? { ...err, status: 413, message: `the file is too large to import (${err.message})` } : err;
    showRefusal(result, shown, { what: `Nothing imported from ${name}` });
    const rows = err.details?.rows || [];
    if (rows.length) {
      result.querySelector('[role="alert"]').append(
        h('ul', { class: 'import-rows', 'aria-label': 'Rows to fix' }, rows.map((r) => h('li', { text: `Line ${r.line}: ${r.message}` }))),
      );
    }
  }

  return {
    /** Show the roster of `session` (and whether it may still change). */
    show(session) {
      if (session.id !== sessionId) {
        clearRefusal(result);
        byId('import-file').value = '';
      }
      sessionId = session.id;
      editable = session.status === 'scheduled' || session.status === 'live';
      byId('import-form').hidden = !editable;
      return load();
    },
  };
}
