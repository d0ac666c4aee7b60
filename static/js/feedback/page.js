/** /feedback/{token}: the feedback form of a personal mail link. The link is the credential. */

import { byId } from '../lib/dom.js';
import { formView, loadForm } from './form-view.js';

const WHEN = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

async function main() {
  const token = decodeURIComponent(window.location.pathname.split('/').pop() || '');
  const { view } = await loadForm(token);
  if (!view) {
    byId('fb-when').textContent = 'This link is not valid. Please use the link from your latest mail.';
    return;
  }
  byId('fb-title').textContent = view.for === 'instructor'
    ? `Your notes on “${view.session.topic}”` : `Your feedback on “${view.session.topic}”`;
  const at = view.session.started_at || view.session.starts_at;
  byId('fb-when').textContent = `${view.name}, about the session of ${WHEN.format(new Date(at))}.`;
  byId('fb-root').replaceChildren(formView(view, token));
}

main();
