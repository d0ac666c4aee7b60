/**
 * A session's preparation, for the schedule page's details and the dashboard: readiness at a glance
 * (each check with why), the materials shared (upload a file, share a link, stop sharing), and the
 * platform run-through (each feature ok, failed or n/a, with notes; the latest run shown).
 * `request(method, path, body, {form})` calls the API and throws an error with the server's message.
 */

import { h, setText } from '../lib/dom.js';
import { sizeText } from '../lib/format.js';

const CHECK_NAMES = {
  roster: 'Roster',
  invitations: 'Invitations',
  reminders: 'Reminders',
  materials: 'Materials',
  platform_check: 'Platform check',
};
const FEATURES = [
  ['audio', 'Audio'],
  ['video', 'Video'],
  ['screen_share', 'Screen sharing'],
  ['breakout_rooms', 'Breakout rooms'],
  ['recording', 'Recording'],
];
const RESULTS = [['ok', 'OK'], ['failed', 'Failed'], ['n/a', 'Not needed']];

let panels = 0;

/**
 * Build the panel into `root`. `canShare()`: may add and delete materials (admins, the instructor);
 * `canCheck()`: may record a run-through (staff); `onSummary(text, problem)` hears the one-line state.
 */
export function createPreparationPanel(
  root,
  { request, canShare = () => false, canCheck = () => false, onSummary = () => {}, level = 3, titled = true },
) {
  panels += 1;
  const id = (name) => `prep${panels}-${name}`;
  let session = null;

  const summary = h('p', { class: 'prep-summary', role: 'status' });
  const checks = h('ul', { class: 'prep-checks', 'aria-label': 'Readiness checks' });
  const materials = h('ul', { class: 'prep-materials', 'aria-labelledby': id('materials') });
  const noMaterials = h('p', { class: 'empty', text: 'Nothing shared yet.' });
  const result = h('p', { class: 'prep-result', role: 'status' });

  const fileInput = h('input', { id: id('file'), type: 'file', required: true });
  const fileTitle = h('input', { id: id('file-title'), type: 'text', maxlength: 300, autocomplete: 'off' });
  const uploadForm = h('form', { class: 'prep-form', 'aria-label': 'Upload a file', onsubmit: (e) => { e.preventDefault(); upload(); } }, [
    field('file', 'File', fileInput),
    field('file-title', 'Title (optional)', fileTitle),
    h('button', { type: 'submit', class: 'button', text: 'Upload' }),
  ]);
  const linkTitle = h('input', { id: id('link-title'), type: 'text', maxlength: 300, required: true, autocomplete: 'off' });
  const linkUrl = h('input', { id: id('link-url'), type: 'url', maxlength: 2000, required: true, autocomplete: 'off', placeholder: 'https://' });
  const linkForm = h('form', { class: 'prep-form', 'aria-label': 'Share a link', onsubmit: (e) => { e.preventDefault(); share(); } }, [
    field('link-title', 'Link title', linkTitle),
    field('link-url', 'Address', linkUrl),
    h('button', { type: 'submit', class: 'button', text: 'Share link' }),
  ]);

  const lastRun = h('p', { class: 'hint prep-last-run' });
  const notes = h('textarea', { id: id('notes'), rows: 2, maxlength: 2000 });
  const checkForm = h('form', { class: 'prep-form prep-run', 'aria-label': 'Record a run-through', onsubmit: (e) => { e.preventDefault(); record(); } }, [
    ...FEATURES.map(([key, label]) => h('fieldset', { class: 'choices choices-inline' }, [
      h('legend', { text: label }),
      ...RESULTS.map(([value, text]) => h('div', { class: 'choice' }, [
        h('input', { type: 'radio', id: id(`${key}-${value}`), name: id(key), value, checked: value === 'ok' }),
        h('label', { for: id(`${key}-${value}`), text }),
      ])),
    ])),
    field('notes', 'Notes (optional)', notes),
    h('button', { type: 'submit', class: 'button', text: 'Record run-through' }),
  ]);

  root.replaceChildren(...[
    titled ? h(`h${level}`, { id: id('title'), text: 'Preparation' }) : null,
    summary, checks, result,
    h(`h${level + 1}`, { id: id('materials'), text: 'Materials' }),
    materials, noMaterials, uploadForm, linkForm,
    h(`h${level + 1}`, { id: id('run'), text: 'Platform run-through' }),
    lastRun, checkForm,
  ].filter(Boolean));
  if (titled) root.setAttribute('aria-labelledby', id('title'));

  function field(name, label, input) {
    return h('div', { class: 'field' }, [h('label', { for: id(name), text: label }), input]);
  }

  const base = () => `/api/sessions/${encodeURIComponent(session.id)}`;

  async function load() {
    if (!session) return;
    const sid = session.id;
    try {
      const [ready, shared, runs] = await Promise.all([
        request('GET', `${base()}/readiness`),
        request('GET', `${base()}/materials`),
        request('GET', `${base()}/platform-check`),
      ]);
      if (!session || session.id !== sid) return;
      render(ready, shared.materials, runs.platform_checks);
    } catch (err) {
      setText(summary, `Preparation could not be read: ${err.message}`);
    }
  }

  function render(ready, shared, runs) {
    const missing = ready.checks.filter((c) => !c.ok);
    const over = session.status === 'closed' || session.status === 'cancelled';
    // Once the session is over, readiness is history: say so rather than "Not ready".
    const text = over
      ? (session.status === 'closed' ? 'The session has ended.' : 'The session was cancelled.')
      : ready.ready ? 'Ready.' : `Not ready: ${missing.map((c) => CHECK_NAMES[c.name] || c.name).join(', ')}.`;
    setText(summary, ready.flagged && !over ? `${text} It starts within 24 hours.` : text);
    summary.dataset.ready = ready.ready ? 'yes' : 'no';
    onSummary(text, !over && !ready.ready && ready.flagged);
    checks.replaceChildren(...ready.checks.map((c) => h('li', { 'data-ok': c.ok ? 'yes' : 'no' }, [
      h('span', { class: 'prep-mark', 'aria-hidden': 'true', text: c.ok ? '✓' : '✗' }),
      h('span', { class: 'prep-check-name', text: `${CHECK_NAMES[c.name] || c.name}: ` }),
      h('span', { text: `${c.ok ? '' : 'missing, '}${c.detail}` }),
    ])));
    materials.replaceChildren(...shared.map((m) => h('li', {}, [
      h('a', { href: m.url, text: m.title, ...(m.kind === 'link' ? { target: '_blank', rel: 'noopener noreferrer' } : { download: m.filename }) }),
      h('span', { class: 'hint', text: m.kind === 'file' ? ` ${m.filename}, ${sizeText(m.size)}` : ' link' }),
      canShare() && h('button', {
        type: 'button', class: 'button button-small', text: 'Stop sharing', 'aria-label': `Stop sharing ${m.title}`,
        onclick: () => remove(m),
      }),
    ])));
    noMaterials.hidden = shared.length > 0;
    const open = session.status !== 'closed' && session.status !== 'cancelled';
    uploadForm.hidden = !(canShare() && open);
    linkForm.hidden = !(canShare() && open);
    checkForm.hidden = !(canCheck() && open);
    const run = runs[0];
    if (run) {
      const failed = FEATURES.filter(([key]) => run.checks[key] === 'failed').map(([, label]) => label);
      const when = new Date(run.at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
      setText(lastRun, `Last run-through by ${run.by.name}, ${when}: ${failed.length ? `${failed.join(', ')} failed` : 'nothing failed'}${run.notes ? `. “${run.notes}”` : '.'}`);
    } else {
      setText(lastRun, 'No run-through recorded yet.');
    }
  }

  async function act(what, fn) {
    setText(result, '');
    try {
      await fn();
      setText(result, what);
      await load();
    } catch (err) {
      setText(result, `Not done: ${err.message}`);
    }
  }

  function upload() {
    const file = fileInput.files[0];
    if (!file) return;
    const form = new FormData();
    form.append('file', file, file.name);
    if (fileTitle.value.trim()) form.append('title', fileTitle.value.trim());
    act(`Shared ${file.name}.`, async () => {
      await request('POST', `${base()}/materials`, undefined, { form });
      fileInput.value = '';
      fileTitle.value = '';
    });
  }

  function share() {
    const title = linkTitle.value.trim();
    act(`Shared the link ${title}.`, async () => {
      await request('POST', `${base()}/materials`, { title, url: linkUrl.value.trim() });
      linkTitle.value = '';
      linkUrl.value = '';
    });
  }

  function remove(m) {
    act(`Stopped sharing ${m.title}.`, () => request('DELETE', `${base()}/materials/${encodeURIComponent(m.id)}`));
  }

  function record() {
    const body = { checks: {} };
    for (const [key] of FEATURES) body.checks[key] = checkForm.querySelector(`input[name="${id(key)}"]:checked`).value;
    if (notes.value.trim()) body.notes = notes.value.trim();
    act('Run-through recorded.', async () => {
      await request('POST', `${base()}/platform-check`, body);
      notes.value = '';
    });
  }

  return {
    show(s) {
      session = { ...session, ...s };
      return load();
    },
    reload: load,
  };
}
