"""Scheduling over HTTP (contract part 2, "Scheduling"): sessions and weekly series in their own time zone,
the refusals (the instructor's other sessions, the platform's capacity and features) and their override,
rescheduling one session or the rest of a series, cancelling, listing, the roster's overlap warnings, and
the audit log those write to."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.clock import FakeClock
from tests.support import Server, ok, refused

INSTRUCTOR = "lecturer@example.org"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def body(starts_at: str, **fields: Any) -> dict[str, Any]:
    return {
        "topic": "Linear algebra",
        "instructor_email": INSTRUCTOR,
        "starts_at": starts_at,
        "duration_minutes": 60,
        **fields,
    }


async def book(server: Server, starts_at: str, **fields: Any) -> dict[str, Any]:
    return ok(await server.api("POST", "/api/sessions", body(starts_at, **fields)))


async def listed(server: Server, **params: str) -> list[dict[str, Any]]:
    sessions: list[dict[str, Any]] = ok(await server.api("GET", "/api/sessions", params=params))["sessions"]
    return sessions


async def audit(server: Server, **params: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = ok(await server.api("GET", "/api/audit", params=params))["entries"]
    return entries


# ---------------------------------------------------------------- series in their own zone


async def test_a_weekly_series_keeps_its_local_time_across_two_daylight_saving_changes(server: Server) -> None:
    """Berlin at 10:00 every Tuesday from 2 March 2038 to 6 April: New York changes on 14 March, Berlin on
    28 March; the series is at 10:00 in Berlin throughout, so at 09:00 UTC then 08:00 UTC."""
    answer = ok(
        await server.api(
            "POST",
            "/api/sessions",
            body(
                "2038-03-02T10:00:00+01:00",
                timezone="Europe/Berlin",
                recurrence={"freq": "weekly", "until": "2038-04-06"},
            ),
        )
    )
    starts = [s["starts_at"] for s in answer["sessions"]]
    assert starts == [
        "2038-03-02T09:00:00.000Z",
        "2038-03-09T09:00:00.000Z",
        "2038-03-16T09:00:00.000Z",
        "2038-03-23T09:00:00.000Z",
        "2038-03-30T08:00:00.000Z",
        "2038-04-06T08:00:00.000Z",
    ]
    assert {s["series_id"] for s in answer["sessions"]} == {answer["series_id"]}
    assert all(s["timezone"] == "Europe/Berlin" and s["status"] == "scheduled" for s in answer["sessions"])
    # The same class seen from New York moves twice: 04:00, then 05:00 (NY's change), then 04:00 (Berlin's).
    assert [s["id"] for s in await listed(server, instructor_email=INSTRUCTOR)] == [s["id"] for s in answer["sessions"]]
    one = ok(await server.api("GET", f"/api/sessions/{answer['sessions'][4]['id']}"))
    assert one["series_id"] == answer["series_id"] and one["timezone"] == "Europe/Berlin"


async def test_a_new_york_series_moves_in_utc_when_new_york_changes(server: Server) -> None:
    answer = ok(
        await server.api(
            "POST",
            "/api/sessions",
            body(
                "2038-03-03T09:30:00-05:00",
                timezone="America/New_York",
                recurrence={"freq": "weekly", "count": 4, "byday": ["MO", "WE"]},
            ),
        )
    )
    assert [s["starts_at"] for s in answer["sessions"]] == [
        "2038-03-03T14:30:00.000Z",  # Wednesday, EST
        "2038-03-08T14:30:00.000Z",
        "2038-03-10T14:30:00.000Z",
        "2038-03-15T13:30:00.000Z",  # Monday, EDT from 14 March
    ]


async def test_bad_series_are_refused_and_nothing_is_written(server: Server) -> None:
    start = "2038-03-02T10:00:00+01:00"
    cases = [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "../etc/passwd"}, "timezone"),
        ({"recurrence": {"freq": "weekly", "count": 500}}, "200"),
        ({"recurrence": {"freq": "weekly", "until": "2048-03-02"}}, "200"),
        ({"recurrence": {"freq": "weekly", "until": "2038-03-01"}}, "until"),
        ({"recurrence": {"freq": "weekly", "until": "2038-02-30"}}, "until"),
        ({"recurrence": {"freq": "weekly", "count": 2, "until": "2038-04-01"}}, "exactly one"),
        ({"recurrence": {"freq": "weekly"}}, "exactly one"),
        ({"recurrence": {"freq": "daily", "count": 2}}, "freq"),
        ({"recurrence": {"freq": "weekly", "count": 2, "byday": ["WE"]}}, "byday"),
        ({"recurrence": {"freq": "weekly", "count": 2, "byday": ["TU", "TU"]}}, "byday"),
        ({"recurrence": {"freq": "weekly", "count": "2"}}, "count"),
        ({"platform": "webex"}, "platform"),
        ({"required_features": ["teleportation"]}, "required_features"),
    ]
    for fields, word in cases:
        refused(await server.api("POST", "/api/sessions", body(start, **fields)), "invalid", word)
    # Saturday and Sunday at 10:00 in Berlin over the night the clocks go forward are 23 hours apart:
    # a day-long class would overlap its own next occurrence.
    overlapping = body(
        "2038-03-27T10:00:00+01:00",
        timezone="Europe/Berlin",
        duration_minutes=24 * 60,
        recurrence={"freq": "weekly", "count": 2, "byday": ["SA", "SU"]},
    )
    refused(await server.api("POST", "/api/sessions", overlapping), "invalid", "overlap")
    assert await listed(server) == []


# ---------------------------------------------------------------- refusals and the override


async def test_an_instructor_is_not_booked_twice_at_once_for_any_occurrence(server: Server) -> None:
    """The third week of a new series meets an existing session: 409 naming it, before anything is written."""
    existing = await book(server, "2038-03-16T09:30:00Z", topic="Office hours")
    series = body("2038-03-02T09:00:00Z", recurrence={"freq": "weekly", "count": 5})
    answer = refused(await server.api("POST", "/api/sessions", series), "conflict", "instructor")
    assert answer["error"]["conflicts"] == [
        {"session_id": existing["id"], "topic": "Office hours", "starts_at": "2038-03-16T09:30:00.000Z"}
    ]
    assert [p["kind"] for p in answer["error"]["problems"]] == ["instructor_busy"]
    assert [s["id"] for s in await listed(server)] == [existing["id"]]
    # Another instructor, or the hour before (ending as it starts), is free; the email compares case-insensitively.
    ok(await server.api("POST", "/api/sessions", {**series, "instructor_email": "other@example.org"}))
    ok(await server.api("POST", "/api/sessions", body("2038-03-16T08:00:00Z")))
    refused(
        await server.api("POST", "/api/sessions", body("2038-03-16T10:00:00Z", instructor_email=INSTRUCTOR.upper())),
        "conflict",
    )
    # A cancelled session no longer takes the instructor's time.
    ok(await server.api("POST", f"/api/sessions/{existing['id']}/cancel", {"reason": "room closed"}))
    ok(await server.api("POST", "/api/sessions", series))


async def test_an_admin_overrides_a_refusal_with_a_reason_that_is_kept_and_audited(server: Server) -> None:
    first = await book(server, "2038-05-05T09:00:00Z")
    clash = body("2038-05-05T09:30:00Z", platform="bbb", expected_participants=150, required_features=["dial_in"])
    answer = refused(await server.api("POST", "/api/sessions", clash), "conflict")
    assert [p["kind"] for p in answer["error"]["problems"]] == ["instructor_busy", "capacity"]
    assert answer["error"]["missing_features"] == []  # BigBlueButton has dial-in
    assert "150" in answer["error"]["message"] and "100" in answer["error"]["message"]
    made = ok(await server.api("POST", "/api/sessions", {**clash, "override_reason": "the dean's lecture"}))
    assert made["override_reason"] == "the dean's lecture" and made["expected_participants"] == 150
    [entry] = await audit(server, action="override")
    assert entry["target"] == f"session:{made['id']}" and entry["session_id"] == made["id"]
    assert entry["detail"]["reason"] == "the dean's lecture"
    assert [p["kind"] for p in entry["detail"]["overridden"]] == ["instructor_busy", "capacity"]
    assert entry["actor"].startswith("token:")  # the bootstrap admin token has no email
    assert first["id"] != made["id"]


async def test_a_platform_that_lacks_a_required_feature_is_refused_naming_it(server: Server) -> None:
    answer = refused(
        await server.api(
            "POST", "/api/sessions", body("2038-05-06T09:00:00Z", platform="meet", required_features=["waiting_room"])
        ),
        "conflict",
        "waiting_room",
    )
    assert answer["error"]["missing_features"] == ["waiting_room"]
    ok(
        await server.api(
            "POST", "/api/sessions", body("2038-05-06T09:00:00Z", platform="zoom", required_features=["waiting_room"])
        )
    )
    # A feature with no platform to provide it is a refusal too.
    refused(
        await server.api("POST", "/api/sessions", body("2038-05-07T09:00:00Z", required_features=["recording"])),
        "conflict",
        "recording",
    )


# ---------------------------------------------------------------- changing and cancelling


async def test_rescheduling_the_rest_of_a_series_moves_each_by_the_same_local_time(server: Server) -> None:
    answer = ok(
        await server.api(
            "POST",
            "/api/sessions",
            body("2038-03-16T10:00:00+01:00", timezone="Europe/Berlin", recurrence={"freq": "weekly", "count": 4}),
        )
    )
    ids = [s["id"] for s in answer["sessions"]]
    # The second occurrence moves from 10:00 to 11:30 Berlin time; the third and fourth follow,
    # across Berlin's change on 28 March; the first stays.
    moved = ok(
        await server.api(
            "PATCH",
            f"/api/sessions/{ids[1]}",
            {"starts_at": "2038-03-23T11:30:00+01:00"},
            params={"scope": "following"},
        )
    )
    assert moved["starts_at"] == "2038-03-23T10:30:00.000Z"
    after = {s["id"]: s for s in await listed(server)}
    assert [after[i]["starts_at"] for i in ids] == [
        "2038-03-16T09:00:00.000Z",
        "2038-03-23T10:30:00.000Z",
        "2038-03-30T09:30:00.000Z",
        "2038-04-06T09:30:00.000Z",
    ]
    new_series = after[ids[1]]["series_id"]
    assert new_series not in (None, answer["series_id"])
    assert [after[i]["series_id"] for i in ids] == [answer["series_id"], new_series, new_series, new_series]
    # One session alone: only it changes.
    ok(await server.api("PATCH", f"/api/sessions/{ids[3]}", {"topic": "Revision", "duration_minutes": 90}))
    again = {s["id"]: s for s in await listed(server)}
    assert again[ids[3]]["topic"] == "Revision" and again[ids[2]]["topic"] == "Linear algebra"


async def test_rescheduling_into_a_conflict_is_refused_and_changes_nothing(server: Server) -> None:
    a = await book(server, "2038-06-01T09:00:00Z")
    b = await book(server, "2038-06-01T11:00:00Z")
    answer = refused(
        await server.api("PATCH", f"/api/sessions/{b['id']}", {"starts_at": "2038-06-01T09:30:00Z"}), "conflict"
    )
    assert [c["session_id"] for c in answer["error"]["conflicts"]] == [a["id"]]
    assert ok(await server.api("GET", f"/api/sessions/{b['id']}"))["starts_at"] == "2038-06-01T11:00:00.000Z"
    # Moving a session within its own old time is no conflict with itself.
    ok(await server.api("PATCH", f"/api/sessions/{b['id']}", {"starts_at": "2038-06-01T11:30:00Z"}))
    refused(await server.api("PATCH", f"/api/sessions/{b['id']}", {"timezone": "Nowhere/Land"}), "invalid", "timezone")
    refused(await server.api("PATCH", f"/api/sessions/{b['id']}", {}), "invalid")
    refused(await server.api("PATCH", f"/api/sessions/{b['id']}", {"topic": None}), "invalid", "topic")
    refused(
        await server.api("PATCH", f"/api/sessions/{b['id']}", {"topic": "x"}, params={"scope": "all"}),
        "invalid",
        "scope",
    )


async def test_a_live_session_changes_only_its_wording_and_link_and_an_ended_one_nothing(server: Server) -> None:
    session = await server.session()
    admin = await server.connect(server.admin_token, session["id"])
    await admin.ok("session:start", {})
    refused(
        await server.api("PATCH", f"/api/sessions/{session['id']}", {"starts_at": "2038-06-01T11:30:00Z"}),
        "conflict",
        "starts_at",
    )
    changed = ok(await server.api("PATCH", f"/api/sessions/{session['id']}", {"topic": "Clocks, again"}))
    assert changed["topic"] == "Clocks, again" and changed["status"] == "live"
    await admin.wait_for("session", lambda s: s["topic"] == "Clocks, again")
    refused(await server.api("POST", f"/api/sessions/{session['id']}/cancel", {"reason": "late"}), "conflict")
    ok(await server.api("POST", f"/api/sessions/{session['id']}/close"))
    refused(await server.api("PATCH", f"/api/sessions/{session['id']}", {"topic": "After"}), "conflict", "closed")


async def test_cancelling_tells_every_tab_is_audited_and_the_session_never_goes_live(
    clocked: Server, clock: FakeClock
) -> None:
    server = clocked
    session = await server.session()
    [person] = await server.participants(session["id"], 1)
    tab = await server.connect(person["token"])
    cancelled = ok(await server.api("POST", f"/api/sessions/{session['id']}/cancel", {"reason": "instructor ill"}))
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "instructor ill"
    event = await tab.wait_for("session", lambda s: s["status"] == "cancelled")
    assert event["cancelled_at"] == cancelled["cancelled_at"]
    # Its start passes on the fake clock: the ticker leaves it cancelled; the tab may stay to read.
    clock.set(at(session["starts_at"]) + timedelta(minutes=5))
    state = await tab.ok("session:state", {})
    assert state["session"]["status"] == "cancelled"
    await tab.refused("chat:send", {"client_id": "client-0001", "text": "hello?"}, "conflict")
    refused(await server.api("POST", f"/api/sessions/{session['id']}/cancel", {"reason": "again"}), "conflict")
    refused(await server.api("POST", f"/api/sessions/{session['id']}/close"), "conflict", "cancelled")
    refused(
        await server.api(
            "POST",
            f"/api/sessions/{session['id']}/participants",
            {"participants": [{"name": "N", "email": "n@example.org"}]},
        ),
        "conflict",
    )
    [entry] = await audit(server, action="cancel")
    assert entry["detail"]["reason"] == "instructor ill" and entry["session_id"] == session["id"]
    refused(await server.api("POST", f"/api/sessions/{session['id']}/cancel", {}), "invalid", "reason")
    assert ok(await server.api("GET", f"/api/sessions/{session['id']}"))["status"] == "cancelled"


async def test_cancelling_the_rest_of_a_series_leaves_the_earlier_ones(server: Server) -> None:
    answer = ok(
        await server.api(
            "POST", "/api/sessions", body("2038-09-01T09:00:00Z", recurrence={"freq": "weekly", "count": 4})
        )
    )
    ids = [s["id"] for s in answer["sessions"]]
    ok(
        await server.api(
            "POST", f"/api/sessions/{ids[2]}/cancel", {"reason": "term ends early"}, params={"scope": "following"}
        )
    )
    statuses = {s["id"]: s["status"] for s in await listed(server)}
    assert [statuses[i] for i in ids] == ["scheduled", "scheduled", "cancelled", "cancelled"]
    assert len(await audit(server, action="cancel")) == 2


# ---------------------------------------------------------------- listing


async def test_listing_sessions_by_time_and_instructor_for_each_role(server: Server) -> None:
    mine = await book(server, "2038-10-05T09:00:00Z")
    other = await book(server, "2038-10-06T09:00:00Z", instructor_email="other@example.org")
    await book(server, "2038-11-06T09:00:00Z")
    in_october = {"from": "2038-10-01T00:00:00Z", "to": "2038-11-01T00:00:00Z"}
    assert [s["id"] for s in await listed(server, **in_october)] == [mine["id"], other["id"]]
    assert (await listed(server, **in_october))[0]["participants"] == 0
    support = await server.token("support", "Sam", "support@example.org")
    answer = ok(await server.api("GET", "/api/sessions", token=support, params=in_october))
    assert len(answer["sessions"]) == 2 and answer["more"] is False
    instructor = await server.token("instructor", "Lee", INSTRUCTOR)
    answer = ok(await server.api("GET", "/api/sessions", token=instructor, params=in_october))
    assert [s["id"] for s in answer["sessions"]] == [mine["id"]]
    refused(
        await server.api("GET", "/api/sessions", token=instructor, params={"instructor_email": "other@example.org"}),
        "forbidden",
    )
    [person] = await server.participants(mine["id"], 1)
    refused(await server.api("GET", "/api/sessions", token=person["token"]), "forbidden")
    refused(await server.api("GET", "/api/sessions", params={"from": "yesterday"}), "invalid", "from")
    refused(await server.api("GET", "/api/sessions", params={"limit": "0"}), "invalid", "limit")
    refused(await server.api("GET", "/api/sessions", params={**in_october, "to": "2038-09-01T00:00:00Z"}), "invalid")
    page = ok(await server.api("GET", "/api/sessions", params={"limit": "2"}))
    assert len(page["sessions"]) == 2 and page["more"] is True


# ---------------------------------------------------------------- the roster


async def test_a_participants_overlapping_sessions_are_warnings_on_the_roster(server: Server) -> None:
    a = await book(server, "2038-10-05T09:00:00Z")
    b = await book(server, "2038-10-05T09:30:00Z", instructor_email="other@example.org", topic="Statistics")
    ok(
        await server.api(
            "POST",
            f"/api/sessions/{a['id']}/participants",
            {"participants": [{"name": "Ada", "email": "ada@example.org", "timezone": "Asia/Tokyo"}]},
        )
    )
    added = ok(
        await server.api(
            "POST",
            f"/api/sessions/{b['id']}/participants",
            {"participants": [{"name": "Ada", "email": "ADA@example.org"}, {"name": "Bo", "email": "bo@example.org"}]},
        )
    )
    ada, bo = added["participants"]
    assert ada["warnings"] == [
        {"kind": "overlap", "session_id": a["id"], "topic": "Linear algebra", "starts_at": "2038-10-05T09:00:00.000Z"}
    ]
    assert bo["warnings"] == []
    roster = ok(await server.api("GET", f"/api/sessions/{a['id']}/participants"))["participants"]
    assert roster[0]["timezone"] == "Asia/Tokyo" and roster[0]["warnings"][0]["session_id"] == b["id"]
    refused(
        await server.api(
            "POST",
            f"/api/sessions/{a['id']}/participants",
            {"participants": [{"name": "X", "email": "x@example.org", "timezone": "Atlantis"}]},
        ),
        "invalid",
        "timezone",
    )


async def test_a_participant_taken_off_the_roster_loses_their_link(server: Server) -> None:
    session = await server.session()
    [person, other] = await server.participants(session["id"], 2)
    tab = await server.connect(person["token"])
    instructor = await server.token("instructor", "Iris", "teacher@example.org")
    path = f"/api/sessions/{session['id']}/participants/{person['id']}"
    refused(await server.api("DELETE", path, token=instructor), "forbidden")
    r = await server.api("DELETE", path)
    assert r.status_code == 204, r.text
    for _ in range(100):  # the server closes the socket (python-socketio's client notices within a moment)
        if not tab.sio.connected:
            break
        await asyncio.sleep(0.05)
    assert not tab.sio.connected
    refused(await server.api("DELETE", path), "not_found")
    roster = ok(await server.api("GET", f"/api/sessions/{session['id']}/participants"))["participants"]
    assert [p["id"] for p in roster] == [other["id"]]
    r = await server.http.get(f"/api/sessions/{session['id']}", headers={"authorization": f"Bearer {person['token']}"})
    assert r.status_code == 401


# ---------------------------------------------------------------- the audit log


async def test_the_audit_log_pages_oldest_first_and_filters(server: Server) -> None:
    answer = ok(
        await server.api(
            "POST", "/api/sessions", body("2038-09-01T09:00:00Z", recurrence={"freq": "weekly", "count": 5})
        )
    )
    ids = [s["id"] for s in answer["sessions"]]
    for sid in reversed(ids):
        ok(await server.api("POST", f"/api/sessions/{sid}/cancel", {"reason": "no room"}))
    first = ok(await server.api("GET", "/api/audit", params={"limit": "2"}))
    assert [e["session_id"] for e in first["entries"]] == [ids[4], ids[3]]
    second = ok(await server.api("GET", "/api/audit", params={"limit": "2", "cursor": first["next"]}))
    third = ok(await server.api("GET", "/api/audit", params={"limit": "2", "cursor": second["next"]}))
    assert [e["session_id"] for e in second["entries"] + third["entries"]] == [ids[2], ids[1], ids[0]]
    assert third["next"] is None
    assert [e["session_id"] for e in await audit(server, session_id=ids[0])] == [ids[0]]
    assert await audit(server, action="override") == []
    assert await audit(server, after=datetime.now(UTC).isoformat()) == []
    assert len(await audit(server, after="2000-01-01T00:00:00Z")) == 5
    refused(await server.api("GET", "/api/audit", params={"after": "last week"}), "invalid", "after")
    refused(await server.api("GET", "/api/audit", params={"limit": "1001"}), "invalid", "limit")
    for role in ("instructor", "support"):
        token = await server.token(role, "Someone", f"{role}@example.org")
        refused(await server.api("GET", "/api/audit", token=token), "forbidden")


async def test_an_audited_staff_member_is_named_by_internal_id_not_email(server: Server) -> None:
    admin = await server.token("admin", "Alex Admin", "alex@example.org")
    session = await book(server, "2038-09-01T09:00:00Z")
    ok(await server.api("POST", f"/api/sessions/{session['id']}/cancel", {"reason": "x"}, token=admin))
    [entry] = await audit(server, actor="alex@example.org")
    assert entry["actor"].startswith("staff:") and "alex" not in entry["actor"]
    assert await audit(server, actor=entry["actor"]) == [entry]
    assert await audit(server, actor="nobody@example.org") == []


# ---------------------------------------------------------------- staff time zones


async def test_staff_keep_their_own_time_zone_and_suggestions_read_it(server: Server) -> None:
    instructor = await server.token("instructor", "Kai", "kai@example.org")
    assert ok(await server.api("GET", "/api/me", token=instructor))["timezone"] is None
    assert ok(await server.api("PATCH", "/api/me", {"timezone": "Asia/Tokyo"}, token=instructor))["timezone"] == (
        "Asia/Tokyo"
    )
    assert ok(await server.api("GET", "/api/me", token=instructor))["timezone"] == "Asia/Tokyo"
    refused(await server.api("PATCH", "/api/me", {"timezone": "Tokyo"}, token=instructor), "invalid", "timezone")
    refused(await server.api("PATCH", "/api/me", {"timezone": 9}, token=instructor), "invalid", "timezone")
    refused(await server.api("PATCH", "/api/me", {"timezone": "UTC"}), "invalid", "names no person")
    session = await server.session()
    [person] = await server.participants(session["id"], 1)
    refused(await server.api("PATCH", "/api/me", {"timezone": "UTC"}, token=person["token"]), "forbidden")
    # 08:00 in Tokyo is 23:00 UTC the day before: the instructor's own zone decides, not the default.
    slots = ok(
        await server.api(
            "POST",
            "/api/schedule/suggest",
            {
                "instructor_email": "kai@example.org",
                "duration_minutes": 60,
                "from": "2038-04-05T22:00:00Z",
                "to": "2038-04-06T01:00:00Z",
                "limit": 5,
            },
        )
    )["slots"]
    assert [s["starts_at"] for s in slots][:2] == ["2038-04-05T23:00:00.000Z", "2038-04-05T23:30:00.000Z"]
    ok(await server.api("PATCH", "/api/me", {"timezone": None}, token=instructor))
    assert ok(await server.api("GET", "/api/me", token=instructor))["timezone"] is None


async def test_changing_the_rest_of_a_series_leaves_cancelled_ones_and_refuses_self_overlap(server: Server) -> None:
    weekend = ok(
        await server.api(
            "POST",
            "/api/sessions",
            body(
                "2038-03-27T10:00:00+01:00",
                timezone="Europe/Berlin",
                recurrence={"freq": "weekly", "count": 3, "byday": ["SA", "SU"]},
            ),
        )
    )
    ids = [s["id"] for s in weekend["sessions"]]
    ok(await server.api("POST", f"/api/sessions/{ids[2]}/cancel", {"reason": "bank holiday"}))
    # Saturday to Sunday across the spring change is 23 hours: a day-long class would overlap the next.
    refused(
        await server.api(
            "PATCH",
            f"/api/sessions/{ids[0]}",
            {"duration_minutes": 24 * 60, "starts_at": "2038-03-27T10:00:00+01:00"},
            params={"scope": "following"},
        ),
        "invalid",
        "overlap",
    )
    ok(await server.api("PATCH", f"/api/sessions/{ids[0]}", {"topic": "Weekend school"}, params={"scope": "following"}))
    after = {s["id"]: s for s in await listed(server)}
    assert [after[i]["topic"] for i in ids] == ["Weekend school", "Weekend school", "Linear algebra"]
    assert after[ids[2]]["status"] == "cancelled" and after[ids[2]]["series_id"] == weekend["series_id"]
