/**
 * /schedule: the administrators' week of sessions in their own time zone, a session's details (reschedule,
 * cancel, roster and its CSV import), booking a session or a weekly series, and suggested times. Others
 * signed in are told it is for administrators; nobody signed in goes to sign-in and comes back.
 */

import { byId, setText } from '../lib/dom.js';
import { call, whoAmI } from '../signin/http.js';
import { send, sessionsBetween } from '../schedule/api.js';
import { setUpCreateForm } from '../schedule/create-form.js';
import { setUpDetails } from '../schedule/details-view.js';
import { createInvitationsPanel } from '../invite/invitations-panel.js';
import { createPreparationPanel } from '../prep/preparation-panel.js';
import { setUpRoster } from '../schedule/roster-view.js';
import { setUpSuggest } from '../schedule/suggest-view.js';
import { renderWeek, weekTitle } from '../schedule/week-view.js';
import { addDays, isoDate, mondayOf, parseDate, weekFrom } from '../schedule/week.js';
import { browserZone } from '../schedule/zones.js';

const ROLE_NAMES = { admin: 'an administrator', instructor: 'an instructor', support: 'technical support' };

const state = {
  zone: browserZone(),
  monday: mondayOf(Date.now()),
  sessions: [],
  selected: null, // the id of the session whose details are open
  fresh: new Set(), // sessions just booked, marked in the week
};

let details;
let roster;
let invitations;
let preparation;
let suggest;

/** The week in the address (?week=any day of it), so a reload or a shared link shows the same week. */
function weekFromAddress() {
  const day = parseDate(new URLSearchParams(window.location.search).get('week'));
  return day ? mondayOf(day.getTime()) : mondayOf(Date.now());
}

function showWeekOf(monday) {
  state.monday = monday;
  const url = new URL(window.location.href);
  url.searchParams.set('week', isoDate(monday));
  window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
  return loadWeek();
}

async function loadWeek() {
  const week = weekFrom(state.monday);
  weekTitle(byId('week-title'), week, state.zone);
  setText(byId('week-status'), 'Loading the week…');
  try {
    const answer = await sessionsBetween(week.start, week.end);
    if (state.monday.getTime() !== week.start) return; // another week was asked for meanwhile
    state.sessions = answer.sessions;
    const count = answer.sessions.length;
    setText(
      byId('week-status'),
      `${count ? `${count} session${count === 1 ? '' : 's'}` : 'No sessions'} this week${answer.more ? ' (more than shown)' : ''}.`,
    );
  } catch (err) {
    state.sessions = [];
    setText(byId('week-status'), `The week could not be read: ${err.message}`);
  }
  draw();
  suggest.sessions(state.sessions);
  const open = state.sessions.find((s) => s.id === state.selected);
  if (open) {
    details.show(open);
    invitations.show(open);
  }
}

function draw() {
  renderWeek(byId('week'), {
    week: weekFrom(state.monday),
    sessions: state.sessions,
    zone: state.zone,
    selected: state.selected,
    fresh: state.fresh,
    onSelect: (s) => select(s, { focus: true }),
  });
}

function select(s, { focus = false } = {}) {
  state.selected = s.id;
  draw();
  details.show(s, { focus });
  roster.show(s);
  invitations.show(s, { again: true }); // answers come in while the page is open: read them on each opening
  preparation.show(s);
}

/** Open a session known only by id and start (a conflict named in a refusal): go to its week, then show it. */
async function showSession({ session_id: id, starts_at: startsAt }) {
  state.selected = id;
  await showWeekOf(mondayOf(Date.parse(startsAt)));
  const s = state.sessions.find((x) => x.id === id);
  if (s) select(s, { focus: true });
}

