/** Attendance statuses in words. Before and during the class nobody is "absent" yet: they have not checked in. */

const STATUS_TEXT = { present: 'Present', late: 'Late', excused: 'Excused', absent: 'Absent' };
const NOT_YET = 'Not checked in';

/** The status as a label ("Present", "Not checked in"); `sessionStatus` decides how `absent` reads. */
export function statusText(status, sessionStatus) {
  if (status === 'absent' && sessionStatus !== 'closed') return NOT_YET;
  return STATUS_TEXT[status] ?? String(status ?? '');
}

/** The label of the `absent` count for this moment of the session. */
export function absentLabel(sessionStatus) {
  return sessionStatus === 'closed' ? 'Absent' : NOT_YET;
}

/** The statuses staff can set, as [value, label] for a select (a mark is explicit: "Absent" means absent). */
export function markChoices() {
  return Object.entries(STATUS_TEXT);
}
