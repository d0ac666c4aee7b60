/**
 * Ready-made pings to launch in two clicks mid-lecture, and the last few the instructor wrote
 * (remembered in this browser). Pure apart from the storage passed in.
 */

import { DEFAULT_QUESTION, kindText } from '../shared/ping-kinds.js';

const RECENT_KEY = 'companion:dashboard:recent-pings';
const RECENT_MAX = 5; // a short list to pick from, not an archive

export const BUILT_IN = [
  { id: 'pulse', kind: 'pulse', question: DEFAULT_QUESTION.pulse },
  { id: 'attention', kind: 'attention', question: DEFAULT_QUESTION.attention },
  { id: 'rating', kind: 'rating', question: DEFAULT_QUESTION.rating },
  { id: 'yes-no', kind: 'poll', question: 'Shall we move on?', options: ['Yes', 'Not yet'] },
  { id: 'questions', kind: 'text', question: 'What is still unclear?' },
];

/** A template in words for the select: "Are you following so far? (Pulse check)". */
export function templateText(template) {
  return `${template.question} (${kindText(template.kind)})`;
}

function same(a, b) {
  return a.kind === b.kind && a.question === b.question && JSON.stringify(a.options ?? null) === JSON.stringify(b.options ?? null);
}

/** The recent list with `ping` first (no duplicates, not the built-in ones, at most RECENT_MAX). */
export function withRecent(recent, ping) {
  const entry = { kind: ping.kind, question: ping.question, options: ping.options ?? null };
  if (BUILT_IN.some((t) => same(t, entry))) return recent;
  return [entry, ...recent.filter((t) => !same(t, entry))].slice(0, RECENT_MAX);
}

/** recent pings kept in `store` (lib/storage.js `lasting`). */
export function createRecentPings(store) {
  const valid = (t) => t && typeof t.kind === 'string' && typeof t.question === 'string';
  let recent = (store.getJson(RECENT_KEY, []) || []).filter(valid).slice(0, RECENT_MAX);
  return {
    list: () => recent.map((t, i) => ({ ...t, id: `recent-${i}` })),
    add(ping) {
      recent = withRecent(recent, ping);
      store.setJson(RECENT_KEY, recent);
    },
  };
}
