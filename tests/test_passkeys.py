"""Passkey ceremonies through the real HTTP API: enrolment, sign-in, and every refusal (no session, logged)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.staff_flows import (
    Browser,
    begin_enrol,
    begin_login,
    enrol,
    enrolled,
    finish_enrol,
    finish_login,
    invite,
    new_browser,
    sign_in,
)
from tests.support import Server, refused, running_server
from tests.webauthn_soft import SoftAuthenticator, b64url


def refusal(r: httpx.Response, status: int, code: str, words: str) -> None:
    """The answer is the given refusal, names the reason, and opens no session."""
    refused(r, code, words, status=status)
    assert "set-cookie" not in r.headers


async def signed_out(b: Browser) -> bool:
    return (await b.me()).status_code == 401


@pytest.fixture
async def ada(server: Server) -> AsyncIterator[Browser]:
    """Ada, an enrolled instructor, signed in in her own browser."""
    b = await enrolled(server, "ada@example.org", "instructor", "Ada Lovelace")
    yield b
    await b.close()


async def fresh(server: Server, authenticator: SoftAuthenticator) -> Browser:
    """Another browser (no cookies) with the same authenticator, as after signing out."""
    b = new_browser(server)
    b.authenticator = authenticator
    return b


# ---------------------------------------------------------------- enrolment


async def test_enrolment_options_ask_for_a_discoverable_passkey_with_verification_preferred(server: Server) -> None:
    """enrol/begin answers who is invited and options for a resident key on this relying party."""
    b = new_browser(server)
    begun = await begin_enrol(b, await invite(server, "Grace@Example.org", "support", "Grace Hopper"))
    assert (begun["email"], begun["name"], begun["role"]) == ("grace@example.org", "Grace Hopper", "support")
    options = begun["publicKey"]
    assert options["rp"]["id"] == urlsplit(server.settings.public_url).hostname
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["user"]["name"] == "grace@example.org"
    assert options["attestation"] == "none"
    assert len(options["challenge"]) >= 40
    await b.close()


async def test_enrolment_creates_the_person_with_the_invited_role_and_signs_in(server: Server) -> None:
    """enrol/finish stores the passkey, answers 201 with the person, and the cookie works at once."""
    b = new_browser(server)
    r = await enrol(b, await invite(server, "ada@example.org", "instructor"), name="Ada L.", label="Laptop")
    assert r.status_code == 201, r.text
    assert {k: r.json()[k] for k in ("email", "name", "role")} == {
        "email": "ada@example.org",
        "name": "Ada L.",
        "role": "instructor",
    }
    me = await b.me()
    assert me.status_code == 200 and me.json()["email"] == "ada@example.org"
    keys = (await b.http.get("/api/me/passkeys")).json()["passkeys"]
    assert [k["label"] for k in keys] == ["Laptop"]
    staff = (await server.api("GET", "/api/staff")).json()["staff"]
    assert {"email": "ada@example.org", "role": "instructor", "passkeys": 1}.items() <= staff[0].items()
    await b.close()


async def test_enrolment_from_a_wrong_origin_is_refused_and_the_link_stays_usable(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    """A passkey made on another site's page is refused (logged); the invitation still works afterwards."""
    b = new_browser(server)
    token = await invite(server, "ada@example.org")
    begun = await begin_enrol(b, token)
    with caplog.at_level(logging.WARNING, logger="companion.passkeys"):
        r = await finish_enrol(
            b, token, begun, b.authenticator.create(begun["publicKey"], origin="https://evil.example")
        )
    refusal(r, 400, "invalid", "wrong origin")
    assert any("wrong origin" in rec.getMessage() for rec in caplog.records)
    assert await signed_out(b)
    assert (await enrol(b, token)).status_code == 201
    await b.close()


async def test_enrolment_for_another_relying_party_is_refused(server: Server) -> None:
    """An authenticator answering for another rp id does not verify."""
    b = new_browser(server)
    token = await invite(server, "ada@example.org")
    begun = await begin_enrol(b, token)
    r = await finish_enrol(b, token, begun, b.authenticator.create(begun["publicKey"], rp_id="evil.example"))
    refusal(r, 400, "invalid", "RP ID")
    await b.close()


async def test_enrolment_challenge_cannot_serve_another_invitation(server: Server) -> None:
    """A challenge made for one invitation does not enrol the holder of another."""
    b = new_browser(server)
    first = await invite(server, "ada@example.org")
    second = await invite(server, "eve@example.org")
    begun = await begin_enrol(b, first)
    r = await finish_enrol(b, second, begun, b.authenticator.create(begun["publicKey"]))
    refusal(r, 401, "unauthorized", "someone else")
    await b.close()


