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
