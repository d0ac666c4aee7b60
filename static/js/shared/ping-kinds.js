/** What each kind of ping is called, which answers it takes, and how an answer reads. */

export const KIND_TEXT = {
  poll: 'Poll',
  pulse: 'Quick check',
  rating: 'Rating',
  text: 'Question',
  attention: 'Attention check',
};

export const PULSE_TEXT = { ok: 'I’m following', lost: 'I’m lost' };
export const RATINGS = [1, 2, 3, 4, 5];

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
      return [[true, 'I’m here']];
    default:
      return [];
  }
}

/** An answer in words ("Your answer: ..."). */
export function answerText(ping, answer) {
  if (answer === null || answer === undefined) return '';
  switch (ping.kind) {
    case 'poll':
      return ping.options?.[answer] ?? String(answer);
    case 'pulse':
      return answer === 'ok' ? 'following' : 'lost';
    case 'rating':
      return `${answer} out of 5`;
    case 'attention':
      return 'here';
    default:
      return String(answer);
  }
}
