"""The platform's attendance rules: Zoom's signature, its events, the reports, matching and the minutes."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core import platform_attendance as pa
from core.errors import Invalid, Unauthorized
from core.model import Member, SessionState

FIXTURES = Path(__file__).parent.parent / "fixtures" / "platform"
SECRET = "zoom-secret-token"
T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def session(**kw: object) -> SessionState:
    base: dict[str, object] = {
        "id": "s1",
        "topic": "Distributed systems",
        "instructor_email": "teacher@example.org",
        "starts_at": T0,
        "duration_minutes": 60,
        "late_after_minutes": 10,
    }
    return SessionState(**{**base, **kw})  # type: ignore[arg-type]


ROSTER = [
    Member("p-ada", "Ada Lovelace", "ada@example.org"),
    Member("p-jose", "José Müller", "jose@example.org"),
    Member("p-grace", "Grace Hopper", "grace@example.org"),
    Member("p-alan", "Alan Turing", "alan@example.org"),
]


# ---------------------------------------------------------------- the signature


def test_the_signature_is_zooms_hmac_over_the_raw_body() -> None:
    body = b'{"event":"meeting.participant_joined"}'
    expected = "v0=" + hmac.new(SECRET.encode(), b"v0:1733302800:" + body, hashlib.sha256).hexdigest()
    assert pa.sign(SECRET, "1733302800", body) == expected


def test_verify_accepts_within_five_minutes_and_refuses_the_rest() -> None:
    body = b'{"a": 1}'
    now = datetime.fromtimestamp(1_800_000_000, UTC)
    ts = "1800000000"
    pa.verify(SECRET, ts, pa.sign(SECRET, ts, body), body, now + timedelta(minutes=4, seconds=59))
    with pytest.raises(Unauthorized, match="older than five minutes"):
        pa.verify(SECRET, ts, pa.sign(SECRET, ts, body), body, now + timedelta(minutes=5, seconds=1))
    with pytest.raises(Unauthorized, match="does not match"):
        pa.verify(SECRET, ts, pa.sign("another secret", ts, body), body, now)
    with pytest.raises(Unauthorized, match="does not match"):
        pa.verify(SECRET, ts, pa.sign(SECRET, ts, body), body + b" ", now)  # one byte more: not what was signed
    with pytest.raises(Unauthorized, match="required"):
        pa.verify(SECRET, None, pa.sign(SECRET, ts, body), body, now)
    with pytest.raises(Unauthorized, match="required"):
        pa.verify(SECRET, ts, None, body, now)
    with pytest.raises(Unauthorized, match="epoch"):
        pa.verify(SECRET, "yesterday", "v0=00", body, now)


def test_url_validation_answers_the_hmac_of_the_plain_token() -> None:
    answer = pa.url_validation(SECRET, "qgg8vlvZRS6UYooatFL8Aw")
    assert answer == {
        "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
        "encryptedToken": hmac.new(SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest(),
    }


# ---------------------------------------------------------------- Zoom's events


@pytest.mark.parametrize(
    ("url", "meeting"),
    [
        ("https://us02web.zoom.us/j/85746065432?pwd=abc", "85746065432"),
        ("https://zoom.us/j/85746065432", "85746065432"),
        ("https://example.zoom.us/w/98765432101?tk=x", "98765432101"),
        ("https://zoom.us/wc/join/85746065432", "85746065432"),
        ("https://zoom.us/my/vanity", None),
        ("https://teams.microsoft.com/l/meetup-join/19%3a", None),
        (None, None),
    ],
)
def test_the_meeting_id_is_read_from_the_join_link(url: str | None, meeting: str | None) -> None:
    assert pa.meeting_id_of(url) == meeting


def joined(at: str, **participant: object) -> dict[str, object]:
    """meeting.participant_joined as Zoom documents it (Meetings webhooks: payload.object.participant)."""
    return {
        "event": "meeting.participant_joined",
        "event_ts": 1764838800123,
        "payload": {
            "account_id": "AAAAAABBBB",
            "object": {
                "id": "85746065432",
                "uuid": "4444AAAiAAAAAiAiAiiAii==",
                "host_id": "x1yCzABCDEfg23HiJKl4mN",
                "topic": "Distributed systems",
                "type": 8,
                "start_time": "2026-12-04T09:00:00Z",
                "timezone": "Europe/Berlin",
                "duration": 60,
                "participant": {
                    "user_id": "16778240",
                    "user_name": "Ada Lovelace",
                    "id": "iFxeBPYun6SAiWUzBcEkX",
                    "participant_uuid": "55555AAAiAAAAAiAiAiiAii",
                    "join_time": at,
                    "email": "ada@example.org",
                    **participant,
                },
            },
        },
    }


def left(at: str, **participant: object) -> dict[str, object]:
    body = joined(at, **participant)
    body["event"] = "meeting.participant_left"
    p = body["payload"]["object"]["participant"]  # type: ignore[index]
    p["leave_time"] = p.pop("join_time")
    p["leave_reason"] = "left the meeting. Reason : left the meeting"
    return body


def test_events_are_read_from_zooms_payload_and_keyed_on_zooms_identity() -> None:
    e = pa.zoom_event(joined("2026-12-04T09:05:00Z"))
    assert e is not None
    assert (e.kind, e.meeting_id, e.name, e.email, e.at) == (
        "joined",
        "85746065432",
        "Ada Lovelace",
        "ada@example.org",
        datetime(2026, 12, 4, 9, 5, tzinfo=UTC),
    )
    again = pa.zoom_event(json.loads(json.dumps(joined("2026-12-04T09:05:00Z"))))
    assert again is not None and again.key == e.key  # a redelivery is the same event
    later = pa.zoom_event(joined("2026-12-04T09:40:00Z", user_id="16778241"))
    leave = pa.zoom_event(left("2026-12-04T09:05:00Z"))
    assert later is not None and leave is not None
    assert len({e.key, later.key, leave.key}) == 3
    assert pa.zoom_event({"event": "meeting.started", "payload": {}}) is None
    with pytest.raises(Invalid):
        pa.zoom_event({"event": "meeting.participant_joined", "payload": {"object": {"id": 1}}})


def test_a_join_pairs_with_the_next_leave_and_one_still_in_the_call_stays_open() -> None:
    events = [
        pa.zoom_event(joined("2026-12-04T09:05:00Z")),
        pa.zoom_event(left("2026-12-04T09:30:00Z")),
        pa.zoom_event(joined("2026-12-04T09:40:00Z", user_id="2")),
    ]
    pairs = pa.webhook_intervals([e for e in events if e is not None])
    assert [(j.at.minute, end.minute if end else None) for j, end in pairs] == [(5, 30), (40, None)]


def test_a_recurring_meetings_event_belongs_to_the_occurrence_whose_window_holds_it() -> None:
    week1 = session(id="w1", started_at=T0, closed_at=T0 + timedelta(minutes=65), status="closed")
    week2 = session(id="w2", starts_at=T0 + timedelta(days=7))
    week3 = session(id="w3", starts_at=T0 + timedelta(days=14))
    both = [week1, week2, week3]
    assert pa.occurrence(both, T0 - timedelta(minutes=29)) is week1  # early joiners count
    assert pa.occurrence(both, T0 + timedelta(minutes=60)) is week1
    assert pa.occurrence(both, T0 + timedelta(minutes=70)) is None  # after week 1's close, long before week 2
    assert pa.occurrence(both, T0 + timedelta(days=7, minutes=-20)) is week2
    assert pa.occurrence(both, T0 + timedelta(days=7, minutes=-31)) is None
    assert pa.occurrence(both, T0 + timedelta(days=14, minutes=5)) is week3


# ---------------------------------------------------------------- the reports


def test_a_zoom_participants_csv_is_read_by_its_header_names() -> None:
    report = pa.parse_report((FIXTURES / "zoom_participants.csv").read_bytes(), BERLIN)
    assert report.platform == "zoom"
    assert report.duplicates == 1  # Ada's second interval is listed twice: kept once
    names = [r.name for r in report.rows]
    assert names == [
        "Iris Instructor",
        "Ada Lovelace",
        "Ada Lovelace",
        "Jo (José Müller)",
        "Hopper, Grace",
        "Phone User 2",
    ]
    ada = report.rows[1]
    assert ada.row == 6 and ada.email == "ada@example.org"
    assert ada.joined_at == datetime(2026, 12, 4, 9, 1, 15, tzinfo=UTC)  # 10:01:15 in Berlin
    assert ada.left_at == datetime(2026, 12, 4, 9, 31, 15, tzinfo=UTC)


def test_zoom_columns_in_another_order_are_read_by_name() -> None:
    text = "Join Time,Leave Time,User Email,Name (Original Name)\n2026-12-04 10:00:00,2026-12-04 10:30:00,a@x.org,A B\n"
    report = pa.parse_report(text.encode(), BERLIN)
    assert [(r.name, r.email, r.joined_at.hour) for r in report.rows] == [("A B", "a@x.org", 9)]


def test_a_teams_report_in_sections_uses_its_in_meeting_activities() -> None:
    raw = (FIXTURES / "teams_attendance_2023.csv").read_bytes()
    assert raw.startswith(b"\xff\xfe")
    report = pa.parse_report(raw, BERLIN)
    assert (report.platform, report.layout) == ("teams", "teams:intervals")
    ada = [r for r in report.rows if r.name == "Ada Lovelace"]
    assert [(r.joined_at.strftime("%H:%M"), r.left_at.strftime("%H:%M")) for r in ada] == [
        ("09:01", "09:31"),
        ("09:40", "10:00"),
    ]
    assert {r.name for r in report.rows} == {"Iris Instructor", "Ada Lovelace", "Müller, José", "Unknown Guest (Guest)"}


def test_a_teams_report_without_activities_uses_first_join_and_last_leave() -> None:
    text = (
        "1. Summary\nMeeting title\tX\n\n2. Participants\nName\tFirst Join\tLast Leave\tEmail\n"
        "Ada Lovelace\t12/4/26, 10:00:00 AM\t12/4/26, 10:45:00 AM\tada@example.org\n"
    )
    report = pa.parse_report(b"\xff\xfe" + text.encode("utf-16-le"), BERLIN)
    assert report.layout == "teams:first-join-last-leave"
    assert [(r.email, (r.left_at - r.joined_at).total_seconds()) for r in report.rows] == [("ada@example.org", 2700)]


def test_teams_first_layout_of_user_actions_pairs_joins_and_leaves() -> None:
    report = pa.parse_report((FIXTURES / "teams_attendance_2020.csv").read_bytes(), BERLIN)
    assert report.layout == "teams:user-actions"
    spans = [(r.name, r.joined_at.strftime("%H:%M"), r.left_at.strftime("%H:%M")) for r in report.rows]
    assert spans == [
        ("Iris Instructor", "08:58", "10:02"),
        ("Ada Lovelace", "09:01", "09:31"),
        ("Ada Lovelace", "09:40", "10:00"),
    ]


def test_utf16le_without_its_bom_is_still_read() -> None:
    text = "Name\tJoin Time\tLeave Time\tEmail\nAda\t12/4/26, 10:00:00 AM\t12/4/26, 10:10:00 AM\tada@example.org\n"
    assert pa.parse_report(text.encode("utf-16-le"), BERLIN).platform == "teams"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"Name;Email\nAda;ada@example.org\n", "not a Zoom participants report"),
        (b"%PDF-1.7\n\xe2\xe3\xcf\xd3 binary", "encoding"),
        (b"Name,Join Time,Leave Time\nAda,soon,later\n", "line 2"),
        (b"Name,Join Time,Leave Time\nAda,2026-12-04 10:30:00,2026-12-04 10:00:00\n", "leaves before"),
        (b"Name,Join Time\nAda,2026-12-04 10:30:00\n", "no leave time"),
        ("Name\tJoin Time\tLeave Time\nAda\tx\ty\n".encode("cp1252"), "line 2"),
    ],
)
def test_a_report_that_cannot_be_read_is_refused_clearly(raw: bytes, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        pa.parse_report(raw, BERLIN)


def test_a_latin1_file_is_refused_as_the_wrong_encoding() -> None:
    with pytest.raises(Invalid, match="encoding"):
        pa.parse_report("Name,Join Time,Leave Time\nJosé,x,y\n".encode("latin-1"), BERLIN)


# ---------------------------------------------------------------- matching


def test_names_are_compared_without_case_accents_or_order() -> None:
    assert pa.name_key("Müller, José") == pa.name_key("jose MULLER") == ("jose", "muller")
    assert pa.name_key("Hopper, Grace") == pa.name_key("Grace Hopper")


@pytest.mark.parametrize(
    ("name", "email", "expected"),
    [
        ("Whoever", "ADA@example.org", ("p-ada", "email")),
        ("Ada Lovelace", "", ("p-ada", "name")),
        ("Müller, José", "", ("p-jose", "name")),
        ("Jo (José Müller)", "", ("p-jose", "name")),
        ("hopper, GRACE", "", ("p-grace", "name")),
        ("Phone User 2", "", None),
        ("Ada Lovelace", "someone.else@example.org", ("p-ada", "name")),
    ],
)
def test_rows_match_by_email_then_by_name(name: str, email: str, expected: tuple[str, str] | None) -> None:
    assert pa.match(name, email, ROSTER) == expected


def test_two_people_of_one_name_are_matched_by_nobody() -> None:
    twins = [*ROSTER, Member("p-ada2", "Ada Lovelace", "ada2@example.org")]
    assert pa.match("Ada Lovelace", "", twins) is None
    assert pa.match("Ada Lovelace", "ada2@example.org", twins) == ("p-ada2", "email")


# ---------------------------------------------------------------- minutes


def test_minutes_are_the_union_of_the_intervals_clipped_to_start_and_close() -> None:
    s = session(started_at=T0, closed_at=T0 + timedelta(minutes=60), status="closed")

    def at(m: float) -> datetime:
        return T0 + timedelta(minutes=m)

    minutes = pa.minutes(
        s,
        {
            "overlap": [(at(-10), at(20)), (at(10), at(30))],  # before the start, and two overlapping: 30
            "after": [(at(50), at(90))],  # past the close: 10
            "open": [(at(45), None)],  # still in the call: to the close, 15
            "outside": [(at(70), at(80))],  # only after the close: 0
        },
        at(200),
    )
    assert minutes == {"overlap": 30.0, "after": 10.0, "open": 15.0, "outside": 0.0}


def test_an_open_session_counts_to_now_and_one_not_started_counts_nothing() -> None:
    running = session(started_at=T0, status="live")
    assert pa.minutes(running, {"a": [(T0, None)]}, T0 + timedelta(minutes=12)) == {"a": 12.0}
    assert pa.minutes(session(), {"a": [(T0, T0 + timedelta(minutes=5))]}, T0) == {"a": 0.0}


def test_flags_say_who_was_in_the_call_but_not_checked_in_and_the_reverse() -> None:
    assert pa.flags("absent", 30.0, True) == ["in_call_not_checked_in"]
    assert pa.flags("present", None, True) == ["checked_in_not_in_call"]
    assert pa.flags("late", 0.0, True) == ["checked_in_not_in_call"]
    assert pa.flags("present", 12.0, True) == []
    assert pa.flags("absent", None, False) == []  # nothing reported: nothing to compare


def test_the_sheet_takes_platform_minutes_right_after_minutes_present() -> None:
    from core import sheet

    s = session(started_at=T0, closed_at=T0 + timedelta(minutes=60), status="closed")
    rows = sheet.rows(s, ROSTER[:2], [], 0, {}, T0, {"p-ada": 12.5})
    assert [r["platform_minutes"] for r in rows] == [12.5, None]
    assert list(rows[0]) == list(sheet.COLUMNS)
    saved = [{k: v for k, v in r.items() if k != "platform_minutes"} for r in rows]  # saved before the column
    fresh = sheet.with_platform(saved, {"p-jose": 3.0})
    assert [list(r) for r in fresh] == [list(sheet.COLUMNS)] * 2
    assert [r["platform_minutes"] for r in fresh] == [None, 3.0]
    assert sheet.with_platform(rows, None)[0]["platform_minutes"] is None


def test_a_row_with_only_a_name_is_still_a_row_of_its_table() -> None:
    text = (
        "Name,Email,Join Time,Leave Time\nAda,,2026-12-04 10:00:00,2026-12-04 10:10:00\n"
        "Bob,,,\nCy,,2026-12-04 10:00:00,2026-12-04 10:05:00\n"
    )
    with pytest.raises(Invalid, match="line 3"):  # Bob's empty times are named, not silently ending the table
        pa.parse_report(text.encode(), BERLIN)
