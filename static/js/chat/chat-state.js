/**
 * The chat as this page knows it: messages by id (dedupe), kept in seq order, and the seq up to which
 * nothing is missing (what a reconnect asks history after).
 */

function bySeq(a, b) {
  return a.seq - b.seq;
}

export function createChatState() {
  const byId = new Map();
  const seqs = new Set();
  let ordered = [];
  let complete = 0; // every message with seq <= complete is here

  function advance() {
    while (seqs.has(complete + 1)) complete += 1;
  }

  /**
   * Add one message; returns true when it is new. A message made locally from my own send's ack
   * (`local: true`) gives way to the server's `chat` event for the same id, never the other way.
   */
  function put(message) {
    if (!message || typeof message.id !== 'string' || typeof message.seq !== 'number') return false;
    const known = byId.get(message.id);
    if (known) {
      if (known.local && !message.local) {
        byId.set(message.id, message);
        ordered[ordered.indexOf(known)] = message;
      }
      return false;
    }
    byId.set(message.id, message);
    seqs.add(message.seq);
    const last = ordered[ordered.length - 1];
    ordered.push(message);
    if (last && last.seq > message.seq) ordered.sort(bySeq);
    advance();
    return true;
  }

  return {
    put,
    /** A page of `chat:history`: it holds everything after the seq it was asked for. */
    putHistory(messages, afterSeq) {
      let added = 0;
      for (const message of messages) if (put(message)) added += 1;
      const top = messages.reduce((max, m) => Math.max(max, m.seq), afterSeq);
      if (afterSeq <= complete) complete = Math.max(complete, top);
      advance();
      return added;
    },
    /** Messages in seq order. */
    messages: () => ordered,
    /** The seq to ask history after on a reconnect. */
    get completeSeq() {
      return complete;
    },
  };
}
