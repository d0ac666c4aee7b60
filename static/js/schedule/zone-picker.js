/**
 * A time-zone select: the viewer's zone first, then the common IANA zones, then "Other…", which shows a
 * text field for any IANA name (the browser checks it is one it knows, the server checks again).
 */

import { h } from '../lib/dom.js';
import { COMMON_ZONES, browserZone, isZone } from './zones.js';

const OTHER = '';

/** Fill `select` (and wire `other`, the text field) with the zones; the viewer's is chosen. */
export function setUpZonePicker(select, other, onChange) {
  const mine = browserZone();
  const zones = [mine, ...COMMON_ZONES.filter((z) => z !== mine)];
  select.replaceChildren(
    ...zones.map((z) => h('option', { value: z, text: z === mine ? `${z} (your time zone)` : z })),
    h('option', { value: OTHER, text: 'Other…' }),
  );
  select.value = mine;
  const sync = () => {
    other.closest('.field').hidden = select.value !== OTHER;
    other.required = select.value === OTHER;
    onChange();
  };
  select.addEventListener('change', sync);
  other.addEventListener('input', onChange);
  sync();
}

/** The zone chosen: {zone} or {problem} in words when "Other…" holds no zone the browser knows. */
export function chosenZone(select, other) {
  if (select.value !== OTHER) return { zone: select.value };
  const zone = other.value.trim();
  if (!zone) return { problem: 'Time zone: type an IANA name such as Europe/Berlin.' };
  if (!isZone(zone)) return { problem: `Time zone: "${zone}" is not a time zone this browser knows (an IANA name such as Europe/Berlin).` };
  return { zone };
}

/** Choose `zone` in the picker (in the list, or as "Other…" with its name typed). */
export function chooseZone(select, other, zone) {
  const listed = [...select.options].some((o) => o.value === zone);
  select.value = listed ? zone : OTHER;
  other.value = listed ? '' : zone;
  select.dispatchEvent(new Event('change'));
}
