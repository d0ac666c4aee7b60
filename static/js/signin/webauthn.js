/**
 * WebAuthn in the browser: the server's JSON options in, the authenticator's answer out as JSON.
 * Binary fields travel as base64url, as py_webauthn writes and reads them.
 */

/** base64url text to an ArrayBuffer. */
export function fromBase64url(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

/** An ArrayBuffer (or view) to base64url text without padding. */
export function toBase64url(buffer) {
  const bytes = buffer instanceof ArrayBuffer
    ? new Uint8Array(buffer)
    : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** True when this browser can use passkeys at all. */
export function passkeysSupported() {
  return typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;
}

/**
 * Passkeys belong to the host name of the server's public URL (the relying party id). On any other
 * address (127.0.0.1 where the server says localhost, say) the browser refuses with a vague
 * SecurityError: say instead where to go.
 */
function checkAddress(rpId) {
  const here = window.location.hostname;
  if (!rpId || here === rpId || here.endsWith(`.${rpId}`)) return;
  const port = window.location.port ? `:${window.location.port}` : '';
  const there = `${window.location.protocol}//${rpId}${port}${window.location.pathname}`;
  throw new Error(`Passkeys of this server work at ${rpId}, not at ${window.location.host}: open ${there} instead `
    + '(for an invitation, open its link again with that address).');
}

function descriptors(list) {
  return (list || []).map((d) => ({ ...d, id: fromBase64url(d.id) }));
}

/** Create a passkey with the server's registration options; answers the JSON the server verifies. */
export async function createPasskey(publicKey) {
  checkAddress(publicKey.rp && publicKey.rp.id);
  const options = {
    ...publicKey,
    challenge: fromBase64url(publicKey.challenge),
    user: { ...publicKey.user, id: fromBase64url(publicKey.user.id) },
    excludeCredentials: descriptors(publicKey.excludeCredentials),
  };
  const credential = await navigator.credentials.create({ publicKey: options });
  const response = credential.response;
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
    response: {
      clientDataJSON: toBase64url(response.clientDataJSON),
      attestationObject: toBase64url(response.attestationObject),
      transports: typeof response.getTransports === 'function' ? response.getTransports() : [],
    },
    clientExtensionResults: credential.getClientExtensionResults(),
  };
}

/** Sign in with a passkey the authenticator picks (discoverable); answers the JSON the server verifies. */
export async function usePasskey(publicKey) {
  checkAddress(publicKey.rpId);
  const options = {
    ...publicKey,
    challenge: fromBase64url(publicKey.challenge),
    allowCredentials: descriptors(publicKey.allowCredentials),
  };
  const credential = await navigator.credentials.get({ publicKey: options });
  const response = credential.response;
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
    response: {
      clientDataJSON: toBase64url(response.clientDataJSON),
      authenticatorData: toBase64url(response.authenticatorData),
      signature: toBase64url(response.signature),
      userHandle: response.userHandle ? toBase64url(response.userHandle) : undefined,
    },
    clientExtensionResults: credential.getClientExtensionResults(),
  };
}

/** A person-readable reason for a failed browser ceremony. */
export function ceremonyProblem(err) {
  if (err && err.name === 'NotAllowedError') return 'The passkey request was cancelled or timed out. Try again.';
  if (err && err.name === 'InvalidStateError') return 'This authenticator already holds a passkey for you here.';
  if (err && err.name === 'SecurityError') return 'This address cannot use passkeys (it must be the server’s public address).';
  return (err && err.message) || 'Something went wrong.';
}
