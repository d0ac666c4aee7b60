/**
 * /audit: the audit log for administrators, filtered by session, who, action and time, oldest first,
 * a page at a time (GET /api/audit). People are named by internal id, as the log keeps them.
 */

import { call } from '../signin/http.js';
import { signedIn } from '../signin/page.js';
import { byId, el, problem, status } from '../signin/view.js';

const ACTIONS = [
  'override', 'cancel', 'invite', 'material', 'material_delete', 'platform_check', 'mark', 'minutes',
  'minutes_circulate', 'recording', 'download', 'platform_import', 'platform_match', 'hold', 'export', 'erase',
];
const PAGE = 100;

let cursor = null;

function query(form, after) {
  const params = new URLSearchParams();
  for (const name of ['session_id', 'actor', 'action']) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  const local = form.elements.after.value;
  if (local) params.set('after', new Date(local).toISOString());
  params.set('limit', String(PAGE));
  if (after) params.set('cursor', String(after));
  return params.toString();
}

function row(e) {
  return el('tr', {}, [
    el('td', { text: new Date(e.at).toLocaleString() }),
    el('td', { text: e.actor }),
    el('td', { text: e.action }),
    el('td', { text: e.target }),
    el('td', { class: 'detail', text: Object.keys(e.detail || {}).length ? JSON.stringify(e.detail) : '' }),
  ]);
}

async function show(form, { more = false } = {}) {
  const body = byId('entries').tBodies[0];
  const { entries, next } = await call('GET', `/api/audit?${query(form, more ? cursor : null)}`);
  if (!more) body.replaceChildren();
  body.append(...entries.map(row));
  cursor = next;
  byId('entries-panel').hidden = false;
  byId('empty').hidden = body.rows.length > 0;
  byId('more').hidden = next == null;
  status(more ? `${body.rows.length} entries shown.` : `${body.rows.length} ${body.rows.length === 1 ? 'entry' : 'entries'}${next == null ? '' : ' (more below)'}.`);
}

async function main() {
  const me = await signedIn();
  if (!me) return;
  if (me.role !== 'admin') {
    problem('Only administrators can read the audit log.');
    return;
  }
  const form = byId('filter');
  const actions = form.elements.action;
  actions.append(...ACTIONS.map((a) => el('option', { value: a, text: a })));
  const fromUrl = new URLSearchParams(window.location.search);
  for (const name of ['session_id', 'actor', 'action']) if (fromUrl.get(name)) form.elements[name].value = fromUrl.get(name);
  byId('audit-panel').hidden = false;
  const run = (options) => show(form, options).catch((err) => problem(err.message));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run();
  });
  byId('more').addEventListener('click', () => run({ more: true }));
  run();
}

main();
