/** The chat panel every page has: state, outbox, view and sync put together on the page's #chat-… elements. */

import { byId } from '../lib/dom.js';
import { createChatState } from './chat-state.js';
import { createOutbox } from './chat-outbox.js';
import { createChatView } from './chat-view.js';
import { createChatSync } from './chat-sync.js';

/** onRender(): after every redraw of the log (new messages, history caught up), for a page's own summary. */
export function createChatPanel({ sessionId, token, call, notices, isConnected, whoAmI, onRender = () => {} }) {
  const state = createChatState();
  const outbox = createOutbox(sessionId, token);
  let sync = null;
  const view = createChatView(
    {
      log: byId('chat-log'),
      empty: byId('chat-empty'),
      form: byId('chat-form'),
      input: byId('chat-input'),
      closedNote: byId('chat-closed'),
    },
    { chat: state, outbox, whoAmI, onSend: (text) => sync.send(text) },
  );
  const render = () => {
    view.render();
    onRender();
  };
  sync = createChatSync({ call, notices, chat: state, outbox, render, isConnected, whoAmI });
  view.render();
  return {
    /** A `chat` event. */
    put: (message) => state.put(message),
    render,
    setClosed: view.setClosed,
    /** Send the outbox, then fetch what was missed. */
    onConnect: sync.onConnect,
  };
}
