/** Session times as people read them, in a named zone (the viewer's unless told): no DOM. */

const formats = new Map();

function format(zone, options) {
  const key = `${zone}|${JSON.stringify(options)}`;
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(undefined, { timeZone: zone, ...options });
    formats.set(key, f);
  }
  return f;
}

const CLOCK = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
const DAY = { weekday: 'short', day: 'numeric', month: 'short' };

/** "14:05" in `zone`. */
export function clockIn(ms, zone) {
  return format(zone, CLOCK).format(ms);
}

/** "Tue 6 Jul" in `zone`. */
export function dayIn(ms, zone) {
  return format(zone, DAY).format(ms);
}

/** "Tue 6 Jul 2027" in `zone`. */
export function dateIn(ms, zone) {
  return format(zone, { ...DAY, year: 'numeric' }).format(ms);
}

/** "Tue 6 Jul, 14:05" in `zone`. */
export function dayTimeIn(ms, zone) {
  return `${dayIn(ms, zone)}, ${clockIn(ms, zone)}`;
}

/** "10:00–11:00", or "23:00–Wed 00:30" when it ends on another day, in `zone`. */
export function spanIn(startMs, endMs, zone) {
  const sameDay = dayIn(startMs, zone) === dayIn(endMs, zone);
  return `${clockIn(startMs, zone)}–${sameDay ? '' : `${dayIn(endMs, zone)} `}${clockIn(endMs, zone)}`;
}

/** The session's start and end, epoch ms. */
export function sessionSpan(session) {
  const start = Date.parse(session.starts_at);
  return { start, end: start + session.duration_minutes * 60_000 };
}

/** "Tue 6 Jul 2027, 10:00–11:00" of a session in `zone`. */
export function sessionWhen(session, zone) {
  const { start, end } = sessionSpan(session);
  return `${dateIn(start, zone)}, ${spanIn(start, end, zone)}`;
}

/** "1 participant", "12 participants". */
export function people(n) {
  return `${n} participant${n === 1 ? '' : 's'}`;
}

const STATUS = { scheduled: 'Scheduled', live: 'Live now', closed: 'Ended', cancelled: 'Cancelled' };

/** A session's status in words. */
export function statusText(status) {
  return STATUS[status] || status;
}
