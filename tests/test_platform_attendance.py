"""Platform attendance over real HTTP: Zoom's webhook signed as Zoom signs it, the reports imported, the sheet."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.clock import FakeClock
from tests.clocked import clocked_server
from tests.support import Server, ok, refused

FIXTURES = Path(__file__).parent / "fixtures" / "platform"
SECRET = "zoom-webhook-secret-token"
MEETING = "85746065432"
JOIN_URL = f"https://us02web.zoom.us/j/{MEETING}?pwd=abc123"
ROSTER = [
    {"name": "Ada Lovelace", "email": "ada@example.org"},
    {"name": "José Müller", "email": "jose@example.org"},
    {"name": "Grace Hopper", "email": "grace@example.org"},
    {"name": "Alan Turing", "email": "alan@example.org"},
]


@pytest.fixture
async def zsrv(tmp_path: Path, backing: dict[str, Any], clock: FakeClock) -> AsyncIterator[Server]:
    clock.set(clock.now().replace(microsecond=0))  # Zoom's times are whole seconds
    async with clocked_server(tmp_path, clock, ticker_seconds=0.2, zoom_webhook_secret=SECRET, **backing) as srv:
        yield srv


def z(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def participant_event(kind: str, at: datetime, name: str, email: str, user_id: str = "16778240") -> dict[str, Any]:
    """meeting.participant_joined / _left as Zoom's Meetings webhook reference documents them."""
    participant: dict[str, Any] = {
        "user_id": user_id,
        "user_name": name,
        "id": "iFxeBPYun6SAiWUzBcEkX" + name.replace(" ", ""),
        "participant_uuid": "55555AAAiAAAAAiAiAiiAii" + name.replace(" ", ""),
        "email": email,
        "registrant_id": "",
        "participant_user_id": "",
    }
    if kind == "joined":
        participant["join_time"] = z(at)
    else:
        participant["leave_time"] = z(at)
        participant["leave_reason"] = "left the meeting. Reason : left the meeting"
    return {
        "event": f"meeting.participant_{kind}",
        "event_ts": int(at.timestamp() * 1000),
        "payload": {
            "account_id": "AAAAAABBBB",
            "object": {
                "id": MEETING,
                "uuid": "4444AAAiAAAAAiAiAiiAii==",
                "host_id": "x1yCzABCDEfg23HiJKl4mN",
                "topic": "Distributed systems",
                "type": 8,
                "start_time": z(at),
                "timezone": "UTC",
                "duration": 60,
                "participant": participant,
            },
        },
    }


async def post_zoom(
    srv: Server, event: Any, now: datetime, *, secret: str = SECRET, age: timedelta = timedelta(0), headers: Any = None
) -> Any:
    """POST the event as Zoom does: the raw JSON bytes signed v0:{timestamp}:{body} with the secret."""
    raw = json.dumps(event, separators=(",", ":")).encode() if not isinstance(event, bytes) else event
    ts = str(int((now - age).timestamp()))
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
    sent = {"content-type": "application/json", "x-zm-request-timestamp": ts, "x-zm-signature": sig}
    if headers is not None:
        sent = headers(sent)
    return await srv.http.post("/api/webhooks/zoom", content=raw, headers=sent)


async def zoom_session(srv: Server, **fields: Any) -> dict[str, Any]:
    s = await srv.session(platform="zoom", join_url=JOIN_URL, **fields)
    added = ok(await srv.api("POST", f"/api/sessions/{s['id']}/participants", {"participants": ROSTER}))
    return {**s, "people": added["participants"]}


async def start(srv: Server, sid: str) -> None:
    tab = await srv.connect(srv.admin_token, sid)
    await tab.ok("session:start")


async def sheet_of(srv: Server, sid: str) -> dict[str, dict[str, Any]]:
    rows = ok(await srv.api("GET", f"/api/sessions/{sid}/attendance"))
    return {r["email"]: r for r in rows.get("body", rows.get("rows", []))}


