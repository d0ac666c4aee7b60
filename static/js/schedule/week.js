/**
 * The week on show, Monday to Sunday in the viewer's own zone (the browser's), and the sessions of each
 * of its days: no DOM. Local Date arithmetic keeps a day a calendar day across daylight saving, when one
 * day of the week has 23 or 25 hours.
 */

const pad = (n) => String(n).padStart(2, '0');

/** "YYYY-MM-DD" of a local Date. */
export function isoDate(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The local Date of a "YYYY-MM-DD" (its midnight), or null when it is not one. */
export function parseDate(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || '');
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return isoDate(d) === text ? d : null;
}

/** Local midnight of the Monday of the week `ms` falls in. */
export function mondayOf(ms) {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() - ((d.getDay() + 6) % 7));
}

/** The same local midnight `n` days on (or back, when negative). */
export function addDays(d, n) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
}

/** The week that begins on local midnight `monday`: its days, each {start, end} epoch ms, end exclusive. */
export function weekFrom(monday) {
  const days = Array.from({ length: 7 }, (_, i) => ({
    start: addDays(monday, i).getTime(),
    end: addDays(monday, i + 1).getTime(),
  }));
  return { start: days[0].start, end: days[6].end, days };
}

/** The sessions of each day of the week, by their start, in start order. */
export function byDay(week, sessions) {
  const sorted = [...sessions].sort((a, b) => Date.parse(a.starts_at) - Date.parse(b.starts_at));
  return week.days.map((day) =>
    sorted.filter((s) => {
      const at = Date.parse(s.starts_at);
      return at >= day.start && at < day.end;
    }),
  );
}
