/** Ping results for staff: the open and recently closed pings with their live tallies. */

const KEEP = 20; // closed results kept on screen; older ones are in the attendance export

export function createResultsState() {
  const byId = new Map(); // insertion order = launch order

  function merge(item) {
    if (!item || !item.ping_id) return;
    const known = byId.get(item.ping_id) ?? {};
    const merged = { ...known };
    for (const [key, value] of Object.entries(item)) {
      if (value !== undefined && !(value === null && key in known)) merged[key] = value;
    }
    byId.set(item.ping_id, merged);
    const closed = [...byId.values()].filter((p) => p.closed);
    for (const old of closed.slice(0, Math.max(0, closed.length - KEEP))) byId.delete(old.ping_id);
  }

  return {
    /** From `session:state`: the open pings with their results. */
    replaceOpen(pings) {
      for (const [id, ping] of byId) if (!ping.closed) byId.delete(id);
      for (const ping of pings ?? []) merge(ping);
    },
    /** A `ping:results` event, a `ping:close` ack's results, or a launch. */
    apply: merge,
    get(pingId) {
      return byId.get(pingId);
    },
    /** Newest first. */
    list() {
      return [...byId.values()].reverse();
    },
  };
}
