/** Times and durations as people read them. */

/** Epoch ms of an RFC 3339 string, or null. */
export function parseTime(iso) {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

/** "14:05" in the reader's own time zone. */
export function clockTime(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** "Tue 3 Jun, 14:05". */
export function dateTime(ms) {
  return new Date(ms).toLocaleString([], {
    weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit',
  });
}

const pad = (n) => String(n).padStart(2, '0');

/** A countdown: "4:05" or "1:02:03" (never negative). */
export function countdown(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  return hours > 0 ? `${hours}:${pad(minutes)}:${pad(seconds)}` : `${minutes}:${pad(seconds)}`;
}

/** A duration in words: "45 s", "3 min 07 s", "1 h 05 min". */
export function duration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes} min ${pad(total % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${pad(minutes % 60)} min`;
}

/** Whole minutes in words: "1 minute", "5 minutes". */
export function minutes(n) {
  return `${n} minute${n === 1 ? '' : 's'}`;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Calendar days from `now` to `target` in the reader's time zone (0 today, 1 tomorrow). */
export function calendarDaysBetween(now, target) {
  const midnight = (ms) => {
    const d = new Date(ms);
    return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  };
  return Math.round((midnight(target) - midnight(now)) / DAY_MS);
}

/**
 * How long until `target`: a running "4:05" or "3:02:01" within a day, otherwise a date people read
 * ("in 7 days, Tue 9 Dec, 10:00"; "tomorrow, Wed 3 Dec, 10:00"), never "175:43:31".
 */
export function startsIn(target, now) {
  const left = target - now;
  if (left < DAY_MS) return countdown(left);
  const days = calendarDaysBetween(now, target);
  const when = dateTime(target);
  return days <= 1 ? `tomorrow, ${when}` : `in ${days} days, ${when}`;
}

/** A number of minutes (5.51) as minutes and seconds: "5 min 31 s"; an hour or more as "1 h 05 min". */
export function minutesSeconds(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
  return duration(Math.round(value * 60) * 1000);
}

/** A file's size for people: bytes, KB or MB (one decimal); empty when unknown. */
export function sizeText(bytes) {
  if (bytes == null) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
