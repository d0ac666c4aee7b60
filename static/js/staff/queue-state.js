/** The help queue for staff: waiting and claimed tickets, longest waiting first. */

import { parseTime } from '../lib/format.js';

function byAge(a, b) {
  return (parseTime(a.created_at) ?? 0) - (parseTime(b.created_at) ?? 0);
}

/** The median of numbers, or null for none. */
export function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function createQueueState() {
  let tickets = [];
  let seen = null; // ticket ids already known; null until the first list arrives

  return {
    /** A `help:queue` event or the snapshot's tickets; returns the tickets new since the last list. */
    replace(list) {
      tickets = (list ?? []).filter((t) => t.state === 'waiting' || t.state === 'claimed');
      const fresh = seen === null ? [] : tickets.filter((t) => !seen.has(t.ticket_id));
      seen = new Set([...(seen ?? []), ...tickets.map((t) => t.ticket_id)]);
      return fresh;
    },
    /** Waiting tickets, longest waiting first. */
    waiting: () => tickets.filter((t) => t.state === 'waiting').sort(byAge),
    /** Claimed tickets, oldest first. */
    claimed: () => tickets.filter((t) => t.state === 'claimed').sort(byAge),
    get(ticketId) {
      return tickets.find((t) => t.ticket_id === ticketId);
    },
    /** The median time the waiting tickets have waited so far, in ms (null when none wait). */
    medianWaitMs(now) {
      return median(this.waiting().map((t) => now - (parseTime(t.created_at) ?? now)));
    },
  };
}
