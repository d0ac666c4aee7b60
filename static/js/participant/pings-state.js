/**
 * The instructor's open pings for this participant, with my answer to each; and the results the
 * instructor shared (`ping:shared`), which the server does not keep: they last until this page reloads.
 */

const SHARED_KEEP = 5; // shared results on screen; older ones go (they were seen when they came)

export function createPingsState() {
  const open = new Map(); // ping_id -> {ping_id, kind, question, options, closes_at, my_answer}
  const shared = new Map(); // ping_id -> the closed ping's results, in the order shared

  return {
    /** From `session:state`: the open pings now. */
    replaceAll(pings) {
      open.clear();
      for (const ping of pings ?? []) open.set(ping.ping_id, { my_answer: null, ...ping });
    },
    /** A `ping` event. */
    add(ping) {
      const known = open.get(ping.ping_id);
      open.set(ping.ping_id, { my_answer: known?.my_answer ?? null, ...ping });
    },
    /** A `ping:closed` event. */
    close(pingId) {
      open.delete(pingId);
    },
    answered(pingId, answer) {
      const ping = open.get(pingId);
      if (ping) open.set(pingId, { ...ping, my_answer: answer });
    },
    get(pingId) {
      return open.get(pingId);
    },
    /** A `ping:shared` event: sharing again moves the results to the top with the new numbers. */
    share(event) {
      const results = event?.results;
      if (!results || !event.ping_id) return;
      shared.delete(event.ping_id);
      shared.set(event.ping_id, { ...results, ping_id: event.ping_id });
      while (shared.size > SHARED_KEEP) shared.delete(shared.keys().next().value);
    },
    /** The participant put the shared results away. */
    hideShared(pingId) {
      shared.delete(pingId);
    },
    /** Shared results, the latest first. */
    sharedList() {
      return [...shared.values()].reverse();
    },
    /** Open pings, the one closing first on top. */
    list() {
      return [...open.values()].sort((a, b) => String(a.closes_at).localeCompare(String(b.closes_at)));
    },
  };
}
