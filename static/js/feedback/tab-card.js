/**
 * The participant's feedback in their tab once the class has closed: a prominent "Give feedback" link
 * (their personal one) and the form itself right there, from the `feedback` event or `session:state`.
 */

import { show } from '../lib/dom.js';
import { formView, loadForm, tokenOf } from './form-view.js';

/** elements: {section, link, root, note}: `note` the end panel's line, which then points here. */
export function createFeedbackCard({ section, link, root, note }) {
  let shown = null;
  return {
    /** `feedback` {link, open_until}, or null/undefined before the close. */
    async show(feedback) {
      if (!feedback?.link) return;
      show(section, true);
      if (note) note.textContent = 'The class has ended. One last thing, if you have a minute: your feedback, below.';
      link.href = feedback.link;
      if (shown === feedback.link) return;
      shown = feedback.link;
      const token = tokenOf(feedback.link);
      try {
        const { view } = await loadForm(token);
        if (view) root.replaceChildren(formView(view, token, { idPrefix: 'tabfb' }));
        // Read in the moment the close is in the live state but not yet committed, the form says it is not
        // open yet: the `feedback` event that follows the commit reads it again.
        if (!view?.open) shown = null;
      } catch (err) {
        console.info('companion: the feedback form was not read; the link still works', err);
        shown = null;
      }
    },
  };
}
