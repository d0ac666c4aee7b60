/** /rsvp/{token}: the session an invitation is for, in the invitee's own zone, and their answer. The link is the
 * credential; opening it changes nothing, only a button does. */

const token = decodeURIComponent(window.location.pathname.split('/').pop() || '');
const byId = (id) => document.getElementById(id);
const SAID = { accepted: 'You accepted.', tentative: 'You said maybe.', declined: 'You declined.' };

function when(view) {
  const start = new Date(view.starts_at);
  const fmt = (zone) => new Intl.DateTimeFormat(undefined, {
    dateStyle: 'full', timeStyle: 'short', timeZone: zone,
  }).format(start);
  let text = `${fmt(view.timezone)} (${view.timezone}), ${view.duration_minutes} minutes`;
  if (view.session_timezone !== view.timezone) text += `; ${fmt(view.session_timezone)} in ${view.session_timezone}`;
  return text;
}

function show(view) {
  byId('rsvp-title').textContent = view.topic;
  byId('when').textContent = when(view);
  if (view.join_url) {
    byId('join-link').href = view.join_url;
    byId('join').hidden = false;
  }
  byId('feed-link').href = view.calendar_url;
  byId('feed').hidden = false;
  if (view.status === 'cancelled' || view.status === 'closed') {
    byId('status').textContent = view.status === 'cancelled' ? 'This session is cancelled.' : 'This session is over.';
    return;
  }
  byId('answers').hidden = false;
  pressed(view.rsvp);
  if (SAID[view.rsvp]) byId('status').textContent = SAID[view.rsvp];
}

function pressed(answer) {
  for (const b of byId('answers').querySelectorAll('button')) {
    b.setAttribute('aria-pressed', String(b.dataset.answer === answer));
  }
}

async function answer(value) {
  const r = await fetch(`/rsvp/${encodeURIComponent(token)}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ answer: value }),
  });
  if (!r.ok) {
    byId('status').textContent = 'Your answer was not saved. Please try again.';
    return;
  }
  const { rsvp } = await r.json();
  pressed(rsvp);
  byId('status').textContent = `Saved. ${SAID[rsvp]}`;
}

async function main() {
  const r = await fetch(`/api/rsvp/${encodeURIComponent(token)}`);
  if (!r.ok) {
    byId('when').textContent = 'This link is not valid. Please use the link from your latest invitation.';
    return;
  }
  show(await r.json());
  for (const b of byId('answers').querySelectorAll('button')) b.addEventListener('click', () => answer(b.dataset.answer));
}

main();
