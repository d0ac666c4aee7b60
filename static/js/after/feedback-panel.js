/**
 * Feedback on the dashboard (docs/feedback.md): the results of the participants' form and of the
 * instructor's own, per question as bars with the numbers in words and as a table; and the editor of
 * each form (questions of each kind, added, removed and reordered; anonymous or named), locked with an
 * explanation once the form has answers. `request(method, path, body)` answers the JSON or throws an
 * error with the server's message.
 */

import { h, setText } from '../lib/dom.js';
import { sessionPath } from '../lib/api.js';

const KINDS = [
  ['rating', 'Rating 1–5'],
  ['choice', 'One choice'],
  ['multi', 'Several choices'],
  ['text', 'Text'],
  ['yesno', 'Yes / no'],
];
const AUDIENCES = [['participants', "Participants' form"], ['instructor', "Instructor's own form"]];
const MIN_ANONYMOUS = 3;
const MAX_QUESTIONS = 30;

let panels = 0;

/** Words for screen readers that the sighted see from the layout (which question a button is for). */
function hidden(text) {
  return h('span', { class: 'visually-hidden', text: ` ${text}` });
}

function percent(count, of) {
  return of > 0 ? Math.round((100 * count) / of) : 0;
}

/** One question's counts: bars (decoration for screen readers) with the numbers in words, and a table. */
function countsChart(q, id) {
  const of = q.kind === 'multi' ? q.answered : q.counts.reduce((sum, c) => sum + c.count, 0);
  const label = (c) => (q.kind === 'yesno' ? (c.value === 'yes' ? 'Yes' : 'No') : c.value);
  const chart = h('ol', { class: 'bars', 'aria-describedby': id }, q.counts.map((c) => {
    const fill = h('div', { class: 'bar-fill' });
    fill.style.setProperty('--share', String(of > 0 ? Math.min(1, c.count / of) : 0));
    return h('li', { class: 'bar-row' }, [
      h('span', { class: 'bar-label', text: label(c) }),
      h('div', { class: 'bar-track', 'aria-hidden': 'true' }, [fill]),
      h('span', { class: 'bar-count', text: `${c.count} (${percent(c.count, of)}%)` }),
    ]);
  }));
  const table = h('table', { class: 'fbp-table' }, [
    h('caption', { class: 'visually-hidden', text: q.text }),
    h('thead', {}, [h('tr', {}, [h('th', { scope: 'col', text: 'Answer' }), h('th', { scope: 'col', text: 'Count' })])]),
    h('tbody', {}, q.counts.map((c) => h('tr', {}, [h('th', { scope: 'row', text: label(c) }), h('td', { text: String(c.count) })]))),
  ]);
  return [chart, h('details', { class: 'fbp-as-table' }, [h('summary', { text: 'As a table' }), table])];
}

function resultNode(q, index, panelId) {
  const id = `${panelId}-r${index}`;
  const about = q.kind === 'rating' && q.average !== null
    ? `${q.answered} answered; average ${q.average} of 5` : `${q.answered} answered`;
  const body = q.kind === 'text'
    ? (q.texts.length
      ? h('ul', { class: 'fbp-texts' }, q.texts.map((t) => h('li', {}, [t.name ? h('strong', { text: `${t.name}: ` }) : null, t.text])))
      : h('p', { class: 'empty', text: 'No written answers.' }))
    : countsChart(q, id);
  return h('section', { class: 'fbp-result', 'aria-labelledby': `${id}-title` }, [
    h('h4', { id: `${id}-title`, text: q.text }),
    h('p', { id, class: 'hint', text: about }),
    ...(Array.isArray(body) ? body : [body]),
  ]);
}

