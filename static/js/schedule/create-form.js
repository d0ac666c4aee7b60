/**
 * The form that books a session or a weekly series: its local date and time are read in the zone the
 * admin chose and sent as an RFC 3339 instant with that zone's offset on that day. A refusal shows beside
 * it; a conflict can be booked anyway with a reason (resent as `override_reason`).
 */

import { byId, h, setText } from '../lib/dom.js';
import { send } from './api.js';
import { FEATURES } from './features.js';
import { chosenPlatform, markMisfits, renderPlatforms } from './platform-picker.js';
import { clearRefusal, showRefusal } from './refusal-view.js';
import { dateIn, dayTimeIn } from './times.js';
import { chooseZone, chosenZone, setUpZonePicker } from './zone-picker.js';
import { browserZone, instantOf, wallTime, weekdayOf } from './zones.js';

export const DAYS = [
  ['MO', 'Monday'], ['TU', 'Tuesday'], ['WE', 'Wednesday'], ['TH', 'Thursday'],
  ['FR', 'Friday'], ['SA', 'Saturday'], ['SU', 'Sunday'],
];

/**
 * The POST /api/sessions body of the form's values, or {problem} in words. `values`: topic,
 * instructor, date, time, zone, duration, expected, platform, features, repeats, days, ends, count, until.
 */
export function sessionBody(v) {
  if (!v.date || !v.time) return { problem: 'Date and start time: both are needed.' };
  const at = instantOf(v.date, v.time, v.zone);
  const body = {
    topic: v.topic.trim(),
    instructor_email: v.instructor.trim(),
    starts_at: at.iso,
    duration_minutes: Number(v.duration),
    timezone: v.zone,
    required_features: v.features,
  };
  if (v.expected) body.expected_participants = Number(v.expected);
  if (v.platform) body.platform = v.platform;
  if (v.repeats) {
    const first = DAYS[weekdayOf(v.date)];
    if (!v.days.includes(first[0])) {
      return { problem: `Repeats: the first session is on a ${first[1]}, so tick ${first[1]} too (or start on another day).` };
    }
    body.recurrence = { freq: 'weekly', byday: v.days };
    if (v.ends === 'until') {
      if (!v.until) return { problem: 'Repeats: give the last date, or end after a number of sessions.' };
      body.recurrence.until = v.until;
    } else {
      body.recurrence.count = Number(v.count);
    }
  }
  return { body, shifted: at.shifted };
}

/**
 * Wire the create form. `platforms` from GET /api/platforms; `onBooked(sessions)` after a booking (one
 * session or every occurrence of a series). Answers {fill(slot fields)} for "Use this time".
 */
