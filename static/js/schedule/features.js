/** The platform features a session may require (contract part 2), in words, and how a platform fits: no DOM. */

export const FEATURES = [
  ['screen_share', 'Screen sharing'],
  ['breakout_rooms', 'Breakout rooms'],
  ['recording', 'Recording'],
  ['waiting_room', 'Waiting room'],
  ['dial_in', 'Dial-in by phone'],
  ['polls', 'Polls'],
  ['captions', 'Captions'],
];

const NAMES = Object.fromEntries(FEATURES);

/** One feature in words ("Breakout rooms"); an unknown id as it is. */
export function featureName(id) {
  return NAMES[id] || id;
}

/** "up to 300 people · Screen sharing, Recording" (or "capacity not known", "no listed features"). */
export function platformSummary(platform) {
  const size = platform.capacity == null ? 'capacity not known' : `up to ${platform.capacity.toLocaleString()} people`;
  const features = platform.features.length ? platform.features.map(featureName).join(', ') : 'no listed features';
  return `${size} · ${features}`;
}

/**
 * Why a platform would be refused for what the session needs, in words (empty: it fits). The server
 * decides; this only says it before the admin books.
 */
export function platformMisfit(platform, required, expected) {
  const out = [];
  const missing = required.filter((f) => !platform.features.includes(f));
  if (missing.length) out.push(`lacks ${missing.map(featureName).join(', ')}`);
  if (expected && platform.capacity != null && platform.capacity < expected) {
    out.push(`holds ${platform.capacity.toLocaleString()}, fewer than ${expected.toLocaleString()}`);
  }
  return out;
}
