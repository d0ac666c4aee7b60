/**
 * The instructor's notes during the class and the minutes after it, for the dashboard.
 *
 * Notes save themselves while the instructor types (a second after the last key, on leaving the box,
 * when the page is hidden or left), each save naming the version it replaces: the server refuses a
 * save over a version another tab wrote, and the panel then offers both texts instead of losing one.
 * Until the server has a text, it is also kept in this browser's storage, so a reload, a crash or a
 * lost connection never loses words: the next load saves them.
 *
 * The minutes (summary, key points one per line, action items with owner and due date) are saved
 * with "Save minutes" and mailed with "Circulate", once per version.
 * `request(method, path, body)` calls the API and throws an ApiError ({status, code, details}).
 */

import { h, setText } from '../lib/dom.js';
import { clockTime, dateTime, parseTime } from '../lib/format.js';
import { lasting } from '../lib/storage.js';

const SAVE_AFTER_MS = 1000; // after the last key: often enough that little is ever only in the tab
const SAVE_WITHIN_MS = 5000; // and at least this often while typing on without a pause
const RETRY_FIRST_MS = 2000; // a failed save is tried again after this, doubling up to the cap
const RETRY_CAP_MS = 30_000;
const MAX_NOTES = 50_000;
const MAX_ACTION_ITEMS = 100;

let panels = 0;

/**
 * Build the panel into `root`. `canWrite()`: may save and circulate (admins, the session's instructor);
 * `onSummary(text)` hears a one-line state for the fold's summary.
 */
