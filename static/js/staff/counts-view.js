/** The four numbers to glance at: expected, connected, checked in, late. */

import { setText } from '../lib/dom.js';

/** elements: {expected, connected, checkedIn, late} (each holds just the number). */
export function createCountsView(elements) {
  return {
    render(counts) {
      setText(elements.expected, counts.expected ?? 0);
      setText(elements.connected, counts.connected ?? 0);
      setText(elements.checkedIn, counts.checked_in ?? 0);
      setText(elements.late, counts.late ?? 0);
    },
  };
}