export function setUpCreateForm({ platforms, onBooked, onShowConflict }) {
  const form = byId('create-form');
  const zoneSelect = byId('create-zone');
  const zoneOther = byId('create-zone-other');
  const refusal = byId('create-refusal');
  const status = byId('create-status');
  const platformRoot = byId('create-platforms');

  byId('create-features').replaceChildren(
    ...FEATURES.map(([id, name]) => h('div', { class: 'choice' }, [
      h('input', { id: `feature-${id}`, type: 'checkbox', name: 'feature', value: id }),
      h('label', { for: `feature-${id}`, text: name }),
    ])),
  );
  byId('create-days').replaceChildren(
    ...DAYS.map(([id, name]) => h('div', { class: 'choice' }, [
      h('input', { id: `day-${id}`, type: 'checkbox', name: 'day', value: id }),
      h('label', { for: `day-${id}`, text: name }),
    ])),
  );
  renderPlatforms(platformRoot, platforms);

  const checked = (name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
  const values = (zone) => ({
    topic: byId('create-topic').value,
    instructor: byId('create-instructor').value,
    date: byId('create-date').value,
    time: byId('create-time').value,
    zone,
    duration: byId('create-duration').value,
    expected: byId('create-expected').value,
    platform: chosenPlatform(platformRoot),
    features: checked('feature'),
    repeats: byId('create-repeats').checked,
    days: checked('day'),
    ends: form.querySelector('input[name="ends"]:checked').value,
    count: byId('create-count').value,
    until: byId('create-until').value,
  });

  // "10:00 in Europe/Berlin is 04:00 for you": the instant read back, so a wrong zone shows before booking.
  const describe = () => {
    const { zone } = chosenZone(zoneSelect, zoneOther);
    const date = byId('create-date').value;
    const time = byId('create-time').value;
    if (!zone || !date || !time) {
      setText(byId('create-when'), '');
      return;
    }
    const at = instantOf(date, time, zone);
    const mine = browserZone();
    const moved = at.shifted ? ` (the clocks skip ${time} that day)` : '';
    const yours = mine === zone ? '' : `; for you, ${dayTimeIn(at.ms, mine)} (${mine})`;
    setText(byId('create-when'), `Starts ${dateIn(at.ms, zone)} at ${at.shifted || time} in ${zone}${moved}${yours}.`);
  };
  const fits = () => markMisfits(platformRoot, platforms, checked('feature'), Number(byId('create-expected').value) || 0);
  setUpZonePicker(zoneSelect, zoneOther, describe);

  // A new series repeats on the weekday of its first date until the admin says otherwise.
  const firstDay = () => {
    const date = byId('create-date').value;
    if (!date || checked('day').length > 1) return;
    for (const input of form.querySelectorAll('input[name="day"]')) input.checked = input.value === DAYS[weekdayOf(date)][0];
  };
  const repeats = () => {
    const on = byId('create-repeats').checked;
    byId('create-repeat').hidden = !on;
    setText(byId('create-submit'), on ? 'Book series' : 'Book session');
    if (on) firstDay();
  };
  const ends = () => {
    const until = form.querySelector('input[name="ends"]:checked').value === 'until';
    byId('create-until').disabled = !until;
    byId('create-until').required = until;
    byId('create-count').disabled = until;
  };
  for (const id of ['create-date', 'create-time']) byId(id).addEventListener('input', describe);
  byId('create-date').addEventListener('change', firstDay);
  byId('create-expected').addEventListener('input', fits);
  byId('create-features').addEventListener('change', fits);
  byId('create-repeats').addEventListener('change', repeats);
  for (const r of form.querySelectorAll('input[name="ends"]')) r.addEventListener('change', ends);
  repeats();
  ends();
  fits();

  async function book(body) {
    clearRefusal(refusal);
    setText(status, 'Booking…');
    const submit = byId('create-submit');
    submit.disabled = true; // one booking per press, however slow the answer
    try {
      const made = await send('POST', '/api/sessions', { json: body });
      const sessions = made.sessions || [made];
      const first = sessions[0];
      const when = dayTimeIn(Date.parse(first.starts_at), browserZone());
      setText(
        status,
        sessions.length > 1
          ? `Booked ${sessions.length} sessions of “${first.topic}”, the first ${when} (your time).`
          : `Booked “${first.topic}”, ${when} (your time).`,
      );
      onBooked(sessions);
    } catch (err) {
      setText(status, '');
      showRefusal(refusal, err, {
        what: 'Not booked',
        overrideLabel: 'Book anyway',
        onOverride: (reason) => book({ ...body, override_reason: reason }),
        onShow: onShowConflict,
      });
    } finally {
      submit.disabled = false;
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const { zone, problem: zoneProblem } = chosenZone(zoneSelect, zoneOther);
    const built = zoneProblem ? { problem: zoneProblem } : sessionBody(values(zone));
    if (built.problem) {
      showRefusal(refusal, { message: built.problem, details: {} }, { what: 'Not booked' });
      return;
    }
    book(built.body);
  });

  return {
    /** Put a suggested time into the form: its start as wall time in the form's zone, its length, the instructor. */
    fill({ startsAt, durationMinutes, instructor }) {
      let { zone } = chosenZone(zoneSelect, zoneOther);
      if (!zone) {
        zone = browserZone();
        chooseZone(zoneSelect, zoneOther, zone);
      }
      const wall = wallTime(Date.parse(startsAt), zone);
      byId('create-date').value = wall.date;
      byId('create-time').value = wall.time;
      byId('create-duration').value = String(durationMinutes);
      if (instructor) byId('create-instructor').value = instructor;
      firstDay();
      describe();
      clearRefusal(refusal);
      setText(status, `The form now holds ${wall.date} at ${wall.time} in ${zone}: give it a topic and book it.`);
      byId('create-title').scrollIntoView({ block: 'start' });
      byId('create-topic').focus({ preventScroll: true });
    },
  };
}