async def test_enrolment_bodies_are_strict(server: Server) -> None:
    """Wrong types and missing fields answer invalid naming the field."""
    b = new_browser(server)
    token = await invite(server, "ada@example.org")
    r = await b.http.post("/api/enrol/begin", json={"token": 12})
    assert r.status_code == 400 and "token" in r.json()["error"]["message"]
    r = await b.http.post("/api/enrol/finish", json={"token": token, "credential": {}})
    assert r.status_code == 400 and "challenge_id" in r.json()["error"]["message"]
    r = await b.http.post("/api/enrol/begin", json={"token": "inv_nope_nope"})
    refusal(r, 401, "unauthorized", "unknown invitation")
    await b.close()


# ---------------------------------------------------------------- sign-in


async def test_sign_in_options_name_no_credential(server: Server) -> None:
    """login/begin lets the authenticator offer its own discoverable passkey."""
    b = new_browser(server)
    options = (await begin_login(b))["publicKey"]
    assert options["rpId"] == urlsplit(server.settings.public_url).hostname
    assert options.get("allowCredentials", []) == []
    assert options["userVerification"] == "preferred"
    await b.close()


async def test_sign_in_with_a_passkey_opens_a_session(server: Server, ada: Browser) -> None:
    """A new browser with Ada's authenticator signs in without a name and gets her session."""
    b = await fresh(server, ada.authenticator)
    assert await signed_out(b)
    r = await sign_in(b)
    assert r.status_code == 200, r.text
    assert r.json()["email"] == "ada@example.org" and r.json()["role"] == "instructor"
    me = (await b.me()).json()
    assert (me["email"], me["name"], me["role"]) == ("ada@example.org", "Ada Lovelace", "instructor")
    keys = (await b.http.get("/api/me/passkeys")).json()["passkeys"]
    assert keys[0]["last_used_at"] is not None
    await b.close()


async def test_wrong_origin_is_refused_and_logged(
    server: Server, ada: Browser, caplog: pytest.LogCaptureFixture
) -> None:
    """An answer made on another origin opens no session."""
    b = await fresh(server, ada.authenticator)
    with caplog.at_level(logging.WARNING, logger="companion.passkeys"):
        r = await sign_in(b, origin="http://localhost.evil.example")
    refusal(r, 401, "unauthorized", "wrong origin")
    assert any("login refused" in rec.getMessage() and "wrong origin" in rec.getMessage() for rec in caplog.records)
    assert await signed_out(b)
    await b.close()


async def test_replayed_answer_is_refused(server: Server, ada: Browser) -> None:
    """The same answer sent twice: the challenge was used by the first, the second is refused."""
    b = await fresh(server, ada.authenticator)
    begun = await begin_login(b)
    answer = b.authenticator.get(begun["publicKey"])
    assert (await finish_login(b, begun, answer)).status_code == 200
    other = await fresh(server, ada.authenticator)
    refusal(await finish_login(other, begun, answer), 401, "unauthorized", "already answered")
    assert await signed_out(other)
    await b.close()
    await other.close()


async def test_failed_answer_still_uses_up_its_challenge(server: Server, ada: Browser) -> None:
    """A challenge is consumed by its first answer even when that answer is refused."""
    b = await fresh(server, ada.authenticator)
    begun = await begin_login(b)
    refusal(
        await finish_login(b, begun, b.authenticator.get(begun["publicKey"], bad_signature=True)),
        401,
        "unauthorized",
        "bad signature",
    )
    refusal(await finish_login(b, begun, b.authenticator.get(begun["publicKey"])), 401, "unauthorized", "already")
    await b.close()


async def test_unknown_challenge_is_refused(server: Server, ada: Browser) -> None:
    """An answer naming a challenge the server never made is refused."""
    b = await fresh(server, ada.authenticator)
    begun = await begin_login(b)
    forged = {**begun, "challenge_id": "0" * 32}
    refusal(
        await finish_login(b, forged, b.authenticator.get(begun["publicKey"])), 401, "unauthorized", "unknown challenge"
    )
    await b.close()


async def test_answer_to_another_challenge_is_refused(server: Server, ada: Browser) -> None:
    """An answer signed over one challenge but sent with another challenge's id is refused."""
    b = await fresh(server, ada.authenticator)
    first = await begin_login(b)
    second = await begin_login(b)
    answer = b.authenticator.get(first["publicKey"])
    refusal(await finish_login(b, second, answer), 401, "unauthorized", "another challenge")
    await b.close()


