/** The numbers to glance at: expected, connected, checked in, late, not checked in (absent after close). */

import { setText } from '../lib/dom.js';
import { absentLabel } from '../shared/attendance.js';

/** elements: {expected, connected, checkedIn, late, absent, absentLabel} (each number element holds just the number). */
export function createCountsView(elements) {
  return {
    render(counts, sessionStatus) {
      setText(elements.expected, counts.expected ?? 0);
      setText(elements.connected, counts.connected ?? 0);
      setText(elements.checkedIn, counts.checked_in ?? 0);
      setText(elements.late, counts.late ?? 0);
      if (elements.absent) setText(elements.absent, counts.absent ?? 0);
      if (elements.absentLabel) setText(elements.absentLabel, absentLabel(sessionStatus));
    },
  };
}
