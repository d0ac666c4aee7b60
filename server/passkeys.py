"""WebAuthn ceremonies with py_webauthn: creating a passkey (enrolment, another one) and signing in.

Every ceremony starts with a challenge the server keeps in the database: random, single use (its
first answer consumes it, whatever the outcome) and valid for a few minutes. The relying party id
and the only accepted origin come from the public URL. Sign-in asks for a discoverable credential
(no name to type) and prefers user verification; the signature counter must move forward.
Every refusal is logged with its reason and answered with a message saying what went wrong.
"""

from __future__ import annotations

import binascii
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn
from urllib.parse import urlsplit

import orjson
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from core.clock import Clock
from core.errors import AppError, Conflict, Invalid, Unauthorized
from persistence.models import Passkey, StaffMember, WebAuthnChallenge
from persistence.repos import staff
from service.records import Records

log = logging.getLogger("companion.passkeys")

# The browser is told to give up after this (a hint it may stretch); the server keeps a challenge
# for settings.challenge_ttl_s (5 minutes by default): long enough to find the authenticator and
# touch it, short enough that a challenge seen by someone else is soon worthless.
CEREMONY_TIMEOUT_MS = 180_000
# Expired challenges are kept a day so that a late answer is told "expired" rather than "unknown".
CHALLENGE_KEPT = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class RelyingParty:
    """Who the passkeys belong to: the host of the public URL, and that URL's origin."""

    id: str
    origin: str
    name: str = "Companion"

    @classmethod
    def from_public_url(cls, url: str) -> RelyingParty:
        parts = urlsplit(url)
        if not parts.hostname:
            raise ValueError(f"no host in the public URL {url!r}")
        return cls(id=parts.hostname, origin=f"{parts.scheme}://{parts.netloc}")


