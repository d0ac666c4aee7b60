"""video.zoom against a local stand-in for Zoom's documented API (tests/fakes/zoom.py), request by request."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from core.video import Meeting, Occurrence, ProviderError
from tests.fakes.zoom import FakeZoom
from tests.video.support import AGENDA, BERLIN, FIRST, TOPIC, Ticks, epoch_ms, one_session, utc, weekly
from video.zoom import ZoomProvider


async def test_one_session_is_a_scheduled_meeting_at_local_time_in_its_zone(zoom: FakeZoom) -> None:
    [meeting] = await ZoomProvider(zoom.settings()).create(one_session())

    token, create = zoom.requests
    basic = base64.b64encode(f"{zoom.CLIENT_ID}:{zoom.CLIENT_SECRET}".encode()).decode()
    assert token.line == "POST /oauth/token"
    assert token.headers["authorization"] == f"Basic {basic}"
    assert token.headers["content-type"] == "application/x-www-form-urlencoded"
    assert token.body == {"grant_type": "account_credentials", "account_id": zoom.ACCOUNT_ID}
    assert create.line == "POST /v2/users/me/meetings"
    assert create.headers["authorization"] == "Bearer zoom-access-token-1"
    assert create.headers["content-type"] == "application/json"
    assert create.query == {}
    assert create.body == {
        "topic": TOPIC,
        "type": 2,
        "start_time": "2026-03-24T10:00:00",  # Berlin's wall clock, with its zone beside it
        "timezone": BERLIN,
        "duration": 60,
        "agenda": AGENDA,
    }
    booked = zoom.meetings[int(meeting.meeting_id or "0")]
    assert booked["start_time"] == "2026-03-24T09:00:00Z"
    assert meeting == Meeting("zoom", str(booked["id"]), None, booked["join_url"])


async def test_no_agenda_sends_none(zoom: FakeZoom) -> None:
    await ZoomProvider(zoom.settings()).create(one_session(agenda=None))
    (create,) = zoom.of("POST /v2/users/me/meetings")
    assert "agenda" not in create.body


async def test_a_weekly_series_across_daylight_saving_is_one_recurring_meeting_with_its_occurrences(
    zoom: FakeZoom,
) -> None:
    spec = weekly(count=3)
    # 10:00 in Berlin each Tuesday: 09:00 UTC in winter, 08:00 UTC after the clocks go forward on 29 March.
    assert [o.starts_at for o in spec.occurrences] == [utc(2026, 3, 24, 9), utc(2026, 3, 31, 8), utc(2026, 4, 7, 8)]

    meetings = await ZoomProvider(zoom.settings()).create(spec)

    (create,) = zoom.of("POST /v2/users/me/meetings")
    assert create.body == {
        "topic": TOPIC,
        "type": 8,
        "start_time": "2026-03-24T10:00:00",
        "timezone": BERLIN,
        "duration": 60,
        "agenda": AGENDA,
        "recurrence": {"type": 2, "repeat_interval": 1, "weekly_days": "3", "end_times": 3},  # 3: Tuesday
    }
    (booked,) = zoom.meetings.values()
    listed = booked["occurrences"]
    assert [o["start_time"] for o in listed] == ["2026-03-24T09:00:00Z", "2026-03-31T08:00:00Z", "2026-04-07T08:00:00Z"]
    assert meetings == [Meeting("zoom", str(booked["id"]), o["occurrence_id"], booked["join_url"]) for o in listed]
    assert [m.occurrence_id for m in meetings] == [epoch_ms(o.starts_at) for o in spec.occurrences]


async def test_several_weekdays_are_counted_from_sunday(zoom: FakeZoom) -> None:
    spec = weekly(count=5, days=("TH", "SU", "TU"))
    meetings = await ZoomProvider(zoom.settings()).create(spec)

    (create,) = zoom.of("POST /v2/users/me/meetings")
    assert create.body["recurrence"] == {"type": 2, "repeat_interval": 1, "weekly_days": "1,3,5", "end_times": 5}
    # Tuesday and Thursday in winter time, then Sunday 29 March (the day the clocks change), Tuesday, Thursday.
    starts = [utc(2026, 3, 24, 9), utc(2026, 3, 26, 9), utc(2026, 3, 29, 8), utc(2026, 3, 31, 8), utc(2026, 4, 2, 8)]
    assert [o.starts_at for o in spec.occurrences] == starts
    assert [m.occurrence_id for m in meetings] == [epoch_ms(s) for s in starts]


async def test_a_series_longer_than_fifty_is_booked_as_several_recurring_meetings(zoom: FakeZoom) -> None:
    spec = weekly(count=60)
    meetings = await ZoomProvider(zoom.settings()).create(spec)

    first, second = zoom.of("POST /v2/users/me/meetings")
    assert first.body["recurrence"]["end_times"] == 50
    assert second.body["recurrence"]["end_times"] == 10
    # The 51st Tuesday, 9 March 2027: 10:00 in Berlin again, in winter time.
    assert spec.occurrences[50].starts_at == utc(2027, 3, 9, 9)
    assert second.body["start_time"] == "2027-03-09T10:00:00"
    assert second.body["timezone"] == BERLIN
    ids = [m.meeting_id for m in meetings]
    assert len(set(ids[:50])) == 1 and len(set(ids[50:])) == 1 and ids[0] != ids[50]
    assert [m.occurrence_id for m in meetings] == [epoch_ms(o.starts_at) for o in spec.occurrences]
    assert meetings[0].join_url != meetings[50].join_url


async def test_the_second_part_of_a_long_series_failing_deletes_the_first(zoom: FakeZoom) -> None:
    zoom.fail(500, match="POST /v2/users/me/meetings", after=1)
    with pytest.raises(ProviderError, match="Zoom could not create the recurring meeting: it failed"):
        await ZoomProvider(zoom.settings()).create(weekly(count=60))

    assert len(zoom.of("POST /v2/users/me/meetings")) == 2
    (delete,) = zoom.of("DELETE /v2/meetings/")
    assert delete.query == {}  # the whole meeting
    assert zoom.meetings == {}


async def test_occurrences_that_do_not_start_when_the_sessions_do_are_refused_and_deleted(zoom: FakeZoom) -> None:
    zoom.occurrence_shift = timedelta(hours=1)  # a Zoom that expands the series an hour off
    with pytest.raises(ProviderError) as caught:
        await ZoomProvider(zoom.settings()).create(weekly(count=3))

    assert str(caught.value) == (
        "Zoom could not create the recurring meeting: it listed 3 occurrences for a series of 3 sessions; "
        "none starts at 2026-03-24T09:00:00Z"
    )
    assert len(zoom.of("POST /v2/users/me/meetings")) == 1
    (delete,) = zoom.of("DELETE /v2/meetings/")
    assert delete.query == {}
    assert zoom.meetings == {}  # the one meeting there was is the one deleted


async def test_updating_an_occurrence_patches_it_alone_in_utc(zoom: FakeZoom) -> None:
    provider = ZoomProvider(zoom.settings())
    meetings = await provider.create(weekly(count=3))
    second = meetings[1]

    moved = await provider.update(
        second, Occurrence(utc(2026, 3, 31, 7, 30), 90), topic=TOPIC, timezone=BERLIN, agenda="Moved"
    )

    (patch,) = zoom.of("PATCH")
    assert patch.path == f"/v2/meetings/{second.meeting_id}"
    assert patch.query == {"occurrence_id": second.occurrence_id}
    assert patch.body == {"start_time": "2026-03-31T07:30:00Z", "duration": 90, "agenda": "Moved"}
    assert moved == second
    (booked,) = zoom.meetings.values()
    assert [(o["start_time"], o["duration"]) for o in booked["occurrences"]] == [
        ("2026-03-24T09:00:00Z", 60),
        ("2026-03-31T07:30:00Z", 90),
        ("2026-04-07T08:00:00Z", 60),
    ]


async def test_updating_a_single_meeting_patches_topic_time_zone_and_agenda(zoom: FakeZoom) -> None:
    provider = ZoomProvider(zoom.settings())
    [meeting] = await provider.create(one_session())

    later = Occurrence(FIRST + timedelta(hours=1), 45)
    assert await provider.update(meeting, later, topic="Renamed", timezone=BERLIN, agenda=None) == meeting

    (patch,) = zoom.of("PATCH")
    assert patch.path == f"/v2/meetings/{meeting.meeting_id}"
    assert patch.query == {}
    assert patch.body == {
        "topic": "Renamed",
        "start_time": "2026-03-24T11:00:00",
        "timezone": BERLIN,
        "duration": 45,
        "agenda": "",  # no agenda any more
    }
    booked = zoom.meetings[int(meeting.meeting_id or "0")]
    assert (booked["topic"], booked["start_time"], booked["duration"]) == ("Renamed", "2026-03-24T10:00:00Z", 45)


async def test_updating_a_meeting_zoom_no_longer_has_is_refused_with_zooms_words(zoom: FakeZoom) -> None:
    gone = Meeting("zoom", "85000000999", None, "https://us06web.zoom.us/j/85000000999")
    with pytest.raises(ProviderError) as caught:
        await ZoomProvider(zoom.settings()).update(
            gone, Occurrence(FIRST, 60), topic=TOPIC, timezone=BERLIN, agenda=None
        )
    assert str(caught.value) == (
        "Zoom could not update the meeting: it did not accept the request "
        "(HTTP 404: 3001: Meeting does not exist: 85000000999.)"
    )


async def test_deleting_an_occurrence_deletes_it_alone_and_one_already_gone_is_done(zoom: FakeZoom) -> None:
    provider = ZoomProvider(zoom.settings())
    meetings = await provider.create(weekly(count=3))

    await provider.delete(meetings[0])
    await provider.delete(meetings[0])  # Zoom answers 404: already deleted counts as deleted

    expected = (f"/v2/meetings/{meetings[0].meeting_id}", {"occurrence_id": meetings[0].occurrence_id})
    assert [(r.path, r.query) for r in zoom.of("DELETE")] == [expected] * 2
    (booked,) = zoom.meetings.values()
    assert [o["status"] for o in booked["occurrences"]] == ["deleted", "available", "available"]


async def test_deleting_a_single_meeting_twice(zoom: FakeZoom) -> None:
    provider = ZoomProvider(zoom.settings())
    [meeting] = await provider.create(one_session())
    await provider.delete(meeting)
    await provider.delete(meeting)
    assert [(r.path, r.query) for r in zoom.of("DELETE")] == [(f"/v2/meetings/{meeting.meeting_id}", {})] * 2
    assert zoom.meetings == {}


async def test_capacity_is_the_accounts_meeting_capacity_or_its_large_meeting_one(zoom: FakeZoom) -> None:
    provider = ZoomProvider(zoom.settings())
    assert await provider.capacity() == 300
    (read,) = zoom.of("GET")
    assert (read.path, read.query) == ("/v2/users/me/settings", {})

    zoom.feature.update(large_meeting=True, large_meeting_capacity=1000)
    assert await provider.capacity() == 1000
    zoom.feature.update(large_meeting=False)
    assert await provider.capacity() == 300
    zoom.feature.clear()
    assert await provider.capacity() is None


async def test_one_token_serves_until_shortly_before_it_expires(zoom: FakeZoom) -> None:
    ticks = Ticks()
    provider = ZoomProvider(zoom.settings(), clock=ticks)
    await provider.capacity()
    ticks.now += 3600 - 61  # a minute and a second left: still good
    await provider.capacity()
    assert len(zoom.of("POST /oauth/token")) == 1

    ticks.now += 2  # under a minute left: a fresh one first
    await provider.capacity()
    assert len(zoom.of("POST /oauth/token")) == 2
    assert zoom.of("GET")[-1].headers["authorization"] == "Bearer zoom-access-token-2"


async def test_a_refused_token_is_replaced_once_and_the_call_repeated(zoom: FakeZoom) -> None:
    provider = ZoomProvider(zoom.settings())
    await provider.capacity()
    zoom.expire_tokens()  # revoked, or expired early

    assert await provider.capacity() == 300
    assert [r.line for r in zoom.requests] == [
        "POST /oauth/token",
        "GET /v2/users/me/settings",
        "GET /v2/users/me/settings",  # 401
        "POST /oauth/token",
        "GET /v2/users/me/settings",
    ]
    assert [r.headers["authorization"] for r in zoom.of("GET")] == [f"Bearer zoom-access-token-{n}" for n in (1, 1, 2)]


async def test_a_meeting_of_another_provider_is_a_programming_error(zoom: FakeZoom) -> None:
    with pytest.raises(ValueError, match="not a Zoom meeting"):
        await ZoomProvider(zoom.settings()).delete(Meeting("manual", None, None, "https://example.org/room"))
    assert zoom.requests == []
