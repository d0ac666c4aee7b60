// The start every staff page shares: who is signed in, or off to sign in and back here afterwards.

import { whoAmI } from './http.js';
import { byId, problem } from './view.js';

/**
 * The staff member signed in, named in the page's #whoami; null once a visitor who is not signed in has
 * been sent to sign in (returning to this page, its query included), or when /api/me could not be asked
 * (the page then says why).
 */
export async function signedIn() {
  let me;
  try {
    me = await whoAmI();
  } catch (err) {
    problem(err.message);
    return null;
  }
  if (!me) {
    window.location.replace(`/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
    return null;
  }
  byId('whoami').textContent = `${me.name} (${me.email})`;
  return me;
}
