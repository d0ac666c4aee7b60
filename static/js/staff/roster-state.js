/** The roster for staff: every participant with connection and attendance, the counts and the check-in code. */

const STATUSES = ['present', 'late', 'excused', 'absent'];

function countsOf(rows) {
  const counts = { expected: rows.length, connected: 0, checked_in: 0 };
  for (const status of STATUSES) counts[status] = 0;
  for (const row of rows) {
    if (row.connected) counts.connected += 1;
    if (row.checked_in_at) counts.checked_in += 1;
    if (row.status in counts) counts[row.status] += 1;
  }
  return counts;
}

export function createRosterState() {
  const rows = new Map(); // participant_id -> {participant_id, name, email, connected, status, checked_in_at}
  let serverCounts = null;

  return {
    checkin: { code: null, expiresAt: null },

    /** From `session:state`. */
    replace(snapshot) {
      rows.clear();
      for (const row of snapshot.participants ?? []) rows.set(row.participant_id, row);
      serverCounts = snapshot.counts ?? null;
      this.setCode(snapshot);
    },

    /** A `presence` event: changes merge by participant_id; counts and code when present. */
    applyPresence(event) {
      for (const change of event.changes ?? []) {
        rows.set(change.participant_id, { ...rows.get(change.participant_id), ...change });
      }
      if (event.counts) serverCounts = event.counts;
      else serverCounts = null; // recount from the merged rows
      this.setCode(event);
    },

    /** My own `attendance:mark`, once acknowledged. */
    mark(participantId, status) {
      const row = rows.get(participantId);
      if (row) rows.set(participantId, { ...row, status });
      serverCounts = null;
    },

    setCode(source) {
      if (source && 'checkin_code' in source) {
        this.checkin = { code: source.checkin_code ?? null, expiresAt: source.checkin_code_expires_at ?? null };
      }
    },

    /** The counts: the server's when it sent them, otherwise counted here. */
    counts() {
      return serverCounts ?? countsOf([...rows.values()]);
    },

    /** Everyone, in no particular order (staff/roster-order.js orders them). */
    rows() {
      return [...rows.values()];
    },

    get(participantId) {
      return rows.get(participantId);
    },
  };
}
