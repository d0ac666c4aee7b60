/** /enroll#token=...: create a first passkey from a one-time invitation, then go to the staff home. */

import { call } from '../signin/http.js';
import { ceremonyProblem, createPasskey, passkeysSupported } from '../signin/webauthn.js';
import { byId, problem, status } from '../signin/view.js';

// The server keeps a challenge five minutes; ask for a fresh one a little before that.
const CHALLENGE_FRESH_MS = 4 * 60 * 1000;

function takeInvitation() {
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const token = params.get('token') || sessionStorage.getItem('companion:invitation') || '';
  if (params.get('token')) {
    // Keep it for a reload of this tab, but out of the address bar (screens get shared).
    sessionStorage.setItem('companion:invitation', token);
    window.history.replaceState(window.history.state, '', window.location.pathname);
  }
  return token;
}

async function main() {
  const token = takeInvitation();
  if (!token) {
    byId('invitation').textContent = '';
    problem('This page needs the enrolment link from your invitation.');
    return;
  }
  if (!passkeysSupported()) {
    problem('This browser cannot create passkeys. Use a current browser on this address.');
    return;
  }
  let begun;
  let begunAt = 0;
  async function begin() {
    begun = await call('POST', '/api/enrol/begin', { token });
    begunAt = Date.now();
    return begun;
  }
  try {
    await begin();
  } catch (err) {
    byId('invitation').textContent = '';
    problem(err.message);
    return;
  }
  byId('invitation').textContent = `Invitation for ${begun.email} as ${begun.role}.`;
  byId('name').value = begun.name;
  const form = byId('enrol-form');
  form.hidden = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = byId('create');
    button.disabled = true;
    try {
      if (Date.now() - begunAt > CHALLENGE_FRESH_MS) await begin();
      const challenge = begun;
      begunAt = 0; // a challenge is used once: the next attempt asks for a new one
      status('Follow your browser to create the passkey…');
      const credential = await createPasskey(challenge.publicKey);
      status('Saving…');
      await call('POST', '/api/enrol/finish', {
        token,
        challenge_id: challenge.challenge_id,
        credential,
        name: byId('name').value.trim() || undefined,
        label: byId('label').value.trim() || undefined,
      });
      sessionStorage.removeItem('companion:invitation');
      status('Your passkey is ready.');
      window.location.assign('/home');
    } catch (err) {
      problem(ceremonyProblem(err));
    } finally {
      button.disabled = false;
    }
  });
}

main();
