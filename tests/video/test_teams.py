"""video.teams against a local stand-in for the documented Graph onlineMeetings API (tests/fakes/graph.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.video import Meeting, Occurrence, ProviderError
from tests.fakes.graph import FakeGraph
from tests.video.support import BERLIN, FIRST, TOPIC, Ticks, one_session, utc, weekly
from video.teams import TeamsProvider


async def test_one_session_is_one_online_meeting_in_utc(graph: FakeGraph) -> None:
    [meeting] = await TeamsProvider(graph.settings()).create(one_session())

    token, create = graph.requests
    assert token.line == f"POST /{graph.TENANT_ID}/oauth2/v2.0/token"
    assert token.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in token.headers  # Microsoft takes the secret in the form
    assert token.body == {
        "client_id": graph.CLIENT_ID,
        "client_secret": graph.CLIENT_SECRET,
        "scope": "https://graph.microsoft.com/.default",
        "grant_type": "client_credentials",
    }
    assert create.line == f"POST /v1.0/users/{graph.ORGANIZER}/onlineMeetings"
    assert create.headers["authorization"] == "Bearer graph-access-token-1"
    assert create.headers["content-type"] == "application/json"
    assert create.body == {
        "startDateTime": "2026-03-24T09:00:00Z",
        "endDateTime": "2026-03-24T10:00:00Z",
        "subject": TOPIC,
    }
    (booked,) = graph.meetings.values()
    assert meeting == Meeting("teams", booked["id"], None, booked["joinWebUrl"])
    assert booked["startDateTime"] == "2026-03-24T09:00:00.0000000Z"


async def test_a_weekly_series_is_one_online_meeting_per_occurrence_at_its_utc_time(graph: FakeGraph) -> None:
    meetings = await TeamsProvider(graph.settings()).create(weekly(count=3))

    creates = graph.of("POST /v1.0/users")
    # 10:00 in Berlin each week: the clocks go forward on 29 March, so UTC moves from 09:00 to 08:00.
    assert [(c.body["startDateTime"], c.body["endDateTime"]) for c in creates] == [
        ("2026-03-24T09:00:00Z", "2026-03-24T10:00:00Z"),
        ("2026-03-31T08:00:00Z", "2026-03-31T09:00:00Z"),
        ("2026-04-07T08:00:00Z", "2026-04-07T09:00:00Z"),
    ]
    assert all(c.body["subject"] == TOPIC for c in creates)
    booked = list(graph.meetings.values())
    assert meetings == [Meeting("teams", b["id"], None, b["joinWebUrl"]) for b in booked]
    assert len({m.join_url for m in meetings}) == 3


async def test_a_series_that_fails_midway_deletes_the_meetings_already_created(graph: FakeGraph) -> None:
    graph.fail(500, match="POST /v1.0/users", after=2)
    with pytest.raises(ProviderError, match="Microsoft Teams could not create the meeting: it failed"):
        await TeamsProvider(graph.settings()).create(weekly(count=3))

    assert len(graph.of("POST /v1.0/users")) == 3
    assert len(graph.of("DELETE")) == 2
    assert graph.meetings == {}


async def test_updating_patches_start_end_and_subject(graph: FakeGraph) -> None:
    provider = TeamsProvider(graph.settings())
    [meeting] = await provider.create(one_session())

    later = Occurrence(FIRST + timedelta(minutes=30), 90)
    updated = await provider.update(meeting, later, topic="Renamed", timezone=BERLIN, agenda="ignored")

    (patch,) = graph.of("PATCH")
    assert patch.raw_path == f"/v1.0/users/{graph.ORGANIZER}/onlineMeetings/{meeting.meeting_id}"  # as Graph wrote it
    assert patch.body == {
        "startDateTime": "2026-03-24T09:30:00Z",
        "endDateTime": "2026-03-24T11:00:00Z",
        "subject": "Renamed",
    }
    assert updated == meeting
    booked = graph.meetings[meeting.meeting_id or ""]
    assert (booked["startDateTime"], booked["endDateTime"], booked["subject"]) == (
        "2026-03-24T09:30:00.0000000Z",
        "2026-03-24T11:00:00.0000000Z",
        "Renamed",
    )


async def test_an_update_answered_without_the_link_keeps_the_link_it_had(graph: FakeGraph) -> None:
    provider = TeamsProvider(graph.settings())
    [meeting] = await provider.create(one_session())
    graph.fail(200, match="PATCH", body={"id": meeting.meeting_id})  # done, but the answer is cut short
    assert await provider.update(meeting, Occurrence(FIRST, 30), topic=TOPIC, timezone=BERLIN, agenda=None) == meeting


async def test_deleting_removes_the_meeting_and_one_already_gone_is_done(graph: FakeGraph) -> None:
    provider = TeamsProvider(graph.settings())
    [meeting] = await provider.create(one_session())
    await provider.delete(meeting)
    await provider.delete(meeting)  # Graph answers 404

    assert len(graph.of("DELETE")) == 2
    assert graph.meetings == {}


async def test_an_id_goes_into_the_path_as_one_segment(graph: FakeGraph) -> None:
    odd = Meeting("teams", "MSo1N2Y5/ZGFj+Yy0=?x#y%z", None, "https://teams.microsoft.com/l/meetup-join/x")
    await TeamsProvider(graph.settings()).delete(odd)
    (delete,) = graph.of("DELETE")
    assert delete.raw_path == f"/v1.0/users/{graph.ORGANIZER}/onlineMeetings/MSo1N2Y5%2FZGFj+Yy0=%3Fx%23y%25z"
    assert delete.path.endswith("/onlineMeetings/MSo1N2Y5/ZGFj+Yy0=?x#y%z")


async def test_updating_a_meeting_graph_no_longer_has_is_refused(graph: FakeGraph) -> None:
    gone = Meeting("teams", "MSpkYzE3Njc0Yy04MWQ5LTRhZGItYmZi", None, "https://teams.microsoft.com/l/meetup-join/x")
    with pytest.raises(ProviderError) as caught:
        await TeamsProvider(graph.settings()).update(
            gone, Occurrence(utc(2026, 3, 24, 9), 60), topic=TOPIC, timezone=BERLIN, agenda=None
        )
    assert str(caught.value) == (
        "Microsoft Teams could not update the meeting: it did not accept the request "
        "(HTTP 404: itemNotFound: The online meeting was not found.)"
    )


async def test_capacity_is_the_configured_one_and_asks_graph_nothing(graph: FakeGraph) -> None:
    assert await TeamsProvider(graph.settings()).capacity() is None
    assert await TeamsProvider(graph.settings(capacity=250)).capacity() == 250
    assert graph.requests == []


async def test_one_token_serves_until_shortly_before_it_expires(graph: FakeGraph) -> None:
    ticks = Ticks()
    provider = TeamsProvider(graph.settings(), clock=ticks)
    [meeting] = await provider.create(one_session())
    ticks.now += 3599 - 61
    await provider.delete(meeting)
    assert len(graph.of("POST /" + graph.TENANT_ID)) == 1

    ticks.now += 2
    await provider.create(one_session())
    assert len(graph.of("POST /" + graph.TENANT_ID)) == 2


async def test_a_refused_token_is_replaced_once_and_the_call_repeated(graph: FakeGraph) -> None:
    provider = TeamsProvider(graph.settings())
    await provider.create(one_session())
    graph.expire_tokens()

    await provider.create(one_session())
    token = f"POST /{graph.TENANT_ID}/oauth2/v2.0/token"
    create = f"POST /v1.0/users/{graph.ORGANIZER}/onlineMeetings"
    assert [r.line for r in graph.requests] == [token, create, create, token, create]
    assert len(graph.meetings) == 2


async def test_a_meeting_of_another_provider_is_a_programming_error(graph: FakeGraph) -> None:
    with pytest.raises(ValueError, match="not a Teams meeting"):
        await TeamsProvider(graph.settings()).delete(Meeting("zoom", "85000000001", "1", "https://zoom.example/j/1"))
    assert graph.requests == []
