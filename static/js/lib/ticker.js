/** One timer for everything that shows a running time (countdowns, waits), once a second. */

const TICK_MS = 1000;

export function createTicker() {
  const listeners = new Set();
  let timer = null;

  function tick() {
    for (const fn of listeners) {
      try {
        fn();
      } catch (err) {
        console.error('companion: a ticking view failed', err);
      }
    }
  }

  return {
    /** Call fn every second from now on; returns a function that stops it. */
    add(fn) {
      listeners.add(fn);
      if (timer === null) timer = setInterval(tick, TICK_MS);
      return () => listeners.delete(fn);
    },
  };
}
