"""The setup check's server side: its page, the ping and download it measures the network with, the
platform guide, and `help:open` with `pre_class` (contract part 2, Preparation)."""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from core import setupguide
from core.platforms import BUILT_IN
from server.setup import DEFAULT_DOWNLOAD_BYTES, MAX_DOWNLOAD_BYTES
from tests.support import Class, Server, ok, refused

# ---------------------------------------------------------------- the page


async def test_the_page_is_served_and_may_use_camera_and_microphone(server: Server) -> None:
    """/setup/{id} is the setup page; it alone lets itself use the camera and microphone."""
    session = await server.session()
    r = await server.http.get(f"/setup/{session['id']}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "/static/js/pages/setup.js" in r.text
    policy = r.headers.get_list("permissions-policy")
    assert policy == ["camera=(self), microphone=(self), geolocation=()"]
    assert "content-security-policy" in r.headers and r.headers["x-content-type-options"] == "nosniff"
    # Every other page still forbids them.
    other = await server.http.get(f"/join/{session['id']}")
    assert other.headers.get_list("permissions-policy") == ["camera=(), microphone=(), geolocation=()"]


# ---------------------------------------------------------------- ping and download


async def test_ping_answers_204_never_cached_without_a_token(server: Server) -> None:
    r = await server.http.get("/api/setup/ping")
    assert (r.status_code, r.content, r.headers["cache-control"]) == (204, b"", "no-store")
    r = await server.http.head("/api/setup/ping")
    assert r.status_code == 204


async def test_download_answers_the_bytes_asked_for_to_anyone_with_a_token(server: Server) -> None:
    """Participants and every staff role may download; the bytes are random and never cached."""
    session = await server.session()
    people = await server.participants(session["id"], 1)
    tokens = [people[0]["token"], server.admin_token]
    tokens += [await server.token(role, role.title()) for role in ("instructor", "support")]
    for token in tokens:
        r = await server.api("GET", "/api/setup/download?bytes=1000", token=token)
        assert r.status_code == 200, r.text
        assert len(r.content) == 1000
        assert r.headers["content-type"] == "application/octet-stream"
        assert r.headers["cache-control"] == "no-store"
    r = await server.api("GET", "/api/setup/download", token=people[0]["token"])
    assert len(r.content) == DEFAULT_DOWNLOAD_BYTES
    r = await server.api("GET", f"/api/setup/download?bytes={MAX_DOWNLOAD_BYTES}", token=people[0]["token"])
    assert len(r.content) == MAX_DOWNLOAD_BYTES
    # Random enough that nothing on the way can compress it much: no byte value stands out (7-bit noise,
    # so it also reads as ASCII text).
    counts = [r.content.count(bytes([b])) for b in range(128)]
    assert max(counts) < 1.2 * MAX_DOWNLOAD_BYTES / 128 and max(r.content) < 128
    assert len(zlib.compress(r.content, 9)) > 0.85 * MAX_DOWNLOAD_BYTES


@pytest.mark.parametrize(
    "value", ["0", "-1", str(MAX_DOWNLOAD_BYTES + 1), "10000000000000000000000", "abc", "1.5", "", "1e3"]
)
async def test_download_refuses_bad_or_too_large_sizes(server: Server, value: str) -> None:
    """Past the cap, zero, negative or not a whole number: 400 naming `bytes`, never a 500."""
    r = await server.api("GET", f"/api/setup/download?bytes={value}")
    refused(r, "invalid", "bytes")


async def test_download_needs_a_valid_token(server: Server) -> None:
    refused(await server.http.get("/api/setup/download?bytes=10"), "unauthorized")
    refused(await server.api("GET", "/api/setup/download?bytes=10", token="nope"), "unauthorized")


# ---------------------------------------------------------------- the guide


async def test_the_guide_of_the_sessions_platform(server: Server) -> None:
    """A participant reads their session's platform, its browsers and its troubleshooting steps."""
    session = await server.session(platform="teams")
    people = await server.participants(session["id"], 1)
    body = ok(await server.api("GET", f"/api/sessions/{session['id']}/setup", token=people[0]["token"]))
    assert body["session_id"] == session["id"]
    assert body["platform"] == {"id": "teams", "name": "Microsoft Teams"}
    assert [b["id"] for b in body["browsers"]] == ["chrome", "edge", "firefox", "safari"]
    assert body["app"] == "Microsoft Teams"
    assert "Teams" in body["phone"]
    assert len(body["troubleshooting"]) >= 3 and all(isinstance(s, str) and s for s in body["troubleshooting"])
    assert any("Continue on this browser" in s for s in body["troubleshooting"])


async def test_a_session_without_a_platform_gets_the_general_guide(server: Server) -> None:
    for platform in (None, "other"):
        session = await server.session(platform=platform)
        body = ok(await server.api("GET", f"/api/sessions/{session['id']}/setup"))
        assert body["platform"] is None
        assert body["troubleshooting"] == list(setupguide.GENERAL.steps)


async def test_the_guide_is_for_the_sessions_own_people(server: Server) -> None:
    """Staff may read it; a participant of another session, an unknown token or none may not."""
    mine, other = await server.session(platform="zoom"), await server.session(platform="meet")
    stranger = (await server.participants(other["id"], 1))[0]["token"]
    path = f"/api/sessions/{mine['id']}/setup"
    for role in ("instructor", "support"):
        token = await server.token(role, role.title(), "teacher@example.org" if role == "instructor" else None)
        assert ok(await server.api("GET", path, token=token))["platform"]["id"] == "zoom"
    refused(await server.api("GET", path, token=stranger), "forbidden")
    refused(await server.http.get(path), "unauthorized")
    refused(await server.api("GET", "/api/sessions/no-such-session/setup"), "not_found")


def test_every_built_in_platform_has_a_guide() -> None:
    """Each platform of the catalogue but "other" has its own steps; each names known browsers only."""
    for platform in BUILT_IN:
        guide = setupguide.guide_for(platform.id)
        assert (guide is setupguide.GENERAL) == (platform.id == "other"), platform.id
        assert set(guide.browsers) <= set(setupguide.BROWSERS)
        assert 3 <= len(guide.steps) <= 6
    assert setupguide.guide_for("a-platform-added-by-toml") is setupguide.GENERAL


# ---------------------------------------------------------------- help:open with pre_class


def tickets(queue: dict[str, Any]) -> dict[str, bool]:
    return {t["ticket_id"]: t["pre_class"] for t in queue["tickets"]}


async def test_a_pre_class_ticket_before_the_start_is_marked_for_support(klass: Class) -> None:
    """The setup check's help:open (`pre_class: true`) before the start: support sees it pre-class."""
    p0 = klass.participants[0]
    ack = await p0.ok("help:open", {"category": "microphone", "text": "Setup check: no signal", "pre_class": True})
    assert ack["position"] == 1
    queue = await klass.support.wait_for("help:queue", lambda q: len(q["tickets"]) == 1)
    assert tickets(queue) == {ack["ticket_id"]: True}
    assert queue["tickets"][0]["category"] == "microphone"
    for staff in (klass.admin, klass.instructor):
        assert tickets(await staff.wait_for("help:queue", lambda q: len(q["tickets"]) == 1)) == {ack["ticket_id"]: True}
    state = await klass.support.ok("session:state", {})
    assert tickets({"tickets": state["tickets"]}) == {ack["ticket_id"]: True}


async def test_a_pre_class_ticket_once_live_is_a_normal_ticket(klass: Class) -> None:
    """Sent after the start, `pre_class: true` makes an ordinary ticket (not marked pre-class)."""
    await klass.instructor.ok("session:start", {})
    ack = await klass.participants[0].ok("help:open", {"category": "camera", "text": "black", "pre_class": True})
    queue = await klass.support.wait_for("help:queue", lambda q: len(q["tickets"]) == 1)
    assert tickets(queue) == {ack["ticket_id"]: False}


async def test_pre_class_keeps_the_usual_rules(klass: Class) -> None:
    """One open ticket each; staff may not open; a closed session refuses; pre_class must be a boolean."""
    p0, p1, _ = klass.participants
    first = await p0.ok("help:open", {"category": "speakers", "text": "", "pre_class": True})
    again = await p0.refused("help:open", {"category": "camera", "text": "x", "pre_class": True}, "conflict")
    assert again["ticket_id"] == first["ticket_id"]
    for staff in (klass.admin, klass.instructor, klass.support):
        await staff.refused("help:open", {"category": "audio", "text": "", "pre_class": True}, "forbidden")
    for bad in ("true", 1, None, [True], {"yes": True}):
        await p1.refused("help:open", {"category": "audio", "text": "", "pre_class": bad}, "invalid", "pre_class")
    assert (await p1.ok("help:open", {"category": "audio", "text": "", "pre_class": False}))["position"] == 2
    await klass.instructor.ok("session:close", {})
    await klass.participants[2].refused("help:open", {"category": "a", "text": "", "pre_class": True}, "conflict")
