/** After close: the saved chat log from the HTTP API, to read or download as text. */

import { h, setText, show } from '../lib/dom.js';
import { parseTime } from '../lib/format.js';
import { saveBlob, sessionPath } from '../lib/api.js';

/** elements: {section, list, state, download} */
export function createChatLog(elements, { api, sessionId, notices }) {
  let messages = [];

  function line(m) {
    const at = parseTime(m.sent_at);
    const when = at === null ? '' : new Date(at).toISOString();
    return `[${when}] ${m.author}${m.role && m.role !== 'participant' ? ` (${m.role})` : ''}: ${m.text}`;
  }

  async function load() {
    show(elements.section, true);
    setText(elements.state, 'Loading the chat log…');
    try {
      const body = await api.getJson(sessionPath(sessionId, '/chat'));
      messages = body.messages ?? [];
      elements.list.replaceChildren(...messages.map((m) => h('li', { text: line(m) })));
      setText(elements.state, `${messages.length} messages.`);
      elements.download.disabled = messages.length === 0;
    } catch (err) {
      setText(elements.state, 'The chat log could not be loaded.');
      notices.error(`Could not load the chat log: ${err.message}`);
    }
  }

  elements.download.addEventListener('click', () => {
    const text = `${messages.map(line).join('\n')}\n`;
    saveBlob(new Blob([text], { type: 'text/plain;charset=utf-8' }), `chat-${sessionId}.txt`);
  });

  return { load };
}
