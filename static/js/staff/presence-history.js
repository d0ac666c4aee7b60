/**
 * Presence over the session for staff: each participant's connected intervals and how many were
 * connected after each change. Loaded from `GET /api/sessions/{id}/presence` on every (re)connect, so
 * a reloaded dashboard has the whole class, then extended live from `presence` events. No DOM.
 */

import { parseTime } from '../lib/format.js';

// Samples kept for the chart; beyond this the oldest half is thinned (every other one goes, the first
// stays), so a long class with many reconnects stays cheap to draw.
const MAX_SAMPLES = 4000;

/** One participant's intervals [{joined, left}] (ms; left null while connected) as a line people read. */
export function presenceStory(intervals, timeText) {
  if (!intervals || intervals.length === 0) return 'Not connected yet';
  const parts = [];
  intervals.forEach((span, i) => {
    parts.push(`${i === 0 ? 'Joined' : 'back'} ${timeText(span.joined)}`);
    if (span.left !== null) parts.push(`dropped ${timeText(span.left)}`);
  });
  const last = intervals[intervals.length - 1];
  parts.push(last.left === null ? 'online now' : 'offline now');
  return parts.join(' · ');
}

/** The time connected in all, in ms, up to `now`. */
export function connectedMs(intervals, now) {
  return (intervals ?? []).reduce((sum, span) => sum + Math.max(0, (span.left ?? now) - span.joined), 0);
}

export function createPresenceHistory() {
  const people = new Map(); // participant_id -> [{joined, left}] in ms
  let samples = []; // [{t, connected}] in ms, oldest first
  let loaded = false; // the server's history arrived at least once

  function record(t, connected) {
    const last = samples[samples.length - 1];
    if (last && last.connected === connected) return;
    if (last && t < last.t) t = last.t; // a late event never draws backwards
    samples.push({ t, connected });
    if (samples.length > MAX_SAMPLES) {
      const half = Math.floor(samples.length / 2);
      samples = [samples[0], ...samples.slice(1, half).filter((_, i) => i % 2 === 1), ...samples.slice(half)];
    }
  }

  function mark(participantId, connected, t) {
    const spans = people.get(participantId) ?? [];
    const last = spans[spans.length - 1];
    if (connected && (!last || last.left !== null)) spans.push({ joined: t, left: null });
    else if (!connected && last && last.left === null) last.left = Math.max(t, last.joined);
    people.set(participantId, spans);
  }

  return {
    get loaded() {
      return loaded;
    },

    /**
     * The server's answer. `rows`: the roster as it is now (events that crossed the request are
     * reconciled from it at `now`); `connected`: the connected count now.
     */
    replace(timeline, { rows = [], connected = null, now }) {
      people.clear();
      for (const person of timeline?.participants ?? []) {
        const spans = (person.intervals ?? [])
          .map((span) => ({ joined: parseTime(span.joined), left: parseTime(span.left) }))
          .filter((span) => span.joined !== null);
        people.set(person.participant_id, spans);
      }
      samples = [];
      const server = (timeline?.samples ?? [])
        .map((s) => ({ t: parseTime(s.at), connected: s.connected }))
        .filter((s) => s.t !== null && typeof s.connected === 'number');
      // The server ends its list at its now: keep that point even when the count did not change.
      server.forEach((s, i) => {
        if (i === server.length - 1 && samples.length && samples[samples.length - 1].connected === s.connected) {
          samples.push(s);
        } else {
          record(s.t, s.connected);
        }
      });
      for (const row of rows) mark(row.participant_id, Boolean(row.connected), now);
      if (connected !== null) record(now, connected);
      loaded = true;
    },

    /** A `presence` event at `now`: who connected or left, and the connected count after it. */
    apply(changes, connected, now) {
      for (const change of changes ?? []) {
        if ('connected' in change) mark(change.participant_id, Boolean(change.connected), now);
      }
      if (typeof connected === 'number') record(now, connected);
    },

    intervals(participantId) {
      return people.get(participantId) ?? [];
    },

    samples() {
      return samples;
    },
  };
}