async function afterChange(changed, message) {
  setText(byId('status'), `${changed.topic}: ${message}`);
  state.selected = changed.id;
  const monday = mondayOf(Date.parse(changed.starts_at));
  await (monday.getTime() === state.monday.getTime() ? loadWeek() : showWeekOf(monday));
  const s = state.sessions.find((x) => x.id === changed.id) || { ...changed, participants: undefined };
  details.show(s);
  roster.show(s);
  invitations.show(s, { again: true });
  preparation.show(s);
}

async function main() {
  let me;
  try {
    me = await whoAmI();
  } catch (err) {
    byId('problem').textContent = err.message;
    byId('problem').hidden = false;
    return;
  }
  if (!me) {
    const here = window.location.pathname + window.location.search;
    window.location.replace(`/login?next=${encodeURIComponent(here)}`);
    return;
  }
  byId('whoami').textContent = `${me.name} (${me.email})`;
  byId('signout').addEventListener('click', async () => {
    try {
      await call('POST', '/logout');
    } catch (err) {
      console.warn('companion: sign-out answer', err);
    }
    window.location.assign('/login');
  });
  if (me.role !== 'admin') {
    setText(byId('not-admin-role'), ROLE_NAMES[me.role] || me.role);
    byId('not-admin').hidden = false;
    return;
  }
  byId('scheduler').hidden = false;
  setText(byId('week-zone'), `Times are in ${state.zone}, your browser’s time zone.`);

  let platforms = [];
  try {
    ({ platforms } = await send('GET', '/api/platforms'));
  } catch (err) {
    setText(byId('status'), `The platforms could not be read (${err.message}); sessions can still be booked without one.`);
  }
  const create = setUpCreateForm({
    platforms,
    onShowConflict: showSession,
    onBooked: async (sessions) => {
      state.fresh = new Set(sessions.map((s) => s.id));
      await showWeekOf(mondayOf(Date.parse(sessions[0].starts_at)));
    },
  });
  details = setUpDetails({
    viewerZone: state.zone,
    platforms,
    onChanged: afterChange,
    onShowConflict: showSession,
    onClose: () => {
      const id = state.selected;
      state.selected = null;
      draw();
      byId('week').querySelector(`[data-session="${CSS.escape(id)}"]`)?.focus();
    },
  });
  roster = setUpRoster({
    viewerZone: state.zone,
    onChanged: (count) => {
      const s = state.sessions.find((x) => x.id === state.selected);
      if (s && typeof count === 'number') {
        s.participants = count;
        draw();
        details.show(s);
        invitations.show(s, { again: true }); // added people are invited at once when invitations went out
        preparation.show(s);
      }
    },
  });
  invitations = createInvitationsPanel(byId('invitations'), {
    request: (method, path, body) => send(method, path, { json: body }),
    zone: state.zone,
    canSend: () => true, // this page is the administrators'
    onSent: () => {
      loadWeek(); // the week's "Not ready" marks
      preparation.reload();
    },
  });
  preparation = createPreparationPanel(byId('preparation'), {
    request: (method, path, body, { form } = {}) => send(method, path, { json: body, form }),
    canShare: () => true,
    canCheck: () => true,
  });
  suggest = setUpSuggest({ viewerZone: state.zone, onUse: (slot) => create.fill(slot) });

  byId('details-suggest').addEventListener('click', () => {
    const s = details.current;
    if (!s) return;
    suggest.from(s);
    byId('suggest-title').scrollIntoView({ block: 'start' });
    byId('suggest-from').focus({ preventScroll: true });
  });
  byId('week-prev').addEventListener('click', () => showWeekOf(addDays(state.monday, -7)));
  byId('week-next').addEventListener('click', () => showWeekOf(addDays(state.monday, 7)));
  byId('week-this').addEventListener('click', () => showWeekOf(mondayOf(Date.now())));
  byId('to-create').addEventListener('click', (event) => {
    event.preventDefault();
    byId('create-title').scrollIntoView({ block: 'start' });
    byId('create-topic').focus({ preventScroll: true });
  });
  await showWeekOf(weekFromAddress());
}

main();
