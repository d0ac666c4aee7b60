"""A tiny software authenticator: real WebAuthn answers (ES256, attestation "none") made in Python.

It does what a browser and a platform authenticator do together: builds clientDataJSON with the
page's origin, authenticatorData with the relying party's hash, flags and counter, and signs. Each
knob (origin, counter, signature, rp id) lets a test make exactly one thing wrong.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

FLAG_UP = 0x01  # user present
FLAG_UV = 0x04  # user verified
FLAG_AT = 0x40  # attested credential data follows
AAGUID = bytes(16)  # "none" attestation: no maker to tell


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftCredential:
    """One discoverable credential held by the authenticator."""

    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    def cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})


@dataclass
class SoftAuthenticator:
    """An authenticator with resident keys and user verification, used from the given origin."""

    origin: str
    credentials: list[SoftCredential] = field(default_factory=list)
    counter_step: int = 1  # 0 imitates a synced passkey that always answers 0

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}
        ).encode()

    def create(self, options: dict[str, Any], *, origin: str | None = None, rp_id: str | None = None) -> dict[str, Any]:
        """Answer navigator.credentials.create() for the server's `publicKey` options."""
        rp = rp_id or options["rp"]["id"]
        cred = SoftCredential(
            credential_id=secrets.token_bytes(32),
            key=ec.generate_private_key(ec.SECP256R1()),
            rp_id=rp,
            user_handle=unb64url(options["user"]["id"]),
        )
        excluded = {d["id"] for d in options.get("excludeCredentials", [])}
        assert not any(b64url(c.credential_id) in excluded for c in self.credentials if c.rp_id == rp), (
            "InvalidStateError: this authenticator already holds an excluded credential"
        )
        # A resident key for the same person replaces the old one, as real authenticators do.
        self.credentials = [c for c in self.credentials if not (c.rp_id == rp and c.user_handle == cred.user_handle)]
        self.credentials.append(cred)
        auth_data = (
            hashlib.sha256(rp.encode()).digest()
            + bytes([FLAG_UP | FLAG_UV | FLAG_AT])
            + struct.pack(">I", cred.sign_count)
            + AAGUID
            + struct.pack(">H", len(cred.credential_id))
            + cred.credential_id
            + cred.cose_public_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return {
            "id": b64url(cred.credential_id),
            "rawId": b64url(cred.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        credential: SoftCredential | None = None,
        origin: str | None = None,
        sign_count: int | None = None,
        bad_signature: bool = False,
        kind: str = "webauthn.get",
    ) -> dict[str, Any]:
        """Answer navigator.credentials.get(): with the newest credential for the rp unless one is named."""
        rp = options["rpId"]
        cred = credential or next(c for c in reversed(self.credentials) if c.rp_id == rp)
        if sign_count is None:
            cred.sign_count += self.counter_step
            count = cred.sign_count
        else:
            count = sign_count
        auth_data = hashlib.sha256(cred.rp_id.encode()).digest() + bytes([FLAG_UP | FLAG_UV]) + struct.pack(">I", count)
        client_data = self._client_data(kind, options["challenge"], origin)
        signature = cred.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        if bad_signature:
            other = ec.generate_private_key(ec.SECP256R1())
            signature = other.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(cred.credential_id),
            "rawId": b64url(cred.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(cred.user_handle),
            },
            "clientExtensionResults": {},
        }

    def stranger(self, rp_id: str) -> SoftCredential:
        """A credential this server never registered (held by the authenticator all the same)."""
        cred = SoftCredential(
            credential_id=secrets.token_bytes(32),
            key=ec.generate_private_key(ec.SECP256R1()),
            rp_id=rp_id,
            user_handle=secrets.token_bytes(32),
        )
        self.credentials.append(cred)
        return cred
