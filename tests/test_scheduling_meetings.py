"""Booking, moving and deleting the meeting on the video platform as sessions are scheduled, rescheduled and
cancelled over HTTP, with the server's Zoom and Teams adapters pointed at local stand-ins of their APIs
(tests/fakes/): Zoom and Microsoft cannot be reached from here. A platform's failure leaves the sessions as
they were, with a clear `unavailable`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.graph import FakeGraph
from tests.fakes.zoom import FakeZoom
from tests.support import Server, ok, refused, running_server


@pytest.fixture
async def platforms() -> AsyncIterator[tuple[FakeZoom, FakeGraph]]:
    async with FakeZoom().running() as zoom, FakeGraph().running() as graph:
        yield zoom, graph


@pytest.fixture
async def booked(
    tmp_path: Path, backing: dict[str, Any], platforms: tuple[FakeZoom, FakeGraph]
) -> AsyncIterator[Server]:
    zoom, graph = platforms
    async with running_server(tmp_path, zoom=zoom.settings(), msgraph=graph.settings(), **backing) as srv:
        yield srv


def series(platform: str, **fields: Any) -> dict[str, Any]:
    return {
        "topic": "Signals",
        "instructor_email": "lecturer@example.org",
        "starts_at": "2038-03-16T10:00:00+01:00",
        "duration_minutes": 60,
        "timezone": "Europe/Berlin",
        "platform": platform,
        "recurrence": {"freq": "weekly", "count": 3},
        **fields,
    }


async def listed(server: Server) -> list[dict[str, Any]]:
    sessions: list[dict[str, Any]] = ok(await server.api("GET", "/api/sessions"))["sessions"]
    return sessions


async def test_a_zoom_series_is_one_recurring_meeting_moved_and_deleted_with_its_sessions(
    booked: Server, platforms: tuple[FakeZoom, FakeGraph]
) -> None:
    zoom, _ = platforms
    made = ok(await booked.api("POST", "/api/sessions", series("zoom")))["sessions"]
    [create] = zoom.of("POST /v2/users/me/meetings")
    assert create.body["type"] == 8 and create.body["timezone"] == "Europe/Berlin"
    assert create.body["start_time"] == "2038-03-16T10:00:00"
    assert create.body["recurrence"]["weekly_days"] == "3" and create.body["recurrence"]["end_times"] == 3
    [meeting] = zoom.meetings.values()
    assert {s["join_url"] for s in made} == {meeting["join_url"]}
    assert all(s["meeting"] == {"provider": "zoom", "id": str(meeting["id"])} for s in made)

    moved = ok(await booked.api("PATCH", f"/api/sessions/{made[1]['id']}", {"starts_at": "2038-03-23T11:00:00+01:00"}))
    assert moved["starts_at"] == "2038-03-23T10:00:00.000Z"
    [patch] = zoom.of("PATCH /v2/meetings/")
    occurrence = patch.query["occurrence_id"]
    assert patch.path == f"/v2/meetings/{meeting['id']}" and patch.body["start_time"] == "2038-03-23T10:00:00Z"

    ok(await booked.api("POST", f"/api/sessions/{made[1]['id']}/cancel", {"reason": "ill"}))
    [delete] = zoom.of("DELETE /v2/meetings/")
    assert delete.query == {"occurrence_id": occurrence}
    assert [s["status"] for s in await listed(booked)] == ["scheduled", "cancelled", "scheduled"]


async def test_when_zoom_fails_nothing_is_booked_moved_or_cancelled(
    booked: Server, platforms: tuple[FakeZoom, FakeGraph]
) -> None:
    zoom, _ = platforms
    zoom.fail(500, match="POST /v2/users/me/meetings")
    answer = refused(await booked.api("POST", "/api/sessions", series("zoom")), "unavailable")
    assert "zoom" in answer["error"]["message"].lower()
    assert await listed(booked) == [] and zoom.meetings == {}

    made = ok(await booked.api("POST", "/api/sessions", series("zoom")))["sessions"]
    zoom.fail(503, match="PATCH /v2/meetings/")
    refused(
        await booked.api("PATCH", f"/api/sessions/{made[0]['id']}", {"starts_at": "2038-03-16T12:00:00+01:00"}),
        "unavailable",
    )
    zoom.fail(500, match="DELETE /v2/meetings/")
    refused(await booked.api("POST", f"/api/sessions/{made[0]['id']}/cancel", {"reason": "ill"}), "unavailable")
    after = await listed(booked)
    assert [(s["starts_at"], s["status"]) for s in after] == [(s["starts_at"], "scheduled") for s in made]
    assert await booked.api("GET", "/api/audit") and ok(await booked.api("GET", "/api/audit"))["entries"] == []


async def test_the_hosts_zoom_account_limits_the_capacity(
    booked: Server, platforms: tuple[FakeZoom, FakeGraph]
) -> None:
    zoom, _ = platforms
    zoom.feature["meeting_capacity"] = 100  # a smaller plan than the catalogue's 300
    answer = refused(
        await booked.api("POST", "/api/sessions", series("zoom", expected_participants=150)), "conflict", "account"
    )
    assert [p["kind"] for p in answer["error"]["problems"]] == ["capacity"]
    assert zoom.meetings == {}
    ok(await booked.api("POST", "/api/sessions", series("zoom", expected_participants=150, override_reason="big room")))


async def test_a_teams_series_is_one_online_meeting_per_session(
    booked: Server, platforms: tuple[FakeZoom, FakeGraph]
) -> None:
    _, graph = platforms
    made = ok(await booked.api("POST", "/api/sessions", series("teams")))["sessions"]
    creates = graph.of("POST /v1.0/users/")
    assert [c.body["startDateTime"] for c in creates] == [
        "2038-03-16T09:00:00Z",
        "2038-03-23T09:00:00Z",
        "2038-03-30T08:00:00Z",  # 10:00 in Berlin, summer time from 28 March
    ]
    assert len({s["join_url"] for s in made}) == 3 and all(s["meeting"]["provider"] == "teams" for s in made)
    ok(await booked.api("POST", f"/api/sessions/{made[2]['id']}/cancel", {"reason": "holiday"}))
    assert len(graph.of("DELETE /v1.0/users/")) == 1


async def test_a_manual_link_is_kept_as_pasted(booked: Server, platforms: tuple[FakeZoom, FakeGraph]) -> None:
    zoom, graph = platforms
    made = ok(await booked.api("POST", "/api/sessions", series("bbb", join_url="https://bbb.example.edu/b/sig-nal")))[
        "sessions"
    ]
    assert {s["join_url"] for s in made} == {"https://bbb.example.edu/b/sig-nal"}
    assert all(s["meeting"] == {"provider": "manual", "id": None} for s in made)
    assert zoom.requests == [] and graph.requests == []
