/** The session's heading: topic, status, planned time, join link and agenda. */

import { h, setText, show } from '../lib/dom.js';
import { dateTime, parseTime } from '../lib/format.js';

const STATUS_TEXT = { scheduled: 'Not started yet', live: 'Live', closed: 'Ended' };

/** Only web links are followed: a join link is data from the server, never a javascript: URL. */
function safeHttpUrl(value) {
  if (typeof value !== 'string' || value === '') return null;
  try {
    const url = new URL(value, window.location.href);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch (err) {
    console.warn('companion: join_url is not a URL', value, err);
    return null;
  }
}

/** One agenda entry in words: a string, or an object such as {time, title, minutes}. */
function agendaText(item) {
  if (item === null || item === undefined) return '';
  if (typeof item !== 'object') return String(item);
  const time = item.time ?? item.at ?? item.start ?? '';
  const title = item.title ?? item.item ?? item.topic ?? item.name ?? '';
  const length = item.minutes ?? item.duration_minutes ?? item.duration;
  const parts = [time, title].filter(Boolean).join(' – ');
  const main = parts || Object.values(item).filter((v) => typeof v !== 'object').join(' · ');
  return length ? `${main} (${length} min)` : main;
}

/** The agenda as a list of lines, whatever shape the server stored it in. */
export function agendaLines(agenda) {
  if (agenda === null || agenda === undefined || agenda === '') return [];
  if (Array.isArray(agenda)) return agenda.map(agendaText).filter(Boolean);
  if (typeof agenda === 'object') {
    if (Array.isArray(agenda.items)) return agendaLines(agenda.items);
    return Object.entries(agenda).map(([k, v]) => `${k}: ${agendaText(v)}`);
  }
  return String(agenda).split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
}

/**
 * elements: {topic, status, schedule, joinLink?, agendaSection?, agendaList?}
 */
export function createSessionView(elements) {
  function render(session) {
    if (!session) return;
    setText(elements.topic, session.topic || 'Session');
    document.title = `${session.topic || 'Session'} · Companion`;

    setText(elements.status, STATUS_TEXT[session.status] ?? session.status);
    elements.status.dataset.status = session.status;

    const starts = parseTime(session.starts_at);
    const parts = [];
    if (starts !== null) parts.push(`Planned for ${dateTime(starts)}`);
    if (session.duration_minutes) parts.push(`${session.duration_minutes} min`);
    if (session.platform) parts.push(`on ${session.platform}`);
    setText(elements.schedule, parts.join(' · '));

    if (elements.joinLink) {
      const href = safeHttpUrl(session.join_url);
      show(elements.joinLink, href !== null && session.status !== 'closed');
      if (href !== null) {
        elements.joinLink.href = href;
        setText(elements.joinLink, session.platform ? `Join the class on ${session.platform}` : 'Join the class');
      }
    }

    if (elements.agendaList) {
      const lines = agendaLines(session.agenda);
      show(elements.agendaSection, lines.length > 0);
      elements.agendaList.replaceChildren(...lines.map((line) => h('li', { text: line })));
    }
  }

  return { render };
}
