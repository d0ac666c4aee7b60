/**
 * /home: the signed-in staff member's page: their upcoming sessions (instructors their own, admins all,
 * with a way to the schedule), open a session, manage passkeys, sign out; admins invite and disable staff.
 */

import { call } from '../signin/http.js';
import { signedIn } from '../signin/page.js';
import { ceremonyProblem, createPasskey } from '../signin/webauthn.js';
import { byId, el, problem, status } from '../signin/view.js';
import { renderUpcoming, upcomingQuery } from '../schedule/upcoming-view.js';

const ROLE_NAMES = { admin: 'administrator', instructor: 'instructor', support: 'technical support' };

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : 'never';
}

async function loadPasskeys() {
  const { passkeys } = await call('GET', '/api/me/passkeys');
  const list = byId('passkeys');
  list.replaceChildren(
    ...passkeys.map((p) => {
      const label = el('input', { type: 'text', maxlength: 100, value: p.label, 'aria-label': 'Passkey name' });
      const rename = el('button', {
        type: 'button',
        text: 'Rename',
        onclick: () => act(async () => {
          await call('PATCH', `/api/me/passkeys/${encodeURIComponent(p.id)}`, { label: label.value });
          status('Passkey renamed.');
        }, loadPasskeys),
      });
      const remove = el('button', {
        type: 'button',
        text: 'Remove',
        disabled: passkeys.length === 1,
        title: passkeys.length === 1 ? 'Your only passkey cannot be removed' : undefined,
        onclick: () => act(async () => {
          await call('DELETE', `/api/me/passkeys/${encodeURIComponent(p.id)}`);
          status('Passkey removed.');
        }, loadPasskeys),
      });
      const meta = el('span', { class: 'passkey-meta', text: `added ${when(p.created_at)}, last used ${when(p.last_used_at)}` });
      return el('li', { class: 'passkey', 'data-passkey': p.id }, [label, rename, remove, meta]);
    }),
  );
}

async function loadUpcoming() {
  const now = Date.now();
  const { sessions, more } = await call('GET', `/api/sessions?${upcomingQuery(now)}`);
  renderUpcoming(byId('upcoming'), byId('upcoming-note'), sessions, { now, more });
}

async function addPasskey() {
  const begun = await call('POST', '/api/me/passkeys/begin');
  status('Follow your browser to create the passkey…');
  const credential = await createPasskey(begun.publicKey);
  await call('POST', '/api/me/passkeys/finish', { challenge_id: begun.challenge_id, credential });
  status('Passkey added.');
}

async function loadStaff(me) {
  const { staff } = await call('GET', '/api/staff');
  byId('staff').replaceChildren(
    ...staff.map((s) => {
      const self = s.email === me.email;
      const toggle = el('button', {
        type: 'button',
        text: s.disabled_at ? 'Enable' : 'Disable',
        disabled: self,
        onclick: () => act(async () => {
          const verb = s.disabled_at ? 'enable' : 'disable';
          await call('POST', `/api/staff/${encodeURIComponent(s.email)}/${verb}`);
          status(`${s.name} ${verb}d.`);
        }, () => loadStaff(me)),
      });
      return el('tr', { 'data-email': s.email }, [
        el('td', { text: s.name }),
        el('td', { text: s.email }),
        el('td', { text: s.role ? ROLE_NAMES[s.role] || s.role : 'token only' }),
        el('td', { text: String(s.passkeys) }),
        el('td', {}, [el('span', { text: s.disabled_at ? `disabled ${when(s.disabled_at)} ` : 'active ' }), toggle]),
      ]);
    }),
  );
}

/** Run an action, report its failure, and refresh what it changed. */
async function act(action, refresh) {
  try {
    await action();
  } catch (err) {
    problem(ceremonyProblem(err));
  }
  try {
    await refresh();
  } catch (err) {
    problem(err.message);
  }
}

async function main() {
  const me = await signedIn();
  if (!me) return;
  byId('whoami').textContent = `${me.name} (${me.email}) · ${ROLE_NAMES[me.role] || me.role}`;

  byId('signout').addEventListener('click', async () => {
    try {
      await call('POST', '/logout');
    } catch (err) {
      console.warn('companion: sign-out answer', err);
    }
    window.location.assign('/login');
  });

  byId('open-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = byId('session-id').value.trim();
    if (id) window.location.assign(`/${byId('session-view').value}/${encodeURIComponent(id)}`);
  });

  if (me.role === 'instructor' || me.role === 'admin') {
    byId('upcoming-panel').hidden = false;
    byId('to-schedule').hidden = me.role !== 'admin';
    await act(async () => {}, loadUpcoming);
  }

  byId('add-passkey').addEventListener('click', () => act(addPasskey, loadPasskeys));
  await act(async () => {}, loadPasskeys);

  if (me.role === 'admin') {
    byId('admin').hidden = false;
    byId('invite-form').addEventListener('submit', (event) => {
      event.preventDefault();
      act(async () => {
        const name = byId('invite-name').value.trim();
        const invited = await call('POST', '/api/invitations', {
          email: byId('invite-email').value.trim(),
          role: byId('invite-role').value,
          name: name || undefined,
        });
        const result = byId('invite-result');
        const how = invited.mailed ? 'The link was mailed.' : 'No mail was sent (see the outbox); hand this link over:';
        result.replaceChildren(el('span', { text: `${how} ` }), el('code', { text: invited.link }));
        result.hidden = false;
        byId('invite-form').reset();
      }, () => loadStaff(me));
    });
    await act(async () => {}, () => loadStaff(me));
  }
}

main();
