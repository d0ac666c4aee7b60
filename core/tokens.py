"""The one place secrets are made, digested and signed: API tokens, invitations, participant links, cookies.

Stored secrets are kept as their SHA-256 digest (a leaked table names no usable token); signed
values carry an HMAC-SHA-256, URL-safe base64 without padding. Every comparison is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def new_secret() -> str:
    """A fresh secret of 192 bits, URL-safe."""
    return secrets.token_urlsafe(24)


def digest(secret: str) -> str:
    """What is stored of a secret: its SHA-256, in hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def digest_matches(stored: str, secret: str) -> bool:
    """Whether a presented secret is the one whose digest was stored (constant-time)."""
    return hmac.compare_digest(stored, digest(secret))


def derive_key(purpose: str, secret_key: str) -> bytes:
    """A key for one purpose from the server's key, so one signature never stands for another kind."""
    return hashlib.sha256(f"{purpose}:{secret_key}".encode()).digest()


def sign(key: bytes, message: str, *, size: int = 32) -> str:
    """The HMAC-SHA-256 of message, its first `size` bytes, URL-safe base64 without padding."""
    mac = hmac.new(key, message.encode(), hashlib.sha256).digest()[:size]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def signature_matches(key: bytes, message: str, signature: str, *, size: int = 32) -> bool:
    """Whether signature is sign(key, message, size) (constant-time; a non-ASCII signature never matches)."""
    return same(signature, sign(key, message, size=size))


def same(presented: str, expected: str) -> bool:
    """Whether two secrets are equal (constant-time; a non-ASCII one, which the server never makes, is not)."""
    return presented.isascii() and hmac.compare_digest(presented, expected)