async def test_challenge_of_another_ceremony_is_refused(server: Server, ada: Browser) -> None:
    """An enrolment challenge cannot be spent on a sign-in."""
    b = await fresh(server, ada.authenticator)
    enrol_begun = await begin_enrol(b, await invite(server, "bob@example.org"))
    login_begun = await begin_login(b)
    answer = b.authenticator.get(login_begun["publicKey"])
    refusal(await finish_login(b, enrol_begun, answer), 401, "unauthorized", "another ceremony")
    await b.close()


async def test_expired_challenge_is_refused(tmp_path: Path) -> None:
    """An answer after the challenge's lifetime is refused as expired."""
    async with running_server(tmp_path, challenge_ttl_s=1) as srv:
        ada = await enrolled(srv, "ada@example.org")
        b = await fresh(srv, ada.authenticator)
        begun = await begin_login(b)
        await asyncio.sleep(1.3)
        refusal(await finish_login(b, begun, b.authenticator.get(begun["publicKey"])), 401, "unauthorized", "expired")
        assert (await sign_in(b)).status_code == 200  # a fresh challenge works
        await ada.close()
        await b.close()


async def test_unknown_credential_is_refused(server: Server, ada: Browser) -> None:
    """A passkey this server never registered is refused."""
    b = await fresh(server, ada.authenticator)
    begun = await begin_login(b)
    stranger = b.authenticator.stranger(begun["publicKey"]["rpId"])
    refusal(
        await finish_login(b, begun, b.authenticator.get(begun["publicKey"], credential=stranger)),
        401,
        "unauthorized",
        "unknown passkey",
    )
    await b.close()


async def test_bad_signature_is_refused(server: Server, ada: Browser, caplog: pytest.LogCaptureFixture) -> None:
    """An answer signed by another key is refused and logged."""
    b = await fresh(server, ada.authenticator)
    with caplog.at_level(logging.WARNING, logger="companion.passkeys"):
        r = await sign_in(b, bad_signature=True)
    refusal(r, 401, "unauthorized", "bad signature")
    assert any("bad signature" in rec.getMessage() for rec in caplog.records)
    await b.close()


async def test_answer_for_the_wrong_ceremony_type_is_refused(server: Server, ada: Browser) -> None:
    """clientDataJSON of type webauthn.create is not a sign-in."""
    b = await fresh(server, ada.authenticator)
    refusal(await sign_in(b, kind="webauthn.create"), 401, "unauthorized", "webauthn.create")
    await b.close()


async def test_sign_count_regression_is_refused_and_logged_as_a_possible_clone(
    server: Server, ada: Browser, caplog: pytest.LogCaptureFixture
) -> None:
    """A genuine signature with a counter that went back is refused; the next real one is accepted."""
    b = await fresh(server, ada.authenticator)
    assert (await sign_in(b)).status_code == 200  # counter 1
    assert (await sign_in(b)).status_code == 200  # counter 2
    with caplog.at_level(logging.WARNING, logger="companion.passkeys"):
        r = await sign_in(b, sign_count=1)
    refusal(r, 401, "unauthorized", "counter went back (1 after 2)")
    clones = [rec for rec in caplog.records if "possible cloned authenticator" in rec.getMessage()]
    assert clones and clones[0].levelno == logging.ERROR
    assert (await sign_in(b)).status_code == 200  # the authenticator's own counter is now 3
    await b.close()


async def test_a_passkey_that_always_answers_zero_is_accepted(server: Server) -> None:
    """Synced passkeys keep no counter (always 0): that is not a regression."""
    b = new_browser(server)
    b.authenticator.counter_step = 0
    assert (await enrol(b, await invite(server, "ada@example.org"))).status_code == 201
    assert (await sign_in(b)).status_code == 200
    assert (await sign_in(b)).status_code == 200
    await b.close()


async def test_sign_in_bodies_are_strict(server: Server, ada: Browser) -> None:
    """A credential that is not a WebAuthn answer, or a challenge id of the wrong type, is invalid."""
    b = await fresh(server, ada.authenticator)
    begun = await begin_login(b)
    refusal(await finish_login(b, begun, {"id": "x"}), 400, "invalid", "credential")
    r = await b.http.post("/api/login/finish", json={"challenge_id": 5, "credential": {}})
    assert r.status_code == 400 and "challenge_id" in r.json()["error"]["message"]
    r = await b.http.post("/api/login/finish", content=b"[]", headers={"content-type": "application/json"})
    assert r.status_code == 400
    await b.close()


