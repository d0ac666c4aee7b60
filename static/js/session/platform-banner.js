/** The banner for when the video platform is degraded or down, with the backup instructions. */

import { h, show } from '../lib/dom.js';

const HEADLINE = {
  degraded: 'The video platform is having problems',
  down: 'The video platform is down',
};

/** audience: 'participant' (gets the backup instructions) or 'staff'. */
export function createPlatformBanner(root, { audience, notices }) {
  let last = null;

  function render(platform) {
    const trouble = platform.status === 'degraded' || platform.status === 'down';
    if (last !== null && last !== 'ok' && platform.status === 'ok') {
      notices.announce('The video platform is working again.');
    }
    last = platform.status;
    show(root, trouble);
    root.dataset.status = platform.status;
    if (!trouble) {
      root.replaceChildren();
      return;
    }
    const advice = audience === 'participant'
      ? 'Keep this tab open and follow the chat here: the instructor will post what to do next.'
      : 'Participants see this banner with backup instructions. Post updates in the chat.';
    root.replaceChildren(
      h('p', { class: 'banner-title', text: HEADLINE[platform.status] }),
      platform.message ? h('p', { class: 'banner-message', text: platform.message }) : null,
      h('p', { class: 'banner-advice', text: advice }),
    );
  }

  return { render };
}
