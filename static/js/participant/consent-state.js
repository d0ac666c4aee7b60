/**
 * Recording consent as this tab knows it: the open request (or none), my answer to it, and whether
 * the session is being recorded. Fed by `session:state`, `consent` and `recording`.
 */

export function createConsentState() {
  let request = null; // {request_id, purpose, text, requested_at}
  let mine = null; // true, false, or null (not answered)
  let recording = false;

  return {
    get request() { return request; },
    get mine() { return mine; },
    get recording() { return recording; },

    /** From `session:state`: `consent` (with `mine`) or null, and `recording`. */
    applySnapshot(snapshot) {
      const open = snapshot.consent ?? null;
      request = open ? { ...open } : null;
      mine = open && typeof open.mine === 'boolean' ? open.mine : null;
      recording = snapshot.recording === true;
    },

    /** A `consent` event: a new request (mine unknown), or my own answer from another tab (`mine`). */
    applyRequest(event) {
      const same = request && request.request_id === event.request_id;
      request = { ...event };
      if (typeof event.mine === 'boolean') mine = event.mine;
      else if (!same) mine = null;
    },

    answered(requestId, consent) {
      if (request && request.request_id === requestId) mine = consent;
    },

    setRecording(on) { recording = on === true; },

    /** The session closed: the request ends with it, and so does the recording. */
    end() {
      request = null;
      mine = null;
      recording = false;
    },
  };
}