async def test_a_disabled_staff_member_cannot_sign_in(server: Server, ada: Browser) -> None:
    """After an admin disables Ada, her genuine passkey is refused; enabling her lets her in again."""
    r = await server.api("POST", "/api/staff/ada@example.org/disable")
    assert r.status_code == 200, r.text
    b = await fresh(server, ada.authenticator)
    refusal(await sign_in(b), 401, "unauthorized", "disabled")
    assert (await server.api("POST", "/api/staff/ada@example.org/enable")).status_code == 200
    assert (await sign_in(b)).status_code == 200
    await b.close()


async def test_sign_in_attempts_are_rate_limited(tmp_path: Path) -> None:
    """Past the budget of attempts a minute, sign-in answers rate_limited."""
    async with running_server(tmp_path, signin_attempts_per_minute=3) as srv:
        b = new_browser(srv)
        for _ in range(3):
            assert (await b.http.post("/api/login/begin")).status_code == 200
        r = await b.http.post("/api/login/begin")
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
        r = await b.http.post("/api/login/finish", json={"challenge_id": "x", "credential": {}})
        assert r.status_code == 429
        await b.close()


# ---------------------------------------------------------------- several passkeys


async def test_a_person_adds_names_and_removes_passkeys(server: Server, ada: Browser) -> None:
    """A second passkey on another device; both sign in; one is renamed, then removed; the last one stays."""
    phone = SoftAuthenticator(server.settings.public_url)
    r = await ada.send("POST", "/api/me/passkeys/begin")
    assert r.status_code == 200, r.text
    begun = r.json()
    first_id = ada.authenticator.credentials[0].credential_id
    assert [d["id"] for d in begun["publicKey"]["excludeCredentials"]] == [b64url(first_id)]
    r = await ada.send(
        "POST",
        "/api/me/passkeys/finish",
        {"challenge_id": begun["challenge_id"], "credential": phone.create(begun["publicKey"]), "label": "Phone"},
    )
    assert r.status_code == 201, r.text
    phone_key = r.json()
    keys = (await ada.http.get("/api/me/passkeys")).json()["passkeys"]
    assert sorted(k["label"] for k in keys) == ["First passkey", "Phone"]

    for authenticator in (ada.authenticator, phone):
        b = await fresh(server, authenticator)
        assert (await sign_in(b)).status_code == 200
        await b.close()

    r = await ada.send("PATCH", f"/api/me/passkeys/{phone_key['id']}", {"label": "  Work phone "})
    assert r.status_code == 200 and r.json()["label"] == "Work phone"
    r = await ada.send("DELETE", f"/api/me/passkeys/{phone_key['id']}")
    assert r.status_code == 200 and r.json()["removed"] is True
    b = await fresh(server, phone)
    refusal(await sign_in(b), 401, "unauthorized", "unknown passkey")
    await b.close()
    last = (await ada.http.get("/api/me/passkeys")).json()["passkeys"][0]["id"]
    r = await ada.send("DELETE", f"/api/me/passkeys/{last}")
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"


async def test_passkey_labels_are_checked(server: Server, ada: Browser) -> None:
    """A label must be a non-empty string of at most 100 characters."""
    key = (await ada.http.get("/api/me/passkeys")).json()["passkeys"][0]["id"]
    for bad in ({"label": ""}, {"label": 3}, {"label": "x" * 101}, {}):
        r = await ada.send("PATCH", f"/api/me/passkeys/{key}", bad)
        assert r.status_code == 400 and "label" in r.json()["error"]["message"], (bad, r.text)
    assert (await ada.send("PATCH", f"/api/me/passkeys/{key}", {"label": "Desk"})).status_code == 200


async def test_passkeys_of_others_are_out_of_reach(server: Server, ada: Browser) -> None:
    """Another staff member can neither rename nor remove Ada's passkey."""
    key = (await ada.http.get("/api/me/passkeys")).json()["passkeys"][0]["id"]
    bob = await enrolled(server, "bob@example.org", "support")
    assert (await bob.send("PATCH", f"/api/me/passkeys/{key}", {"label": "mine"})).status_code == 404
    assert (await bob.send("DELETE", f"/api/me/passkeys/{key}")).status_code == 404
    labels = [k["label"] for k in (await ada.http.get("/api/me/passkeys")).json()["passkeys"]]
    assert labels == ["First passkey"]
    await bob.close()


async def test_a_token_without_email_has_no_passkeys(server: Server) -> None:
    """The bare admin token is not a person: its passkey list is forbidden."""
    r = await server.api("GET", "/api/me/passkeys")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
