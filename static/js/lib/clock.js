/**
 * The server's clock, so every countdown on every screen says the same thing.
 * Several `clock:sync` round trips; the one with the fastest round trip gives the offset, since its
 * midpoint is the closest to the moment the server read its clock.
 */

const SAMPLES = 5;

export function createClock(call) {
  let offsetMs = 0;
  let bestRoundTripMs = null;

  /** Measure again (on every connect: the network path may have changed). */
  async function sync(samples = SAMPLES) {
    let best = null;
    for (let i = 0; i < samples; i += 1) {
      const t0 = Date.now();
      const ack = await call('clock:sync', { t0 });
      const t1 = Date.now();
      if (!ack.ok || typeof ack.server !== 'number') continue;
      const roundTrip = t1 - t0;
      if (best === null || roundTrip < best.roundTrip) {
        best = { roundTrip, offset: ack.server - (t0 + t1) / 2 };
      }
    }
    if (best !== null) {
      offsetMs = best.offset;
      bestRoundTripMs = best.roundTrip;
    }
    return best !== null;
  }

  return {
    sync,
    /** The server's time now, in epoch ms. */
    now: () => Date.now() + offsetMs,
    get offsetMs() {
      return offsetMs;
    },
    get roundTripMs() {
      return bestRoundTripMs;
    },
  };
}
