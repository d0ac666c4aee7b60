/** The platform's troubleshooting guide, from GET /api/sessions/{id}/setup. */

import { h, setText } from '../lib/dom.js';

/** elements: {title, browsers, phone, steps}. */
export function renderGuide(elements, guide) {
  const name = guide.platform?.name;
  setText(elements.title, name ? `If something does not work in ${name}` : 'If something does not work in the class');
  const browsers = guide.browsers.map((b) => b.name).join(', ');
  setText(elements.browsers, `${name ?? 'The video platform'} works in current versions of ${browsers}.`
    + (guide.app ? ` You can also use the ${guide.app} app.` : ''));
  setText(elements.phone, guide.phone ?? '');
  elements.steps.replaceChildren(...guide.troubleshooting.map((step) => h('li', { text: step })));
}
