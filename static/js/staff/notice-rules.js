/**
 * When something new deserves the instructor's eye mid-lecture, and what the notice says. Pure: the
 * page hands in what it knows and shows what comes back (lib/toasts.js), so every rule is testable.
 */

import { fold } from './roster-order.js';

// A pulse deserves a notice once this share of the answers so far says "lost", and only with enough
// answers for the share to mean something (one lost person of two is not a trend).
export const LOST_SHARE = 0.3;
export const LOST_MIN_ANSWERS = 3;
// Words that address the instructor in chat besides their own name.
const ROLE_WORDS = ['instructor', 'teacher', 'professor', 'prof'];

/** Notices for help requests new since the last list: one per request, or one for a burst. */
export function helpNotices(fresh) {
  if (!fresh || fresh.length === 0) return [];
  if (fresh.length > 3) return [{ kind: 'help', text: `${fresh.length} new help requests` }];
  return fresh.map((t) => ({
    kind: 'help', key: `help:${t.ticket_id}`, text: `Help request from ${t.name || 'a participant'}${t.category ? ` (${t.category})` : ''}`,
  }));
}

/** A pulse's "lost" share in words once it crosses the threshold; null otherwise or when already told. */
export function lostNotice(result, alreadyTold) {
  if (!result || result.kind !== 'pulse' || result.closed || !result.tally) return null;
  if (alreadyTold.has(result.ping_id)) return null;
  const lost = result.tally.lost ?? 0;
  const answered = (result.tally.ok ?? 0) + lost;
  if (answered < LOST_MIN_ANSWERS || lost / answered < LOST_SHARE) return null;
  return { kind: 'lost', key: `lost:${result.ping_id}`, text: `${lost} of ${answered} are lost: ${result.question ?? 'pulse check'}` };
}

function wordsOf(text) {
  return fold(text).split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

/** Whether a chat message from someone else addresses me: my name, my first name or "@instructor". */
export function mentionsMe(message, me) {
  if (!message || !me || !message.text) return false;
  if (message.author === me.name && message.role === me.role) return false;
  const words = wordsOf(message.text);
  const name = wordsOf(me.name);
  const first = name[0];
  const joined = ` ${words.join(' ')} `;
  if (name.length > 0 && joined.includes(` ${name.join(' ')} `)) return true;
  if (first && first.length > 1 && words.includes(first)) return true;
  return ROLE_WORDS.some((word) => words.includes(word));
}

export function mentionNotice(message) {
  const text = message.text.length > 80 ? `${message.text.slice(0, 79)}…` : message.text;
  return { kind: 'mention', key: `chat:${message.id}`, text: `${message.author || 'Someone'} in chat: ${text}` };
}

/**
 * The people a `presence` batch shows dropping out of a live class (connected before, not now).
 * before(id) answers the row as it was before the batch.
 */
export function droppedOut(changes, before, sessionStatus) {
  if (sessionStatus !== 'live') return [];
  return (changes ?? []).filter((c) => c.connected === false && before(c.participant_id)?.connected === true);
}

export function dropNotice(people) {
  if (people.length === 0) return null;
  const text = people.length === 1
    ? `${people[0].name || 'A participant'} dropped out`
    : `${people.length} participants dropped out`;
  return { kind: 'drop', text };
}

/** "(3) Title" for unseen items, the bare title for none. */
export function titleWithCount(title, count) {
  const bare = String(title).replace(/^\(\d+\) /, '');
  return count > 0 ? `(${count}) ${bare}` : bare;
}
