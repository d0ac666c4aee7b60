/**
 * The one order of people on staff pages (the roster and the attendance sheet): by name, case and
 * accents aside, then by participant_id, as the server lists them. Search, filters and sorts are pure.
 */

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

/** By name (case and accents aside), then by id: the server's roster order. */
export function byName(a, b) {
  return collator.compare(String(a.name ?? ''), String(b.name ?? '')) || String(a.participant_id ?? '').localeCompare(String(b.participant_id ?? ''));
}

// Not checked in first: they are who the instructor looks for; then late, present, excused.
const STATUS_RANK = { absent: 0, late: 1, present: 2, excused: 3 };

export const SORTS = {
  name: { label: 'Name', compare: byName },
  status: {
    label: 'Not checked in first',
    compare: (a, b) => (STATUS_RANK[a.status] ?? 9) - (STATUS_RANK[b.status] ?? 9) || byName(a, b),
  },
  offline: {
    label: 'Offline first',
    compare: (a, b) => Number(Boolean(a.connected)) - Number(Boolean(b.connected)) || byName(a, b),
  },
  checkin: {
    label: 'Check-in time',
    compare: (a, b) => {
      const at = (row) => (row.checked_in_at ? Date.parse(row.checked_in_at) : Infinity);
      return at(a) - at(b) || byName(a, b);
    },
  },
};

export const FILTERS = {
  all: { label: 'Everyone', test: () => true },
  missing: { label: 'Not checked in', test: (row) => !row.checked_in_at && row.status !== 'excused' },
  offline: { label: 'Offline', test: (row) => !row.connected },
  late: { label: 'Late', test: (row) => row.status === 'late' },
};

/** Text folded for search: lower case, no accents. */
export function fold(text) {
  return String(text ?? '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/** Whether a row matches a search: every word of it is in the name or the email. */
export function matches(row, query) {
  const words = fold(query).split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const hay = `${fold(row.name)} ${fold(row.email)}`;
  return words.every((word) => hay.includes(word));
}

/** The rows to show: searched, filtered and sorted (a new array; the input is not touched). */
export function arrange(rows, { query = '', filter = 'all', sort = 'name' } = {}) {
  const keep = (FILTERS[filter] ?? FILTERS.all).test;
  const compare = (SORTS[sort] ?? SORTS.name).compare;
  return rows.filter((row) => keep(row) && matches(row, query)).sort(compare);
}
