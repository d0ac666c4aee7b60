/** The session as this page knows it: the session object, who I am, and the video platform's status. */

const PLATFORM_OK = Object.freeze({ status: 'ok', message: '' });

function platformOf(value) {
  if (!value || typeof value !== 'object') return PLATFORM_OK;
  return { status: value.status || 'ok', message: value.message || '' };
}

export function createSessionState() {
  return {
    session: null,
    me: null,
    platform: PLATFORM_OK,

    /** A `session:state` snapshot replaces what we knew. */
    applySnapshot(snapshot) {
      if (snapshot.session) this.session = snapshot.session;
      if (snapshot.me) this.me = snapshot.me;
      this.platform = platformOf(snapshot.platform ?? snapshot.session?.platform_status);
    },

    /** A `session` event, or the `session` of an ack (start, delay, close). */
    applySession(payload) {
      // The event is the session itself; accept a wrapped {session} too.
      const session = payload && payload.session && !payload.status ? payload.session : payload;
      if (session && typeof session === 'object') this.session = session;
    },

    applyPlatform(payload) {
      this.platform = platformOf(payload);
    },

    /** My own check-in, from its ack. */
    applyCheckin(ack) {
      this.me = { ...this.me, status: ack.status, checked_in_at: ack.at };
    },

    get status() {
      return this.session?.status ?? null;
    },
    get isClosed() {
      return this.session?.status === 'closed';
    },
  };
}
