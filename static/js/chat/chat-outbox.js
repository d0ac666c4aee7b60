/**
 * Messages written but not yet acknowledged, kept in localStorage so a reload or a dropped connection
 * does not lose them. Each has a client_id: sending it again never makes a second message.
 */

import { lasting, tagOf } from '../lib/storage.js';

/** A random UUID; crypto.randomUUID exists only on https and localhost, so fall back to getRandomValues. */
export function newClientId() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Keyed by session, and by a tag of the token so two people sharing a browser never mix outboxes. */
export function createOutbox(sessionId, token) {
  const key = `companion:outbox:${sessionId}:${token ? tagOf(token) : 'signed-in'}`;
  let items = lasting.getJson(key, []);
  if (!Array.isArray(items)) items = [];

  function save() {
    if (items.length === 0) lasting.remove(key);
    else lasting.setJson(key, items);
  }

  return {
    /** Queue a message; returns the queued item. */
    add(text) {
      const item = { client_id: newClientId(), text, written_at: new Date().toISOString() };
      items = [...items, item];
      save();
      return item;
    },
    remove(clientId) {
      items = items.filter((item) => item.client_id !== clientId);
      save();
    },
    /** Queued messages, oldest first. */
    list: () => items,
  };
}