async def overview(srv: Server, sid: str, token: str | None = None) -> dict[str, Any]:
    return ok(await srv.api("GET", f"/api/sessions/{sid}/platform-attendance", token=token))


# ---------------------------------------------------------------- the webhook


async def test_url_validation_is_answered_with_the_hmac_of_the_plain_token(zsrv: Server, clock: FakeClock) -> None:
    body = {
        "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"},
        "event_ts": 1654503849680,
        "event": "endpoint.url_validation",
    }
    answer = ok(await post_zoom(zsrv, body, clock.now()))
    assert answer == {
        "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
        "encryptedToken": hmac.new(SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest(),
    }


async def test_forged_stale_and_unsigned_requests_are_401_and_store_nothing(zsrv: Server, clock: FakeClock) -> None:
    s = await zoom_session(zsrv)
    await start(zsrv, s["id"])
    event = participant_event("joined", clock.now(), "Ada Lovelace", "ada@example.org")
    refused(await post_zoom(zsrv, event, clock.now(), secret="not-the-secret"), "unauthorized")
    refused(await post_zoom(zsrv, event, clock.now(), age=timedelta(minutes=5, seconds=30)), "unauthorized")
    refused(
        await post_zoom(zsrv, event, clock.now(), headers=lambda h: {"content-type": h["content-type"]}), "unauthorized"
    )
    refused(
        await post_zoom(
            zsrv,
            event,
            clock.now(),
            headers=lambda h: {
                **h,
                "x-zm-signature": h["x-zm-signature"][:-1] + ("1" if h["x-zm-signature"].endswith("0") else "0"),
            },
        ),
        "unauthorized",
    )

    raw = json.dumps(event).encode()
    ts = str(int(clock.now().timestamp()))
    sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
    other = raw.replace(b"Ada Lovelace", b"Eve Intruder")  # signed body, altered in transit
    r = await zsrv.http.post(
        "/api/webhooks/zoom", content=other, headers={"x-zm-request-timestamp": ts, "x-zm-signature": sig}
    )
    refused(r, "unauthorized")
    listed = await overview(zsrv, s["id"])
    assert listed["webhook"] == [] and listed["imports"] == []
    # A signed body that is not JSON is a clear 400, after the signature was checked.
    refused(await post_zoom(zsrv, b"not json", clock.now()), "invalid")


async def test_the_webhook_is_404_while_no_secret_is_set(server: Server) -> None:
    r = await server.http.post("/api/webhooks/zoom", content=b"{}", headers={"x-zm-signature": "v0=00"})
    assert r.status_code == 404


async def test_joined_and_left_give_platform_minutes_and_a_redelivery_changes_nothing(
    zsrv: Server, clock: FakeClock
) -> None:
    s = await zoom_session(zsrv)
    await start(zsrv, s["id"])
    t0 = clock.now()
    join = participant_event("joined", t0 + timedelta(minutes=5), "Ada Lovelace", "ada@example.org")
    leave = participant_event("left", t0 + timedelta(minutes=35), "Ada Lovelace", "ada@example.org")
    assert ok(await post_zoom(zsrv, join, clock.now())) == {}
    clock.advance(minutes=40)
    assert ok(await post_zoom(zsrv, leave, clock.now())) == {}
    # Zoom delivers again (it retries what it thinks was not answered): the same events change nothing.
    ok(await post_zoom(zsrv, join, clock.now()))
    ok(await post_zoom(zsrv, leave, clock.now()))
    # A guest by name only, still in the call.
    ok(await post_zoom(zsrv, participant_event("joined", t0 + timedelta(minutes=30), "turing, alan", ""), clock.now()))
    listed = await overview(zsrv, s["id"])
    assert [(w["name"], w["participant_id"] is not None, w["left_at"] is not None) for w in listed["webhook"]] == [
        ("Ada Lovelace", True, True),
        ("turing, alan", True, False),
    ]
    sheet = await sheet_of(zsrv, s["id"])
    assert sheet["ada@example.org"]["platform_minutes"] == 30.0
    assert sheet["alan@example.org"]["platform_minutes"] == 10.0  # to now: 40 minutes in, joined at 30
    assert sheet["grace@example.org"]["platform_minutes"] is None
    flags = {p["email"]: p["flags"] for p in listed["participants"]}
    assert flags["ada@example.org"] == ["in_call_not_checked_in"]


async def test_a_recurring_meetings_event_lands_in_the_occurrence_it_happened_in(
    zsrv: Server, clock: FakeClock
) -> None:
    first = clock.now() + timedelta(days=1)
    answer = ok(
        await zsrv.api(
            "POST",
            "/api/sessions",
            {
                "topic": "Weekly lab",
                "instructor_email": "teacher@example.org",
                "starts_at": first.isoformat(),
                "duration_minutes": 60,
                "platform": "zoom",
                "join_url": JOIN_URL,
                "recurrence": {"freq": "weekly", "count": 3},
            },
        )
    )
    ids = [x["id"] for x in answer["sessions"]]
    week2 = datetime.fromisoformat(answer["sessions"][1]["starts_at"].replace("Z", "+00:00"))
    event = participant_event("joined", week2 - timedelta(minutes=10), "Ada Lovelace", "ada@example.org")
    ok(await post_zoom(zsrv, event, clock.now()))
    counts = [len((await overview(zsrv, sid))["webhook"]) for sid in ids]
    assert counts == [0, 1, 0]
    # Long before any occurrence's window: nobody's, acknowledged and not stored.
    ok(await post_zoom(zsrv, participant_event("joined", first - timedelta(hours=2), "X", ""), clock.now()))
    assert [len((await overview(zsrv, sid))["webhook"]) for sid in ids] == [0, 1, 0]


# ---------------------------------------------------------------- the reports


def zoom_csv(t0: datetime, rows: list[tuple[str, str, float, float]]) -> bytes:
    """A Zoom participants export (with its meeting block), the times in the session's zone (UTC here)."""

    def when(m: float) -> str:
        return (t0 + timedelta(minutes=m)).strftime("%m/%d/%Y %I:%M:%S %p")

    lines = [
        "Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants",
        f"857 4606 5432,Distributed systems,{when(0)},{when(60)},teacher@example.org,60,{len(rows)}",
        "",
        "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest,Recording Consent,"
        "In Waiting Room",
    ]
    for name, email, a, b in rows:
        quoted = f'"{name}"' if "," in name else name
        lines.append(f"{quoted},{email},{when(a)},{when(b)},{int(b - a)},No,Y,No")
    return ("\r\n".join(lines) + "\r\n").encode()


def teams_report(t0: datetime, rows: list[tuple[str, str, float, float]]) -> bytes:
    """A Teams attendance report (2023 layout): UTF-16LE with BOM, tab-separated, in three sections."""

    def when(m: float) -> str:
        t = t0 + timedelta(minutes=m)
        return f"{t.month}/{t.day}/{t.strftime('%y')}, {t.strftime('%I:%M:%S %p').lstrip('0')}"

    lines = [
        "1. Summary",
        "Meeting title\tDistributed systems",
        f"Attended participants\t{len(rows)}",
        f"Start time\t{when(0)}",
        f"End time\t{when(60)}",
        "",
        "2. Participants",
        "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\tParticipant ID (UPN)\tRole",
        *[f"{n}\t{when(a)}\t{when(b)}\t{int(b - a)}m\t{e}\t{e}\tAttendee" for n, e, a, b in rows],
        "",
        "3. In-Meeting Activities",
        "Name\tJoin Time\tLeave Time\tDuration\tEmail\tRole",
        *[f"{n}\t{when(a)}\t{when(b)}\t{int(b - a)}m\t{e}\tAttendee" for n, e, a, b in rows],
        "",
    ]
    return b"\xff\xfe" + "\r\n".join(lines).encode("utf-16-le")


async def imported(srv: Server, sid: str, raw: bytes, *, multipart: bool = False, token: str | None = None) -> Any:
    path = f"/api/sessions/{sid}/platform-attendance"
    if multipart:
        return await srv.api("POST", path, token=token, files={"file": ("report.csv", raw, "text/csv")})
    headers = {"authorization": f"Bearer {token or srv.admin_token}", "content-type": "text/csv"}
    return await srv.http.post(path, content=raw, headers=headers)


async def closed_class(srv: Server, clock: FakeClock) -> tuple[dict[str, Any], datetime]:
    s = await zoom_session(srv)
    await start(srv, s["id"])
    t0 = clock.now()
    clock.advance(minutes=60)
    ok(await srv.api("POST", f"/api/sessions/{s['id']}/close"))
    return s, t0


async def test_a_zoom_csv_is_imported_matched_and_merged_into_the_sheet(zsrv: Server, clock: FakeClock) -> None:
    s, t0 = await closed_class(zsrv, clock)
    raw = zoom_csv(
        t0,
        [
            ("Ada Lovelace", "ada@example.org", -10, 20),  # before the start: clipped to 20
            ("Ada Lovelace", "ada@example.org", 15, 40),  # overlaps: the union is 40
            ("Ada Lovelace", "ada@example.org", 15, 40),  # the same row twice: counted once
            ("Jo (José Müller)", "", 5, 65),  # renamed in Zoom; past the close: clipped to 55
            ("Hopper, Grace", "", 0, 30),  # "Last, First"
            ("Phone User 2", "", 0, 10),
        ],
    )
    answer = ok(await imported(zsrv, s["id"], raw))
    assert answer["platform"] == "zoom" and answer["matched"] == 4 and answer["duplicates"] == 1
    assert answer["unmatched"] == [{"row": 10, "name": "Phone User 2", "email": ""}]
    sheet = await sheet_of(zsrv, s["id"])
    assert {e: r["platform_minutes"] for e, r in sheet.items()} == {
        "ada@example.org": 40.0,
        "jose@example.org": 55.0,
        "grace@example.org": 30.0,
        "alan@example.org": None,
    }
    assert list(next(iter(sheet.values())))[7:9] == ["minutes_present", "platform_minutes"]
    listed = await overview(zsrv, s["id"])
    by = {r["name"]: r["matched_by"] for r in listed["imports"][0]["rows"]}
    assert by == {"Ada Lovelace": "email", "Jo (José Müller)": "name", "Hopper, Grace": "name", "Phone User 2": None}


async def test_a_teams_report_by_multipart_and_a_manual_match(zsrv: Server, clock: FakeClock) -> None:
    s, t0 = await closed_class(zsrv, clock)
    raw = teams_report(
        t0, [("Müller, José", "", 0, 30), ("Ada L. (Guest)", "", 10, 50), ("Grace Hopper", "GRACE@example.org", 0, 60)]
    )
    answer = ok(await imported(zsrv, s["id"], raw, multipart=True))
    assert answer["platform"] == "teams" and answer["layout"] == "teams:intervals"
    assert answer["matched"] == 2
    assert [u["name"] for u in answer["unmatched"]] == ["Ada L. (Guest)"]
    row = answer["unmatched"][0]["row"]
    ada = next(p for p in (await overview(zsrv, s["id"]))["participants"] if p["email"] == "ada@example.org")
    ok(
        await zsrv.api(
            "POST",
            f"/api/sessions/{s['id']}/platform-attendance/match",
            {"import_id": answer["import_id"], "row": row, "participant_id": ada["participant_id"]},
        )
    )
    sheet = await sheet_of(zsrv, s["id"])
    assert sheet["ada@example.org"]["platform_minutes"] == 40.0
    assert sheet["grace@example.org"]["platform_minutes"] == 60.0
    assert sheet["jose@example.org"]["platform_minutes"] == 30.0
    # Bad matches: a row that is not there, an import that is not this session's, someone not on the roster.
    path = f"/api/sessions/{s['id']}/platform-attendance/match"
    refused(
        await zsrv.api("POST", path, {"import_id": answer["import_id"], "row": 999, "participant_id": None}),
        "not_found",
    )
    refused(
        await zsrv.api("POST", path, {"import_id": "nosuchimport", "row": row, "participant_id": None}), "not_found"
    )
    refused(
        await zsrv.api("POST", path, {"import_id": answer["import_id"], "row": row, "participant_id": "nobody"}),
        "invalid",
    )
    refused(await zsrv.api("POST", path, {"import_id": answer["import_id"], "row": "one"}), "invalid")


async def test_the_fixture_reports_are_recognised_by_content(zsrv: Server) -> None:
    s = await zoom_session(zsrv)
    for name, platform in [
        ("zoom_participants.csv", "zoom"),
        ("teams_attendance_2023.csv", "teams"),
        ("teams_attendance_2020.csv", "teams"),
    ]:
        answer = ok(await imported(zsrv, s["id"], (FIXTURES / name).read_bytes(), multipart=name.endswith("2020.csv")))
        assert answer["platform"] == platform, name
        assert answer["matched"] >= 1


async def test_a_second_import_from_the_same_platform_replaces_the_first(zsrv: Server, clock: FakeClock) -> None:
    s, t0 = await closed_class(zsrv, clock)
    first = ok(await imported(zsrv, s["id"], zoom_csv(t0, [("Ada Lovelace", "ada@example.org", 0, 50)])))
    ok(await imported(zsrv, s["id"], teams_report(t0, [("Alan Turing", "alan@example.org", 0, 5)])))
    second = ok(await imported(zsrv, s["id"], zoom_csv(t0, [("Ada Lovelace", "ada@example.org", 0, 20)])))
    listed = await overview(zsrv, s["id"])
    assert sorted(i["platform"] for i in listed["imports"]) == ["teams", "zoom"]
    assert first["import_id"] not in {i["import_id"] for i in listed["imports"]}
    assert second["import_id"] in {i["import_id"] for i in listed["imports"]}
    sheet = await sheet_of(zsrv, s["id"])
    assert sheet["ada@example.org"]["platform_minutes"] == 20.0
    assert sheet["alan@example.org"]["platform_minutes"] == 5.0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"name,email\nAda,ada@example.org\n", "not a Zoom participants report"),
        ("Name,Join Time,Leave Time\nJosé,x,y\n".encode("latin-1"), "encoding"),
        (b"\xff\xfe" + "Name\tJoin Time\tLeave Time\nAda\tyesterday\tnow\n".encode("utf-16-le"), "line 2"),
    ],
)
async def test_a_report_in_the_wrong_format_or_encoding_is_400_and_nothing_is_imported(
    zsrv: Server, clock: FakeClock, raw: bytes, message: str
) -> None:
    s = await zoom_session(zsrv)
    ok(await imported(zsrv, s["id"], zoom_csv(clock.now(), [("Ada Lovelace", "ada@example.org", 0, 20)])))
    body = refused(await imported(zsrv, s["id"], raw), "invalid")
    assert message in body["error"]["message"]
    listed = await overview(zsrv, s["id"])
    assert [len(i["rows"]) for i in listed["imports"]] == [1]  # the import before it stands


