/**
 * What each kind of ping is called, which answers it takes, and how an answer reads. One label per kind
 * everywhere: the launch form, the staff card and the participant's card all use KIND_TEXT.
 */

export const KINDS = ['poll', 'pulse', 'rating', 'text', 'attention'];

export const KIND_TEXT = {
  poll: 'Poll',
  pulse: 'Pulse check',
  rating: 'Rating',
  text: 'Open question',
  attention: 'Attention check',
};

/** What the participant does, said once next to the kind (launch form hint). */
export const KIND_HINT = {
  poll: 'Participants choose one of your options.',
  pulse: 'Participants answer “I’m following” or “I’m lost”.',
  rating: 'Participants rate from 1 (low) to 5 (high).',
  text: 'Participants write a short answer.',
  attention: 'Participants tap “I’m here”.',
};

/** The prompt used when the instructor leaves the question empty (a poll and an open question need one). */
export const DEFAULT_QUESTION = {
  poll: '',
  pulse: 'Are you following so far?',
  rating: 'How clear was this part?',
  text: '',
  attention: 'Still with us? Tap “I’m here”.',
};

export const PULSE_TEXT = { ok: 'I’m following', lost: 'I’m lost' };
export const HERE_TEXT = 'I’m here';
export const RATINGS = [1, 2, 3, 4, 5];

/** The kind in words; an unknown kind as it came. */
export function kindText(kind) {
  return KIND_TEXT[kind] ?? String(kind ?? '');
}

/** The fixed answer buttons of a kind as [answer, label] pairs (text pings have a field instead). */
export function answerChoices(ping) {
  switch (ping.kind) {
    case 'poll':
      return (ping.options ?? []).map((option, index) => [index, option]);
    case 'pulse':
      return Object.entries(PULSE_TEXT);
    case 'rating':
      return RATINGS.map((n) => [n, String(n)]);
    case 'attention':
      return [[true, HERE_TEXT]];
    default:
      return [];
  }
}

/** An answer in words ("Your answer: ..."), in the words of the button that gave it. */
export function answerText(ping, answer) {
  if (answer === null || answer === undefined) return '';
  switch (ping.kind) {
    case 'poll':
      return ping.options?.[answer] ?? String(answer);
    case 'pulse':
      return PULSE_TEXT[answer] ?? String(answer);
    case 'rating':
      return `${answer} out of 5`;
    case 'attention':
      return HERE_TEXT;
    default:
      return String(answer);
  }
}