export function createFeedbackPanel(root, { request, canEdit = () => false, onSummary = () => {} }) {
  panels += 1;
  const panelId = `fbp${panels}`;
  let session = null;
  let audience = 'participants';
  let draft = null; // {anonymous, questions: [...]} being edited
  let fixed = false;

  const tabs = h('div', { class: 'fbp-tabs', role: 'group', 'aria-label': 'Which form' }, AUDIENCES.map(([value, text]) =>
    h('button', { type: 'button', class: 'button', 'data-audience': value, 'aria-pressed': String(value === audience), text, onclick: () => pick(value) })));
  const resultsTitle = h('h3', { id: `${panelId}-results-title`, text: 'Results' });
  const resultsStatus = h('p', { class: 'fbp-results-status', role: 'status' });
  const refresh = h('button', { type: 'button', class: 'button', text: 'Refresh results', onclick: () => load() });
  const resultsList = h('div', { class: 'fbp-results' });
  const editorTitle = h('h3', { id: `${panelId}-editor-title`, text: 'The form' });
  const lock = h('p', { class: 'fbp-lock', hidden: true });
  const editorStatus = h('p', { class: 'fbp-editor-status', role: 'status' });
  const editor = h('div', { class: 'fbp-editor' });
  const editorSection = h('section', { 'aria-labelledby': editorTitle.id }, [editorTitle, lock, editor, editorStatus]);
  root.append(
    tabs,
    h('section', { 'aria-labelledby': resultsTitle.id }, [resultsTitle, resultsStatus, refresh, resultsList]),
    editorSection,
  );

  const query = () => (audience === 'instructor' ? '?for=instructor' : '');

  function pick(value) {
    audience = value;
    for (const b of tabs.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.audience === value));
    load();
  }

  async function loadResults() {
    if (!session) return;
    try {
      const r = await request('GET', sessionPath(session.id, `/feedback${query()}`));
      renderResults(r);
    } catch (err) {
      setText(resultsStatus, `Results could not be read: ${err.message}`);
    }
  }

  function renderResults(r) {
    const word = r.responses === 1 ? 'response' : 'responses';
    if (audience === 'participants') onSummary(`${r.responses} ${word}`);
    if (r.hidden) {
      setText(resultsStatus, `Results appear at ${MIN_ANONYMOUS} responses (the form is anonymous); ${r.responses} so far.`);
      resultsList.replaceChildren();
      return;
    }
    if (!r.responses) {
      setText(resultsStatus, session.status === 'closed' ? 'No responses yet.' : 'The form goes out when the session closes; no responses yet.');
      resultsList.replaceChildren();
      return;
    }
    setText(resultsStatus, `${r.responses} ${word}${r.anonymous ? ' (anonymous)' : ''}.`);
    resultsList.replaceChildren(...r.per_question.map((q, i) => resultNode(q, i, panelId)));
  }

  async function loadForm() {
    if (!session) return;
    try {
      const f = await request('GET', sessionPath(session.id, `/feedback-form${query()}`));
      draft = { anonymous: f.anonymous, questions: f.questions.map((q) => ({ ...q, options: q.options ?? [] })) };
      fixed = f.fixed;
      const people = f.responses === 1 ? '1 person has' : `${f.responses} people have`;
      lock.textContent = `This form is fixed: ${people} answered it, so its questions can no longer change (their answers are to these questions).`;
      lock.hidden = !fixed;
      const whose = f.default ? 'This is the default form; saving makes it this session’s own.' : '';
      setText(editorStatus, canEdit() ? whose : 'Admins and the session’s instructor edit the form.');
      renderEditor();
    } catch (err) {
      setText(editorStatus, `The form could not be read: ${err.message}`);
    }
  }

  function load() {
    loadResults();
    loadForm();
  }

  function newId() {
    const used = new Set(draft.questions.map((q) => q.id));
    let n = draft.questions.length + 1;
    while (used.has(`q${n}`)) n += 1;
    return `q${n}`;
  }

  function renderEditor() {
    const editable = canEdit() && !fixed;
    editorSection.hidden = !canEdit() && !draft;
    const n = draft.questions.length;
    const items = draft.questions.map((q, i) => {
      const qid = `${panelId}-q${i}`;
      const kind = h('select', { id: `${qid}-kind`, onchange: (e) => { q.kind = e.target.value; renderEditor(); } },
        KINDS.map(([value, text]) => h('option', { value, selected: value === q.kind, text })));
      const text = h('input', { id: `${qid}-text`, type: 'text', maxlength: '500', value: q.text, required: true, oninput: (e) => { q.text = e.target.value; } });
      const required = h('input', { id: `${qid}-req`, type: 'checkbox', checked: q.required, onchange: (e) => { q.required = e.target.checked; } });
      const options = h('textarea', { id: `${qid}-opts`, rows: '3', oninput: (e) => { q.options = e.target.value.split('\n'); } });
      options.value = (q.options ?? []).join('\n');
      const hasOptions = q.kind === 'choice' || q.kind === 'multi';
      const label = `question ${i + 1}`;
      return h('fieldset', { class: 'fbp-question' }, [
        h('legend', { text: `Question ${i + 1}` }),
        h('div', { class: 'fbp-row' }, [
          h('label', { for: kind.id }, ['Kind', kind]),
          h('label', { for: text.id, class: 'fbp-text' }, ['Question', text]),
          h('label', { for: required.id, class: 'fbp-check' }, [required, ' Required']),
        ]),
        hasOptions ? h('label', { for: options.id }, ['Options, one per line', options]) : null,
        h('div', { class: 'fbp-row' }, [
          h('button', { type: 'button', class: 'button', disabled: i === 0, onclick: () => move(i, -1) }, ['Move up', hidden(label)]),
          h('button', { type: 'button', class: 'button', disabled: i === n - 1, onclick: () => move(i, 1) }, ['Move down', hidden(label)]),
          h('button', { type: 'button', class: 'button', disabled: n === 1, onclick: () => remove(i) }, ['Remove', hidden(label)]),
        ]),
      ]);
    });
    const anonymous = h('input', { id: `${panelId}-anon`, type: 'checkbox', checked: draft.anonymous, onchange: (e) => { draft.anonymous = e.target.checked; } });
    const fields = h('fieldset', { class: 'fbp-fields', disabled: !editable }, [
      h('legend', { class: 'visually-hidden', text: 'Questions of the form' }),
      h('label', { for: anonymous.id, class: 'fbp-check' }, [anonymous, ' Anonymous (answers are never shown with names, and results only from 3 responses)']),
      ...items,
      h('div', { class: 'fbp-row' }, [
        h('button', { type: 'button', class: 'button', text: 'Add a question', disabled: n >= MAX_QUESTIONS, onclick: add }),
        h('button', { type: 'submit', class: 'button button-primary', text: 'Save form' }),
      ]),
    ]);
    const form = h('form', { 'aria-label': 'Edit the feedback form', onsubmit: (e) => { e.preventDefault(); save(); } }, [fields]);
    editor.replaceChildren(form);
  }

  function move(i, by) {
    const [q] = draft.questions.splice(i, 1);
    draft.questions.splice(i + by, 0, q);
    renderEditor();
    editor.querySelectorAll('fieldset.fbp-question')[i + by]?.querySelector('input[type="text"]')?.focus();
  }

  function remove(i) {
    draft.questions.splice(i, 1);
    renderEditor();
  }

  function add() {
    draft.questions.push({ id: newId(), kind: 'rating', text: '', options: [], required: false });
    renderEditor();
    const all = editor.querySelectorAll('fieldset.fbp-question');
    all[all.length - 1]?.querySelector('input[type="text"]')?.focus();
  }

  async function save() {
    const body = {
      anonymous: draft.anonymous,
      questions: draft.questions.map((q) => {
        const out = { id: q.id, kind: q.kind, text: q.text.trim(), required: q.required };
        if (q.kind === 'choice' || q.kind === 'multi') out.options = q.options.map((o) => o.trim()).filter(Boolean);
        return out;
      }),
    };
    setText(editorStatus, 'Saving…');
    try {
      await request('PUT', sessionPath(session.id, `/feedback-form${query()}`), body);
      await loadForm();
      setText(editorStatus, 'Saved.');
    } catch (err) {
      setText(editorStatus, `Not saved: ${err.message}`);
    }
  }

  return {
    /** Show the session's feedback ({id, status}); reads again when called again. */
    show(s) {
      const changed = !session || session.id !== s.id || session.status !== s.status;
      session = s;
      if (changed) load();
    },
    reload: load,
  };
}