async def test_a_report_over_20_mb_is_413(zsrv: Server, clock: FakeClock) -> None:
    s = await zoom_session(zsrv)
    big = zoom_csv(clock.now(), [("Ada Lovelace", "ada@example.org", 0, 20)]) + b"x" * (20 * 1024 * 1024)
    refused(await imported(zsrv, s["id"], big), "too_large")
    refused(await imported(zsrv, s["id"], big, multipart=True), "too_large")
    assert (await overview(zsrv, s["id"]))["imports"] == []


async def test_a_multipart_body_without_a_file_part_is_400(zsrv: Server) -> None:
    s = await zoom_session(zsrv)
    r = await zsrv.api(
        "POST", f"/api/sessions/{s['id']}/platform-attendance", files={"other": ("x.csv", b"a", "text/csv")}
    )
    refused(r, "invalid")


async def test_the_sheet_with_platform_minutes_round_trips_through_the_csv(zsrv: Server, clock: FakeClock) -> None:
    s, t0 = await closed_class(zsrv, clock)
    ok(await imported(zsrv, s["id"], zoom_csv(t0, [("Ada Lovelace", "ada@example.org", 0, 12.5)])))
    rows = ok(await zsrv.api("GET", f"/api/sessions/{s['id']}/attendance"))
    rows_list = rows.get("body", rows.get("rows"))
    text = (await zsrv.api("GET", f"/api/sessions/{s['id']}/attendance.csv")).text
    parsed = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    header = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert header.index("platform_minutes") == header.index("minutes_present") + 1
    assert len(parsed) == len(rows_list) == 4
    for json_row, csv_row in zip(rows_list, parsed, strict=True):
        pm = json_row["platform_minutes"]
        assert csv_row["platform_minutes"] == ("" if pm is None else str(pm))
        assert (float(csv_row["platform_minutes"]) if csv_row["platform_minutes"] else None) == pm
    assert {r["email"]: r["platform_minutes"] for r in parsed}["ada@example.org"] == "12.5"


