/**
 * Which rows of a long list to draw: the ones in the scrolled viewport plus a few either side, and the
 * empty space above and below them, for rows of one fixed height. Pure arithmetic, no DOM.
 */

/**
 * count: rows in all; rowHeight, scrollTop, viewportHeight: px; overscan: extra rows either side.
 * Answers {start, end (exclusive), before, after} where before/after are the px of rows not drawn.
 */
export function visibleWindow({ count, rowHeight, scrollTop, viewportHeight, overscan = 8 }) {
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0, before: 0, after: 0 };
  const top = Math.max(0, Math.min(scrollTop, count * rowHeight));
  const first = Math.floor(top / rowHeight);
  const visible = Math.ceil(Math.max(viewportHeight, rowHeight) / rowHeight) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + visible + overscan);
  return { start, end, before: start * rowHeight, after: (count - end) * rowHeight };
}
