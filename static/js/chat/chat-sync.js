/**
 * Keeping the chat whole across reconnects: the outbox is sent once on every (re)connect and whenever a
 * message is written; history is fetched after the last complete seq, page by page while `more`.
 */

// The server lets a participant send 5 messages in 5 seconds; after a refusal, wait that long.
const RATE_LIMIT_WAIT_MS = 5_000;
// Failures that may pass by themselves: the message stays in the outbox and goes on the next try.
const TRANSIENT = new Set(['offline', 'timeout', 'unavailable', 'rate_limited']);
// A bound on history pages per catch-up (500 messages each), so a misbehaving server cannot loop us.
const MAX_HISTORY_PAGES = 100;

export function createChatSync({ call, notices, chat, outbox, render, isConnected, whoAmI }) {
  let flushing = false;
  let retryTimer = null;

  function retryLater() {
    if (retryTimer !== null) return;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      flush();
    }, RATE_LIMIT_WAIT_MS);
  }

  /** Send every queued message once, in order; stop at the first one that must wait. */
  async function flush() {
    if (flushing || !isConnected()) return;
    flushing = true;
    try {
      for (const item of outbox.list()) {
        const ack = await call('chat:send', { client_id: item.client_id, text: item.text });
        if (ack.ok) {
          outbox.remove(item.client_id);
          const me = whoAmI() ?? {};
          chat.put({
            id: ack.id, seq: ack.seq, client_id: item.client_id, text: item.text,
            author: me.name, role: me.role, sent_at: new Date().toISOString(), local: true,
          });
        } else if (TRANSIENT.has(ack.error?.code)) {
          if (ack.error.code === 'rate_limited') retryLater();
          break;
        } else {
          // Refused for good (too long, session closed...): drop it and say so, with its text.
          outbox.remove(item.client_id);
          notices.failed(ack, `Message not sent ("${item.text.slice(0, 40)}")`);
        }
        render();
      }
    } finally {
      flushing = false;
      render();
    }
  }

  /** Fetch everything after the last complete seq. */
  async function catchUp() {
    for (let page = 0; page < MAX_HISTORY_PAGES; page += 1) {
      const after = chat.completeSeq;
      const ack = await call('chat:history', { after_seq: after });
      if (notices.failed(ack, 'Could not load the chat')) return;
      chat.putHistory(Array.isArray(ack.messages) ? ack.messages : [], after);
      render();
      if (!ack.more || chat.completeSeq === after) return;
    }
  }

  return {
    /** Write a message: it goes to the outbox first, then out. */
    send(text) {
      outbox.add(text);
      render();
      flush();
    },
    /** On every (re)connect: send what waited, then fetch what was missed. */
    async onConnect() {
      await flush();
      await catchUp();
    },
  };
}
