/** What the invitation panel says, in words: answers, counts, mail states, reminders, readiness. */

export const ANSWER_TEXT = {
  accepted: 'Accepted',
  tentative: 'Maybe',
  declined: 'Declined',
  'needs-action': 'No answer yet',
};

const REMINDER_STATE = {
  pending: 'due',
  sent: 'sent',
  skipped: 'skipped',
  cancelled: 'cancelled',
  failed: 'failed',
};

const NOT_READY = {
  not_invited: 'Not ready: the invitations have not gone out, and the lead time before the start has passed.',
};

const WHEN = new Map();

function dayTime(ms, zone) {
  if (!WHEN.has(zone)) {
    WHEN.set(zone, new Intl.DateTimeFormat(undefined, {
      weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZone: zone,
    }));
  }
  return WHEN.get(zone).format(ms);
}

/**
 * {accepted, tentative, declined, needs_action} over the participants' invitations (the instructor's
 * answer is in the list, not in the counts: the server's `rsvp` counts are the same).
 */
export function answerCounts(invitations) {
  const counts = { accepted: 0, tentative: 0, declined: 0, needs_action: 0 };
  for (const i of invitations) {
    if (i.role === 'instructor') continue;
    const key = i.rsvp === 'needs-action' ? 'needs_action' : i.rsvp;
    if (key in counts) counts[key] += 1;
  }
  return counts;
}

/** "3 accepted · 1 maybe · 0 declined · 5 no answer" (participants). */
export function countsText(c) {
  return `${c.accepted} accepted · ${c.tentative} maybe · ${c.declined} declined · ${c.needs_action} no answer`;
}

/** The state of a person's last invitation mail. */
export function mailText(i) {
  if (i.mail === 'sent') return 'Sent';
  if (i.mail === 'failed') return `Failed: ${i.mail_error || 'the mail server refused it'}`;
  return i.mail_error ? `Retrying (${i.mail_error})` : 'Queued';
}

/** "24h before, Wed 3 Dec, 10:00: sent, to 12 people". */
export function reminderText(r, zone) {
  const state = REMINDER_STATE[r.state] || r.state;
  const sent = r.sent ? `, to ${r.sent === 1 ? 'one person' : `${r.sent} people`}` : '';
  return `${r.offset} before, ${dayTime(Date.parse(r.due_at), zone)}: ${state}${sent}`;
}

/** What keeps the session from being ready, in a sentence; '' when nothing. */
export function notReadyText(problems) {
  return problems.map((p) => NOT_READY[p] || `Not ready: ${p}`).join(' ');
}
