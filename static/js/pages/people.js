/**
 * /people: a person's data for administrators (GDPR articles 15, 17, 20). Find a person by email, see what
 * is kept (counts by kind, from GET /api/people/{email}/export), download the export as a JSON file, and
 * erase them: the confirmation names what will be removed (from the dry run, POST .../erase {dry_run: true})
 * and needs a reason; the result shows what was done.
 */

import { call } from '../signin/http.js';
import { signedIn } from '../signin/page.js';
import { byId, el, problem, status } from '../signin/view.js';

// The export's kinds as a person reads them, in the order shown.
const KINDS = [
  ['sessions', 'sessions'],
  ['attendance', 'attendance rows'],
  ['connections', 'connections'],
  ['chat', 'chat messages'],
  ['help_tickets', 'help requests'],
  ['ping_answers', 'ping answers'],
  ['feedback', 'feedback responses'],
  ['consent', 'consent answers'],
  ['invitations', 'invitations'],
  ['platform_attendance', 'platform attendance rows'],
  ['platform_events', 'platform events'],
  ['mails', 'mails'],
];

let current = null; // {email, data}

function url(email, what) {
  return `/api/people/${encodeURIComponent(email)}/${what}`;
}

function counted(counts) {
  return KINDS.filter(([k]) => counts[k]).map(([k, label]) => el('li', { text: `${counts[k]} ${label}` }));
}

function lines(items) {
  return items.length ? items.map((t) => el('li', { text: t })) : [el('li', { text: 'Nothing identifying is left.' })];
}

async function find(email) {
  status('Looking…');
  const data = await call('GET', url(email, 'export'));
  current = { email, data };
  const items = counted(data.counts || {});
  byId('summary').replaceChildren(...items);
  byId('nothing').hidden = items.length > 0 || data.staff != null;
  byId('summary-who').textContent = data.staff
    ? `${email} is a staff member (${data.staff.role || 'token only'}): their account is managed under Staff on the home page.`
    : email;
  byId('erase').hidden = data.staff != null || items.length === 0;
  byId('summary-panel').hidden = false;
  byId('result-panel').hidden = true;
  status(`Found ${items.length ? 'data about' : 'nothing about'} ${email}.`);
}

function download() {
  const blob = new Blob([JSON.stringify(current.data, null, 2)], { type: 'application/json' });
  const link = el('a', { href: URL.createObjectURL(blob), download: `export-${current.email}.json` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  status('The export was downloaded.');
}

async function confirmErase() {
  const preview = await call('POST', url(current.email, 'erase'), { dry_run: true });
  byId('confirm-who').textContent = `Every appearance of ${current.email} gets a pseudonym.`;
  byId('confirm-list').replaceChildren(...lines(preview.summary));
  byId('confirm-problem').hidden = true;
  byId('f-reason').value = '';
  byId('confirm').showModal();
  byId('f-reason').focus();
}

async function erase(event) {
  event.preventDefault();
  const reason = byId('f-reason').value.trim();
  const where = byId('confirm-problem');
  if (!reason) {
    where.textContent = 'Give a reason: it is kept in the audit log.';
    where.hidden = false;
    byId('f-reason').focus();
    return;
  }
  try {
    const done = await call('POST', url(current.email, 'erase'), { reason });
    byId('confirm').close();
    byId('result').replaceChildren(...lines(done.summary));
    byId('result-panel').hidden = false;
    byId('summary-panel').hidden = true;
    status(`${current.email} was erased.`);
    byId('result-title').focus?.();
  } catch (err) {
    where.textContent = err.message;
    where.hidden = false;
  }
}

async function main() {
  const me = await signedIn();
  if (!me) return;
  if (me.role !== 'admin') {
    problem("Only administrators can see and erase a person's data.");
    return;
  }
  byId('find-panel').hidden = false;
  const run = (fn) => (...args) => fn(...args).catch((err) => problem(err.message));
  byId('find').addEventListener('submit', (event) => {
    event.preventDefault();
    run(find)(byId('f-email').value.trim());
  });
  byId('download').addEventListener('click', download);
  byId('erase').addEventListener('click', run(confirmErase));
  byId('erase-form').addEventListener('submit', erase);
  byId('cancel-erase').addEventListener('click', () => byId('confirm').close());
}

main();
