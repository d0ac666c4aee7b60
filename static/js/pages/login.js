/** /login: sign in with a discoverable passkey (no name to type), then go to ?next= or the staff home. */

import { call, nextPath, whoAmI } from '../signin/http.js';
import { ceremonyProblem, passkeysSupported, usePasskey } from '../signin/webauthn.js';
import { byId, problem, status } from '../signin/view.js';

async function signIn() {
  const button = byId('signin');
  button.disabled = true;
  try {
    status('Waiting for your passkey…');
    const begun = await call('POST', '/api/login/begin');
    const credential = await usePasskey(begun.publicKey);
    status('Checking…');
    const me = await call('POST', '/api/login/finish', { challenge_id: begun.challenge_id, credential });
    status(`Signed in as ${me.name}.`);
    window.location.assign(nextPath());
  } catch (err) {
    problem(ceremonyProblem(err));
  } finally {
    button.disabled = false;
  }
}

async function main() {
  if (!passkeysSupported()) {
    problem('This browser cannot use passkeys. Use a current browser on this address.');
    byId('signin').disabled = true;
    return;
  }
  byId('signin').addEventListener('click', signIn);
  try {
    if (await whoAmI()) window.location.replace(nextPath());
  } catch (err) {
    console.warn('companion: could not ask who is signed in', err);
  }
}

main();