@dataclass(frozen=True, slots=True)
class NewPasskey:
    """A verified registration, ready to store."""

    credential_id: str  # base64url
    public_key: bytes
    sign_count: int
    aaguid: str
    transports: list[str] | None
    backed_up: bool
    user_handle: str | None  # the one offered to the authenticator with the challenge


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A verified sign-in: the passkey used and its owner."""

    passkey: Passkey
    staff: StaffMember


class Ceremonies:
    """Starts and finishes registration and sign-in ceremonies for one relying party."""

    def __init__(self, rp: RelyingParty, *, records: Records, clock: Clock, challenge_ttl: timedelta) -> None:
        self.rp = rp
        self.challenge_ttl = challenge_ttl
        self._records = records
        self._clock = clock

    # ------------------------------------------------------------ challenges

    async def _new_challenge(self, purpose: str, *, email: str | None, user_handle: str | None) -> tuple[str, bytes]:
        challenge_id = secrets.token_hex(16)
        challenge = secrets.token_bytes(32)
        now = self._clock.now()

        async def store(db: Any) -> None:
            await staff.delete_old_challenges(db, before=now - CHALLENGE_KEPT)
            await staff.add_challenge(
                db,
                challenge_id=challenge_id,
                challenge=bytes_to_base64url(challenge),
                purpose=purpose,
                email=email,
                user_handle=user_handle,
                now=now,
                expires_at=now + self.challenge_ttl,
            )

        await self._records.write(store)
        return challenge_id, challenge

    async def _take_challenge(self, challenge_id: str, purpose: str, *, client: str) -> WebAuthnChallenge:
        """The challenge, consumed now; refused when unknown, used or expired."""
        now = self._clock.now()
        status, row = await self._records.write(
            lambda db: staff.consume_challenge(db, challenge_id=challenge_id, purpose=purpose, now=now)
        )
        refusal = {
            "unknown": "unknown challenge: start again",
            "used": "this challenge was already answered (a replay?): start again",
            "expired": f"the challenge expired (after {self.challenge_ttl.total_seconds():g} s): start again",
            "wrong_purpose": "this challenge belongs to another ceremony: start again",
        }.get(status)
        if refusal is not None or row is None:
            self._refuse(purpose, client, refusal or "unknown challenge", Unauthorized)
        assert isinstance(row, WebAuthnChallenge)
        return row

    def _refuse(self, purpose: str, client: str, message: str, error: type[AppError]) -> NoReturn:
        log.warning("passkey %s refused for %s: %s", purpose, client, message)
        raise error(message)

    def _check_client_data(
        self, raw: bytes, *, kind: str, challenge: bytes, purpose: str, client: str, error: type[AppError]
    ) -> None:
        """The browser's own statement: the ceremony type, the challenge, and the page's origin."""
        try:
            data = parse_client_data_json(raw)
        except (WebAuthnException, ValueError, binascii.Error):
            self._refuse(purpose, client, "clientDataJSON is not valid", error)
        if data.type != kind:
            self._refuse(purpose, client, f"clientDataJSON is for {data.type!r}, not {kind!r}", error)
        if data.origin != self.rp.origin:
            message = f"wrong origin: the passkey answered for {data.origin}, not {self.rp.origin}"
            self._refuse(purpose, client, message, error)
        if data.challenge != challenge:
            self._refuse(purpose, client, "the answer is for another challenge", error)

    # ------------------------------------------------------------ registration

    async def start_registration(
        self, *, purpose: str, email: str, name: str, user_handle: str, exclude: list[str]
    ) -> dict[str, Any]:
        """Options for navigator.credentials.create(): a discoverable credential, verification preferred."""
        challenge_id, challenge = await self._new_challenge(purpose, email=email, user_handle=user_handle)
        options = generate_registration_options(
            rp_id=self.rp.id,
            rp_name=self.rp.name,
            user_name=email,
            user_id=base64url_to_bytes(user_handle),
            user_display_name=name,
            challenge=challenge,
            timeout=CEREMONY_TIMEOUT_MS,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.PREFERRED,
            ),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in exclude],
        )
        return {"challenge_id": challenge_id, "publicKey": orjson.loads(options_to_json(options))}

    async def finish_registration(
        self, *, challenge_id: str, purpose: str, email: str, credential: dict[str, Any], client: str
    ) -> NewPasskey:
        """Verify the authenticator's answer for this person; Invalid (with the reason) when it does not hold."""
        taken = await self._take_challenge(challenge_id, purpose, client=client)
        challenge = base64url_to_bytes(taken.challenge)
        if taken.email != email.lower():
            self._refuse(purpose, client, "this challenge was made for someone else", Unauthorized)
        try:
            parsed: RegistrationCredential = parse_registration_credential_json(credential)
        except (WebAuthnException, ValueError, binascii.Error):
            self._refuse(purpose, client, "credential: not a WebAuthn registration response", Invalid)
        self._check_client_data(
            parsed.response.client_data_json,
            kind="webauthn.create",
            challenge=challenge,
            purpose=purpose,
            client=client,
            error=Invalid,
        )
        try:
            verified = verify_registration_response(
                credential=parsed,
                expected_challenge=challenge,
                expected_rp_id=self.rp.id,
                expected_origin=self.rp.origin,
                require_user_verification=False,
            )
        except (WebAuthnException, ValueError, binascii.Error) as e:
            self._refuse(purpose, client, f"the passkey's answer does not verify: {e}", Invalid)
        credential_id = bytes_to_base64url(verified.credential_id)
        if await self._records.read(staff.credential_exists, credential_id=credential_id):
            self._refuse(purpose, client, "this passkey is already registered", Conflict)
        transports = parsed.response.transports
        log.info("passkey registered for %s (%s)", email, purpose)
        return NewPasskey(
            credential_id=credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            aaguid=verified.aaguid,
            transports=[t.value for t in transports] if transports else None,
            backed_up=verified.credential_backed_up,
            user_handle=taken.user_handle,
        )

    # ------------------------------------------------------------ sign-in

    async def start_authentication(self) -> dict[str, Any]:
        """Options for navigator.credentials.get() with no credential list: the authenticator offers its own."""
        challenge_id, challenge = await self._new_challenge("login", email=None, user_handle=None)
        options = generate_authentication_options(
            rp_id=self.rp.id,
            challenge=challenge,
            timeout=CEREMONY_TIMEOUT_MS,
            user_verification=UserVerificationRequirement.PREFERRED,
        )
        return {"challenge_id": challenge_id, "publicKey": orjson.loads(options_to_json(options))}

    async def finish_authentication(self, *, challenge_id: str, credential: dict[str, Any], client: str) -> SignedIn:
        """Verify a sign-in answer and move the passkey's counter on; Unauthorized with the reason otherwise."""
        purpose = "login"
        challenge = base64url_to_bytes((await self._take_challenge(challenge_id, purpose, client=client)).challenge)
        try:
            parsed: AuthenticationCredential = parse_authentication_credential_json(credential)
        except (WebAuthnException, ValueError, binascii.Error):
            self._refuse(purpose, client, "credential: not a WebAuthn sign-in response", Invalid)
        self._check_client_data(
            parsed.response.client_data_json,
            kind="webauthn.get",
            challenge=challenge,
            purpose=purpose,
            client=client,
            error=Unauthorized,
        )
        credential_id = bytes_to_base64url(parsed.raw_id)
        found = await self._records.read(staff.passkey_by_credential, credential_id=credential_id)
        if found is None:
            self._refuse(purpose, client, "unknown passkey: it is not registered here (or was removed)", Unauthorized)
        passkey, member = found
        handle = parsed.response.user_handle
        if handle and member.user_handle and bytes_to_base64url(handle) != member.user_handle:
            self._refuse(purpose, client, "the passkey names another person than its owner", Unauthorized)
        try:
            # The counter is checked below, after the signature, so that a forged answer is reported
            # as forged and only a genuine signature with an old counter as a possible clone.
            verified = verify_authentication_response(
                credential=parsed,
                expected_challenge=challenge,
                expected_rp_id=self.rp.id,
                expected_origin=self.rp.origin,
                credential_public_key=passkey.public_key,
                credential_current_sign_count=0,
                require_user_verification=False,
            )
        except (WebAuthnException, ValueError, binascii.Error) as e:
            reason = "bad signature: the passkey's signature does not verify" if "signature" in str(e) else str(e)
            self._refuse(purpose, client, reason, Unauthorized)
        counter = verified.new_sign_count
        if (counter > 0 or passkey.sign_count > 0) and counter <= passkey.sign_count:
            log.error(
                "possible cloned authenticator: passkey %s of %s answered counter %d after %d",
                passkey.id,
                member.email,
                counter,
                passkey.sign_count,
            )
            self._refuse(
                purpose,
                client,
                f"the passkey's signature counter went back ({counter} after {passkey.sign_count}): "
                "it may be a cloned authenticator, so it is refused; tell an administrator",
                Unauthorized,
            )
        if member.disabled_at is not None:
            self._refuse(purpose, client, "this staff member is disabled", Unauthorized)
        if member.role is None:
            self._refuse(purpose, client, "this person has no staff role", Unauthorized)
        now = self._clock.now()
        await self._records.write(
            lambda db: staff.record_passkey_use(db, passkey_id=passkey.id, sign_count=counter, now=now)
        )
        passkey.sign_count = counter
        passkey.last_used_at = now
        log.info("signed in: %s with passkey %s", member.email, passkey.id)
        return SignedIn(passkey=passkey, staff=member)


def new_user_handle() -> str:
    """A random WebAuthn user handle (no personal data in it), base64url."""
    return bytes_to_base64url(secrets.token_bytes(32))