export function createMinutesPanel(root, { request, canWrite = () => false, onSummary = () => {}, level = 3 }) {
  panels += 1;
  const panel = panels;
  const id = (name) => `minutes${panel}-${name}`;
  let actionRows = 0;
  let session = null;
  let loaded = false;

  // ------------------------------------------------------------ notes

  let notes = { text: '', version: 0, saved_at: null }; // as the server last said
  let timer = null;
  let retryMs = RETRY_FIRST_MS;
  let inFlight = false;
  // Texts sent over the current version whose answer never came (in flight, or lost with the
  // connection or a reload): a reload that finds one of them saved knows that version is its own.
  let unconfirmed = [];
  let again = false;
  let theirs = null; // the other tab's notes while a conflict is shown
  let unsavedSince = null; // when the box first differed from what the server has

  const notesBox = h('textarea', {
    id: id('notes'), rows: 10, maxlength: MAX_NOTES, spellcheck: 'true', 'aria-describedby': id('notes-hint'),
    oninput: typed, onblur: () => saveNotes(),
  });
  const notesStatus = h('p', { class: 'minutes-status', role: 'status', id: id('notes-status') });
  const conflictText = h('p', {});
  const conflictBox = h('div', { class: 'minutes-conflict', role: 'group', 'aria-labelledby': id('conflict-title'), hidden: true }, [
    h('p', { id: id('conflict-title'), class: 'minutes-conflict-title', text: 'The notes were changed in another tab.' }),
    conflictText,
    h('div', { class: 'actions' }, [
      h('button', { type: 'button', class: 'button', text: 'Keep mine', onclick: keepMine }),
      h('button', { type: 'button', class: 'button', text: 'Use the other text', onclick: useTheirs }),
    ]),
  ]);

  // ------------------------------------------------------------ minutes

  let minutes = null; // as the server last said
  let edited = false; // the form differs from what was loaded: a reload must not overwrite it
  const summaryBox = h('textarea', { id: id('summary'), rows: 6, maxlength: 10_000, oninput: () => { edited = true; } });
  const pointsBox = h('textarea', {
    id: id('points'), rows: 5, 'aria-describedby': id('points-hint'), oninput: () => { edited = true; },
  });
  const actions = h('ol', { class: 'minutes-actions', 'aria-label': 'Action items' });
  const owners = h('datalist', { id: id('owners') });
  const result = h('p', { class: 'minutes-result', role: 'status' });
  const circulated = h('p', { class: 'hint minutes-circulated' });
  const writeOnly = [];

  const startButton = h('button', { type: 'button', class: 'button button-small', text: 'Start from notes', onclick: startFromNotes });
  const addButton = h('button', { type: 'button', class: 'button button-small', text: 'Add action item', onclick: () => { addAction(); edited = true; actions.lastElementChild?.querySelector('input')?.focus(); } });
  const saveButton = h('button', { type: 'submit', class: 'button', text: 'Save minutes' });
  const circulateButton = h('button', { type: 'button', class: 'button button-primary', text: 'Circulate', onclick: circulate });
  writeOnly.push(startButton, addButton, saveButton, circulateButton);

  const form = h('form', { class: 'minutes-form', 'aria-labelledby': id('minutes-title'), onsubmit: (e) => { e.preventDefault(); saveMinutes(); } }, [
    h('div', { class: 'field' }, [
      h('div', { class: 'minutes-label-row' }, [h('label', { for: id('summary'), text: 'Summary' }), startButton]),
      summaryBox,
    ]),
    h('div', { class: 'field' }, [
      h('label', { for: id('points'), text: 'Key points' }),
      h('p', { id: id('points-hint'), class: 'hint', text: 'One per line.' }),
      pointsBox,
    ]),
    h('fieldset', { class: 'minutes-action-set' }, [
      h('legend', { text: 'Action items' }),
      actions,
      addButton,
    ]),
    owners,
    h('div', { class: 'actions' }, [saveButton, circulateButton]),
    result,
    circulated,
  ]);

  root.replaceChildren(
    h(`h${level}`, { id: id('notes-title'), text: 'Notes' }),
    h('div', { class: 'field minutes-notes' }, [
      h('label', { for: id('notes'), text: 'Notes', class: 'visually-hidden' }),
      notesBox,
      h('p', { id: id('notes-hint'), class: 'hint', text: 'Saved as you type; only staff see them. Turn them into the minutes below.' }),
    ]),
    notesStatus,
    conflictBox,
    h(`h${level}`, { id: id('minutes-title'), text: 'Minutes' }),
    form,
  );

  const base = () => `/api/sessions/${encodeURIComponent(session.id)}`;
  const draftKey = () => `companion:notes:${session.id}`;

  // Leaving the page (a reload, closing the tab, switching away on a phone): save now; the draft in
  // storage covers a save the browser does not let finish.
  window.addEventListener('pagehide', () => saveNotes());
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') saveNotes(); });

  function typed() {
    if (!session) return;
    keepDraft();
    unsavedSince ??= Date.now();
    clearTimeout(timer);
    timer = setTimeout(saveNotes, Math.max(0, Math.min(SAVE_AFTER_MS, unsavedSince + SAVE_WITHIN_MS - Date.now())));
    if (!inFlight && !theirs) setText(notesStatus, 'Not saved yet…');
  }

  async function saveNotes() {
    clearTimeout(timer);
    timer = null;
    if (!session || !canWrite() || theirs) return;
    const text = notesBox.value;
    if (text === notes.text && notes.version > 0) {
      lasting.remove(draftKey());
      return;
    }
    if (text === notes.text && !text) return; // nothing written yet, nothing to save
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    unconfirmed = [...unconfirmed.slice(-4), text];
    keepDraft();
    setText(notesStatus, 'Saving…');
    try {
      notes = await request('PUT', `${base()}/notes`, { text, version: notes.version });
      unconfirmed = [];
      retryMs = RETRY_FIRST_MS;
      if (notesBox.value === notes.text) {
        unsavedSince = null;
        lasting.remove(draftKey());
        setText(notesStatus, `Saved ${clockTime(parseTime(notes.saved_at))}`);
      } else {
        again = true; // typed on while it was saving
        unsavedSince = Date.now();
        keepDraft();
      }
      summarize();
    } catch (err) {
      const other = err.details ?? {};
      if (err.code === 'conflict' && other.version === notes.version + 1 && unconfirmed.includes(other.text)) {
        notes = { text: other.text, version: other.version, saved_at: other.saved_at }; // our own, its answer lost
        unconfirmed = [];
        again = true;
      } else if (err.code === 'conflict') {
        unconfirmed = [];
        showConflict(other);
      } else if (err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429) {
        setText(notesStatus, `Not saved: ${err.message}`); // the draft stays in this browser
      } else {
        setText(notesStatus, 'Not saved — retrying');
        timer = setTimeout(saveNotes, retryMs);
        retryMs = Math.min(retryMs * 2, RETRY_CAP_MS);
      }
    } finally {
      inFlight = false;
      if (again) {
        again = false;
        if (!timer && !theirs) timer = setTimeout(saveNotes, SAVE_AFTER_MS);
      }
    }
  }

  /** What is in the box, over which version, and what is on its way: all a reload needs to go on. */
  function keepDraft() {
    lasting.setJson(draftKey(), { text: notesBox.value, base: notes.version, sent: unconfirmed });
  }

  function showConflict(other) {
    theirs = { text: other.text ?? '', version: other.version ?? 0, saved_at: other.saved_at ?? null };
    const when = theirs.saved_at ? ` at ${clockTime(parseTime(theirs.saved_at))}` : '';
    const preview = theirs.text.length > 300 ? `${theirs.text.slice(0, 300)}…` : theirs.text;
    setText(conflictText, `Another tab saved${when}: “${preview}”. Yours are still in the box, not saved.`);
    conflictBox.hidden = false;
    setText(notesStatus, 'Not saved — changed in another tab');
  }

  function keepMine() {
    notes = theirs;
    theirs = null;
    conflictBox.hidden = true;
    saveNotes();
  }

  function useTheirs() {
    notes = theirs;
    theirs = null;
    conflictBox.hidden = true;
    notesBox.value = notes.text;
    unsavedSince = null;
    lasting.remove(draftKey());
    setText(notesStatus, notes.saved_at ? `Saved ${clockTime(parseTime(notes.saved_at))}` : '');
    notesBox.focus();
  }

  function applyNotes(got) {
    const draft = lasting.getJson(draftKey(), null);
    const typing = document.activeElement === notesBox || notesBox.value !== notes.text;
    if (loaded && typing) return; // mid-sentence: the next save names its version and hears of any other

    notes = got;
    if (draft && typeof draft.text === 'string' && draft.text !== got.text) {
      notesBox.value = draft.text; // words this browser had not got saved yet
      // The save in flight when the page went may have arrived: that version is this browser's own.
      const own = got.version === draft.base + 1 && Array.isArray(draft.sent) && draft.sent.includes(got.text);
      if (draft.base === got.version || own) {
        setText(notesStatus, 'Saving…');
        saveNotes();
      } else {
        showConflict(got);
      }
      return;
    }
    lasting.remove(draftKey());
    notesBox.value = got.text;
    setText(notesStatus, got.saved_at ? `Saved ${clockTime(parseTime(got.saved_at))}` : '');
  }

  // ------------------------------------------------------------ minutes

  function addAction(item = {}) {
    if (actions.children.length >= MAX_ACTION_ITEMS) return;
    actionRows += 1;
    const row = `a${actionRows}`;
    const text = h('input', { id: id(`${row}-text`), type: 'text', maxlength: 500, value: item.text ?? '', autocomplete: 'off' });
    const owner = h('input', { id: id(`${row}-owner`), type: 'email', maxlength: 320, value: item.owner_email ?? '', list: id('owners'), autocomplete: 'off' });
    const due = h('input', { id: id(`${row}-due`), type: 'date', value: item.due ?? '' });
    const li = h('li', { class: 'minutes-action' });
    const remove = h('button', {
      type: 'button', class: 'button button-small', text: 'Remove',
      onclick: () => {
        li.remove();
        edited = true;
        renumber();
        addButton.focus();
      },
    });
    li.append(
      h('div', { class: 'field minutes-action-text' }, [h('label', { for: text.id, text: 'Action' }), text]),
      h('div', { class: 'field' }, [h('label', { for: owner.id, text: 'Owner email' }), owner]),
      h('div', { class: 'field' }, [h('label', { for: due.id, text: 'Due' }), due]),
      remove,
    );
    li.addEventListener('input', () => { edited = true; });
    actions.append(li);
    renumber();
  }

  function renumber() {
    [...actions.children].forEach((li, i) => {
      li.setAttribute('aria-label', `Action item ${i + 1}`);
      li.querySelector('button').setAttribute('aria-label', `Remove action item ${i + 1}`);
    });
    addButton.hidden = !canWrite() || actions.children.length >= MAX_ACTION_ITEMS;
  }

  function fill(m) {
    minutes = m;
    summaryBox.value = m.summary;
    pointsBox.value = m.key_points.join('\n');
    actions.replaceChildren();
    for (const item of m.action_items) addAction(item);
    if (!m.action_items.length && canWrite()) addAction();
    edited = false;
  }

  function body() {
    const items = [...actions.children].map((li) => {
      const [text, owner, due] = li.querySelectorAll('input');
      const item = { text: text.value.trim() };
      if (owner.value.trim()) item.owner_email = owner.value.trim();
      if (due.value) item.due = due.value;
      return item;
    }).filter((item) => item.text || item.owner_email || item.due);
    return {
      summary: summaryBox.value,
      key_points: pointsBox.value.split('\n').map((line) => line.replace(/^\s*[-•*]\s+/, '').trim()).filter(Boolean),
      action_items: items,
      version: minutes?.version ?? 0,
    };
  }

  function startFromNotes() {
    if (summaryBox.value.trim()) {
      setText(result, 'The summary already has text: nothing copied.');
      return;
    }
    summaryBox.value = notesBox.value.slice(0, 10_000);
    edited = true;
    setText(result, notesBox.value.trim() ? 'Copied the notes into the summary.' : 'There are no notes to copy yet.');
    summaryBox.focus();
  }

  async function saveMinutes() {
    setText(result, 'Saving the minutes…');
    try {
      const saved = await request('PUT', `${base()}/minutes`, body());
      const changed = saved.version !== minutes?.version;
      fill(saved);
      setText(result, changed ? `Minutes saved, version ${saved.version}.` : `No changes: version ${saved.version} is saved.`);
      renderCirculated();
      return saved;
    } catch (err) {
      if (err.code === 'conflict' && err.details?.minutes) {
        minutes = err.details.minutes; // "Save minutes" again replaces what the other tab saved
        setText(result, `Not saved: someone saved version ${minutes.version} meanwhile. Save again to replace it with yours.`);
      } else {
        setText(result, `Not saved: ${err.message}`);
      }
      return null;
    }
  }

  async function circulate() {
    if (edited && !(await saveMinutes())) return; // what is on the screen is what goes out
    setText(result, 'Circulating…');
    try {
      const sent = await request('POST', `${base()}/minutes/circulate`);
      minutes = await request('GET', `${base()}/minutes`);
      if (sent.sent > 0) {
        setText(result, `Sent to ${sent.sent} ${sent.sent === 1 ? 'person' : 'people'}, version ${sent.version}.`);
      } else {
        setText(result, `Already sent: version ${sent.version} went out before. Edit the minutes to send a new version.`);
      }
      renderCirculated();
    } catch (err) {
      setText(result, `Not sent: ${err.message}`);
    }
  }

  function renderCirculated() {
    const last = minutes?.circulated?.at(-1);
    setText(circulated, last
      ? `Last circulated: version ${last.version} to ${last.sent} ${last.sent === 1 ? 'person' : 'people'}, ${dateTime(parseTime(last.at))}.`
      : 'Not circulated yet.');
    summarize();
  }

  function summarize() {
    const parts = [];
    if (notes.saved_at) parts.push(`notes saved ${clockTime(parseTime(notes.saved_at))}`);
    if (minutes?.version) {
      const last = minutes.circulated.at(-1);
      parts.push(`minutes v${minutes.version}${last && last.version === minutes.version ? ', sent' : ''}`);
    }
    onSummary(parts.length ? parts.join(' · ') : '');
  }

  function applyRoles() {
    const writer = canWrite();
    notesBox.readOnly = !writer;
    summaryBox.readOnly = !writer;
    pointsBox.readOnly = !writer;
    for (const input of actions.querySelectorAll('input')) input.readOnly = !writer;
    for (const button of [...writeOnly, ...actions.querySelectorAll('button')]) button.hidden = !writer;
    renumber();
  }

  async function load() {
    if (!session) return;
    const sid = session.id;
    try {
      const [gotNotes, gotMinutes] = await Promise.all([
        request('GET', `${base()}/notes`),
        request('GET', `${base()}/minutes`),
      ]);
      if (!session || session.id !== sid) return;
      applyNotes(gotNotes);
      if (!loaded || !edited) fill(gotMinutes);
      else minutes = { ...gotMinutes, version: minutes?.version ?? gotMinutes.version };
      loaded = true;
      applyRoles();
      renderCirculated();
    } catch (err) {
      setText(notesStatus, `Notes could not be read: ${err.message}`);
      return;
    }
    if (canWrite()) {
      try {
        const roster = await request('GET', `${base()}/participants`);
        owners.replaceChildren(...roster.participants.map((p) => h('option', { value: p.email, label: p.name })));
      } catch (err) {
        console.warn('companion: the roster for action owners could not be read', err);
      }
    }
  }

  return {
    show(s) {
      session = { ...session, ...s };
      return load();
    },
    reload: load,
    /** Save what is typed now (the page is going away). */
    flush: () => saveNotes(),
  };
}
