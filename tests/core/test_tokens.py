"""core.tokens: digests and signatures, compared in constant time, never matching what the server did not make."""

from __future__ import annotations

from core import tokens


def test_a_secret_matches_its_digest_and_nothing_else_does() -> None:
    secret = tokens.new_secret()
    stored = tokens.digest(secret)
    assert stored != secret and len(stored) == 64
    assert tokens.digest_matches(stored, secret)
    assert not tokens.digest_matches(stored, secret + "x")
    assert tokens.new_secret() != secret


def test_a_signature_holds_for_its_key_message_and_size_only() -> None:
    key = tokens.derive_key("staff-session", "server key")
    sig = tokens.sign(key, "session-1")
    assert tokens.signature_matches(key, "session-1", sig)
    assert not tokens.signature_matches(key, "session-2", sig)
    assert not tokens.signature_matches(tokens.derive_key("participant", "server key"), "session-1", sig)
    short = tokens.sign(key, "session-1", size=24)
    assert len(short) == 32 and sig.startswith(short[:30])  # base64 of the first 24 bytes
    assert tokens.signature_matches(key, "session-1", short, size=24)
    assert "=" not in sig


def test_non_ascii_never_matches_and_raises_nothing() -> None:
    key = tokens.derive_key("x", "k")
    assert not tokens.signature_matches(key, "m", "é" * 43)
    assert not tokens.same("é", "é")
    assert tokens.same("abc", "abc") and not tokens.same("abc", "abd")