# ---------------------------------------------------------------- who may


async def test_each_route_for_each_role(zsrv: Server, clock: FakeClock) -> None:
    s = await zoom_session(zsrv)
    other = await zsrv.session(instructor_email="someone.else@example.org")
    instructor = await zsrv.token("instructor", "Iris Instructor", "teacher@example.org")
    foreign = await zsrv.token("instructor", "Olga Other", "olga@example.org")
    support = await zsrv.token("support", "Sam Support", "support@example.org")
    tokens = {"admin": zsrv.admin_token, "instructor": instructor, "support": support}
    raw = zoom_csv(clock.now(), [("Ada Lovelace", "ada@example.org", 0, 20), ("Nobody", "", 0, 5)])
    for role, token in tokens.items():
        r = await imported(zsrv, s["id"], raw, token=token)
        if role == "support":
            refused(r, "forbidden")
        else:
            answer = ok(r)
            m = await zsrv.api(
                "POST",
                f"/api/sessions/{s['id']}/platform-attendance/match",
                {"import_id": answer["import_id"], "row": answer["unmatched"][0]["row"], "participant_id": None},
                token=token,
            )
            assert ok(m) == {}
        assert "imports" in await overview(zsrv, s["id"], token)
    refused(
        await zsrv.api(
            "POST",
            f"/api/sessions/{s['id']}/platform-attendance/match",
            {"import_id": "x", "row": 1, "participant_id": None},
            token=support,
        ),
        "forbidden",
    )
    refused(await imported(zsrv, other["id"], raw, token=foreign), "forbidden")
    refused(await zsrv.api("GET", f"/api/sessions/{other['id']}/platform-attendance", token=foreign), "forbidden")
    ptoken = s["people"][0]["token"]
    refused(await zsrv.api("GET", f"/api/sessions/{s['id']}/platform-attendance", token=ptoken), "forbidden")
    refused(await imported(zsrv, s["id"], raw, token=ptoken), "forbidden")
    match = {"import_id": "x", "row": 1, "participant_id": None}
    refused(
        await zsrv.api("POST", f"/api/sessions/{s['id']}/platform-attendance/match", match, token=ptoken), "forbidden"
    )
    r = await zsrv.http.get(f"/api/sessions/{s['id']}/platform-attendance")
    refused(r, "unauthorized")


