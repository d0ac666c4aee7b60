/**
 * The consent request as a clear prompt: its purpose and text and two buttons, "I agree" and
 * "I do not agree". Once answered, the answer is shown with a button to change it while the request
 * stays open.
 */

import { h, setText, show } from '../lib/dom.js';

const PURPOSE_TEXT = { recording: 'Recording this session' };

/** section: the page's consent section; its content is made here. consent: the consent state. */
export function createConsentPrompt(section, { call, notices, consent }) {
  const purpose = h('p', { class: 'consent-purpose' });
  const text = h('p', { id: 'consent-text', class: 'consent-text' });
  const agree = h('button', { type: 'button', class: 'button button-primary', text: 'I agree', onclick: () => send(true) });
  const decline = h('button', { type: 'button', class: 'button', text: 'I do not agree', onclick: () => send(false) });
  const choices = h('div', { class: 'consent-choices', role: 'group', 'aria-label': 'Your answer', 'aria-describedby': 'consent-text' }, [agree, decline]);
  const answerText = h('p', { id: 'consent-answer-text', class: 'consent-answer-text', tabindex: '-1' });
  const change = h('button', { type: 'button', class: 'button button-quiet', text: 'Change my answer', onclick: () => { changing = true; render(); agree.focus(); } });
  const answer = h('div', { class: 'consent-answer' }, [answerText, change]);
  section.replaceChildren(
    h('h2', { id: 'consent-title', class: 'consent-title', text: 'May we record you?' }),
    purpose, text, choices, answer,
  );
  section.setAttribute('aria-labelledby', 'consent-title');

  let changing = false;
  let asked = null; // the request id this tab last showed: a new one is announced once

  async function send(value) {
    const request = consent.request;
    if (!request) return;
    agree.disabled = true;
    decline.disabled = true;
    const ack = await call('consent:answer', { request_id: request.request_id, consent: value });
    agree.disabled = false;
    decline.disabled = false;
    if (notices.failed(ack, 'Answer not sent')) return;
    consent.answered(request.request_id, value);
    changing = false;
    render();
    answerText.focus();
  }

  function render() {
    const request = consent.request;
    show(section, Boolean(request));
    if (!request) {
      asked = null;
      return;
    }
    if (asked !== request.request_id) {
      if (asked !== null || consent.mine === null) notices.announce('The instructor asks for your consent to record this session.');
      asked = request.request_id;
      changing = false;
    }
    setText(purpose, `Purpose: ${PURPOSE_TEXT[request.purpose] ?? request.purpose}`);
    setText(text, request.text);
    const answered = consent.mine !== null;
    show(choices, !answered || changing);
    show(answer, answered && !changing);
    setText(answerText, consent.mine === true
      ? 'Your answer: you agree to be recorded.'
      : 'Your answer: you do not agree to be recorded.');
    agree.setAttribute('aria-pressed', String(consent.mine === true));
    decline.setAttribute('aria-pressed', String(consent.mine === false));
    section.dataset.answered = String(answered);
  }

  return { render };
}
