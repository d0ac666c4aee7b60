/**
 * Wall-clock times in IANA time zones, through Intl only (no DOM): the offset a zone has at an instant,
 * the instant a local date and time in a zone names (daylight saving included), and the wall time of an
 * instant there.
 */

/** The viewer's own zone, as the browser knows it ("Europe/Berlin"). */
export function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Zones offered in the pickers before anyone types one: where classes are commonly held. */
export const COMMON_ZONES = [
  'UTC',
  'Europe/London', 'Europe/Dublin', 'Europe/Lisbon', 'Europe/Paris', 'Europe/Berlin', 'Europe/Madrid',
  'Europe/Rome', 'Europe/Amsterdam', 'Europe/Stockholm', 'Europe/Warsaw', 'Europe/Athens', 'Europe/Helsinki',
  'Europe/Istanbul', 'Europe/Moscow',
  'Africa/Lagos', 'Africa/Cairo', 'Africa/Nairobi', 'Africa/Johannesburg',
  'Asia/Dubai', 'Asia/Karachi', 'Asia/Kolkata', 'Asia/Dhaka', 'Asia/Bangkok', 'Asia/Singapore',
  'Asia/Shanghai', 'Asia/Hong_Kong', 'Asia/Tokyo', 'Asia/Seoul',
  'Australia/Perth', 'Australia/Sydney', 'Pacific/Auckland',
  'America/Sao_Paulo', 'America/Argentina/Buenos_Aires', 'America/Bogota', 'America/Mexico_City',
  'America/New_York', 'America/Toronto', 'America/Chicago', 'America/Denver', 'America/Phoenix',
  'America/Los_Angeles', 'America/Anchorage', 'Pacific/Honolulu',
];

const offsetFormats = new Map();
const wallFormats = new Map();

function cached(cache, zone, options) {
  let format = cache.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, ...options });
    cache.set(zone, format);
  }
  return format;
}

/** True when the browser knows the zone (the server still has the last word). */
export function isZone(zone) {
  try {
    cached(offsetFormats, zone, { timeZoneName: 'longOffset' });
    return true;
  } catch (err) {
    if (err instanceof RangeError) return false;
    throw err;
  }
}

/** Minutes east of UTC the zone's clocks are at the instant `ms` ("GMT+05:30" is 330, "GMT" 0). */
export function offsetMinutes(zone, ms) {
  const parts = cached(offsetFormats, zone, { timeZoneName: 'longOffset' }).formatToParts(new Date(ms));
  const name = parts.find((p) => p.type === 'timeZoneName')?.value || 'GMT';
  const m = /^GMT(?:([+-])(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?)?$/.exec(name);
  if (!m) throw new Error(`companion: unexpected offset ${name} for ${zone}`);
  if (!m[1]) return 0;
  // Historical local mean times have seconds (+00:53:28); minutes are what RFC 3339 offsets carry.
  const minutes = Number(m[2]) * 60 + Number(m[3] || 0) + Math.round(Number(m[4] || 0) / 60);
  return m[1] === '-' ? -minutes : minutes;
}

const pad = (n, width = 2) => String(n).padStart(width, '0');

/** "+02:00", "-04:30", "+00:00". */
export function offsetText(minutes) {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The wall clock in `zone` at the instant `ms`: {date: "YYYY-MM-DD", time: "HH:MM", weekday: 0 (Monday)..6}. */
export function wallTime(ms, zone) {
  const shifted = new Date(ms + offsetMinutes(zone, ms) * 60_000);
  return {
    date: `${pad(shifted.getUTCFullYear(), 4)}-${pad(shifted.getUTCMonth() + 1)}-${pad(shifted.getUTCDate())}`,
    time: `${pad(shifted.getUTCHours())}:${pad(shifted.getUTCMinutes())}`,
    weekday: (shifted.getUTCDay() + 6) % 7,
  };
}

/** 0 (Monday) .. 6 (Sunday) of a "YYYY-MM-DD" date, wherever it is. */
export function weekdayOf(date) {
  const [y, m, d] = date.split('-').map(Number);
  return (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7;
}

/**
 * The instant that the local `date` ("YYYY-MM-DD") and `time` ("HH:MM") name in `zone`, read as
 * RFC 5545 and the server read them: a time the clocks skip (02:30 on the night they go forward)
 * takes the offset before the gap, so it is the instant 03:30 summer time names; a time that happens
 * twice (the night they go back) is its first occurrence. Answers {ms, iso, shifted}: `iso` is RFC
 * 3339 with the zone's offset at that instant ("2027-07-06T10:00:00+02:00"); `shifted` is the wall
 * time the clocks really show then, when a skipped time was moved ("03:30"), else null.
 */
export function instantOf(date, time, zone) {
  const dm = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const tm = /^(\d{2}):(\d{2})$/.exec(time);
  if (!dm || !tm) throw new RangeError(`not a date and time: ${date} ${time}`);
  const asUtc = Date.UTC(Number(dm[1]), Number(dm[2]) - 1, Number(dm[3]), Number(tm[1]), Number(tm[2]));
  // The offsets in force a day either side: a zone changes its offset at most once in a day.
  const before = offsetMinutes(zone, asUtc - 86_400_000);
  const after = offsetMinutes(zone, asUtc + 86_400_000);
  const fits = [...new Set([before, after])]
    .map((offset) => asUtc - offset * 60_000)
    .filter((ms) => wallTime(ms, zone).time === time && wallTime(ms, zone).date === date)
    .sort((a, b) => a - b);
  const ms = fits.length ? fits[0] : asUtc - before * 60_000; // none fits: a skipped time, the offset before the gap
  const wall = wallTime(ms, zone);
  return {
    ms,
    iso: `${wall.date}T${wall.time}:00${offsetText(offsetMinutes(zone, ms))}`,
    shifted: fits.length ? null : wall.time,
  };
}
