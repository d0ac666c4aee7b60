/** The instructor's open pings for this participant, with my answer to each. */

export function createPingsState() {
  const open = new Map(); // ping_id -> {ping_id, kind, question, options, closes_at, my_answer}

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
    /** Open pings, the one closing first on top. */
    list() {
      return [...open.values()].sort((a, b) => String(a.closes_at).localeCompare(String(b.closes_at)));
    },
  };
}