async def test_the_session_record_gets_one_row_per_interval(zsrv: Server, clock: FakeClock) -> None:
    from core.record import PLATFORM_ATTENDANCE_COLUMNS
    from persistence.repos import platform_attendance as repo

    s, t0 = await closed_class(zsrv, clock)
    assert await zsrv.service.unit.read(repo.for_record, session_id=s["id"]) is None
    ok(
        await imported(
            zsrv, s["id"], zoom_csv(t0, [("Ada Lovelace", "ada@example.org", 0, 12.5), ("Nobody", "", 1, 2)])
        )
    )
    rows = await zsrv.service.unit.read(repo.for_record, session_id=s["id"])
    assert [tuple(r) for r in rows] == [PLATFORM_ATTENDANCE_COLUMNS] * 2
    assert [(r["platform"], r["name"], r["minutes"], r["participant_id"] is None) for r in rows] == [
        ("zoom", "Ada Lovelace", 12.5, False),
        ("zoom", "Nobody", 1.0, True),
    ]


@pytest.mark.slow
async def test_an_answered_import_match_and_webhook_event_survive_kill_9(tmp_path: Path) -> None:
    import signal
    from datetime import UTC

    import httpx

    from server.cli import _create_token
    from tests.test_durability import Process

    process = Process(tmp_path)
    process.env["COMPANION_ZOOM_WEBHOOK_SECRET"] = SECRET
    _, admin = await _create_token(process.settings(), "admin", "Root", None)
    await process.start()
    try:
        async with httpx.AsyncClient(base_url=process.url, headers={"authorization": f"Bearer {admin}"}) as http:
            now = datetime.now(UTC).replace(microsecond=0)
            body = {
                "topic": "Durable",
                "instructor_email": "teacher@example.org",
                "starts_at": (now + timedelta(minutes=10)).isoformat(),
                "duration_minutes": 60,
                "platform": "zoom",
                "join_url": JOIN_URL,
            }
            s = (await http.post("/api/sessions", json=body)).json()
            assert (
                await http.post(f"/api/sessions/{s['id']}/participants", json={"participants": ROSTER})
            ).status_code == 200
            answer = ok(
                await http.post(
                    f"/api/sessions/{s['id']}/platform-attendance",
                    content=zoom_csv(now, [("Ada Lovelace", "ada@example.org", 0, 20), ("Phone User 2", "", 0, 5)]),
                )
            )
            listed = ok(await http.get(f"/api/sessions/{s['id']}/platform-attendance"))
            alan = next(p for p in listed["participants"] if p["email"] == "alan@example.org")
            match = {
                "import_id": answer["import_id"],
                "row": answer["unmatched"][0]["row"],
                "participant_id": alan["participant_id"],
            }
            ok(await http.post(f"/api/sessions/{s['id']}/platform-attendance/match", json=match))
            raw = json.dumps(participant_event("joined", now, "Grace Hopper", "grace@example.org")).encode()
            ts = str(int(datetime.now(UTC).timestamp()))
            sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
            headers = {"x-zm-request-timestamp": ts, "x-zm-signature": sig, "content-type": "application/json"}
            ok(await http.post("/api/webhooks/zoom", content=raw, headers=headers))
            process.kill(signal.SIGKILL)

            await process.start()
            after = ok(await http.get(f"/api/sessions/{s['id']}/platform-attendance"))
            assert [i["import_id"] for i in after["imports"]] == [answer["import_id"]]
            rows = after["imports"][0]["rows"]
            assert [(r["name"], r["participant_id"] is not None) for r in rows] == [
                ("Ada Lovelace", True),
                ("Phone User 2", True),
            ]
            assert rows[1]["participant_id"] == alan["participant_id"] and rows[1]["matched_by"] == "manual"
            assert [(w["name"], w["participant_id"] is not None) for w in after["webhook"]] == [("Grace Hopper", True)]
    finally:
        if process.proc is not None:
            process.kill()
