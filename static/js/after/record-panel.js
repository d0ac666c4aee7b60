/**
 * The session record on the dashboard: made at close, in versions (a later change, such as feedback
 * arriving, makes a new one; the earlier ones are kept). Each version downloads as one zip; every
 * download is audited by the server. `request(method, path)` answers the JSON; `download(path, name)`
 * fetches a file with the page's credential and saves it.
 */

import { h, setText } from '../lib/dom.js';
import { sessionPath } from '../lib/api.js';
import { sizeText } from '../lib/format.js';

const RETRY_MS = 1500; // the first version is made a moment after the close
const RETRIES = 20;

function timeText(iso) {
  const at = new Date(iso);
  return at.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

export function createRecordPanel(root, { request, download, onSummary = () => {} }) {
  const status = h('p', { class: 'record-status', role: 'status' });
  const list = h('ul', { class: 'record-versions', 'aria-label': 'Versions of the record' });
  const problem = h('p', { class: 'record-problem', role: 'alert', hidden: true });
  root.append(status, list, problem);
  let session = null;
  let retries = 0;
  let timer = null;

  function render(versions) {
    list.replaceChildren();
    if (session.status !== 'closed') {
      setText(status, 'The record is made when the session closes: attendance, chat, help requests, pings, minutes, feedback, consent and materials, in one zip.');
      onSummary('At close');
      return;
    }
    if (!versions.length) {
      setText(status, 'Making the record…');
      onSummary('Being made');
      return;
    }
    const latest = versions[versions.length - 1];
    setText(status, versions.length === 1
      ? `Made ${timeText(latest.built_at)}.`
      : `Version ${latest.version}, made ${timeText(latest.built_at)}; the earlier versions are kept.`);
    onSummary(`Version ${latest.version}`);
    for (const v of [...versions].reverse()) {
      const name = `record-${session.id}-v${v.version}.zip`;
      const button = h('button', {
        type: 'button',
        class: 'button',
        text: `Download version ${v.version}`,
        'aria-describedby': `record-v${v.version}-about`,
        onclick: () => fetchVersion(v.version, name, button),
      });
      list.append(h('li', { class: 'record-version' }, [
        button,
        h('span', {
          id: `record-v${v.version}-about`,
          class: 'hint',
          text: ` ${sizeText(v.size)}, ${v.files.length + 1} files, made ${timeText(v.built_at)}`,
        }),
      ]));
    }
  }

  async function fetchVersion(version, name, button) {
    problem.hidden = true;
    button.disabled = true;
    try {
      await download(sessionPath(session.id, `/record.zip?version=${version}`), name);
    } catch (err) {
      setText(problem, `The download did not work: ${err.message}`);
      problem.hidden = false;
    } finally {
      button.disabled = false;
    }
  }

  async function reload() {
    clearTimeout(timer);
    if (!session) return;
    if (session.status !== 'closed') {
      render([]);
      return;
    }
    try {
      const { versions } = await request('GET', sessionPath(session.id, '/record'));
      problem.hidden = true;
      render(versions);
      if (!versions.length && retries < RETRIES) {
        retries += 1;
        timer = setTimeout(reload, RETRY_MS);
      }
    } catch (err) {
      setText(problem, `The record cannot be shown: ${err.message}`);
      problem.hidden = false;
    }
  }

  return {
    /** Show the record of `{id, status}`; called again when the session changes (its close). */
    show(next) {
      const changed = !session || session.status !== next.status;
      session = next;
      if (changed) retries = 0;
      reload();
    },
    reload,
  };
}
