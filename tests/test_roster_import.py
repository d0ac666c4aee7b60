"""The roster from a spreadsheet (POST /api/sessions/{id}/participants.csv) and choosing a time with the people
concerned (POST /api/schedule/suggest), over HTTP against a real server."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import Server, ok, refused


async def upload(
    server: Server, session_id: str, data: bytes, token: str | None = None, **headers: str
) -> httpx.Response:
    return await server.http.post(
        f"/api/sessions/{session_id}/participants.csv",
        content=data,
        headers={"authorization": f"Bearer {token or server.admin_token}", "content-type": "text/csv", **headers},
    )


async def roster(server: Server, session_id: str) -> list[dict[str, Any]]:
    people: list[dict[str, Any]] = ok(await server.api("GET", f"/api/sessions/{session_id}/participants"))[
        "participants"
    ]
    return people


async def test_an_excel_semicolon_file_with_a_bom_imports_with_each_time_zone(server: Server) -> None:
    session = await server.session()
    data = (
        "\ufeffE-mail;Name;Time zone;Student ID\r\n"
        "ada@example.org;Ada Lovelace;Europe/London;17\r\n"
        "bo@example.org;Bo, Jr.;;18\r\n"
    )
    answer = ok(await upload(server, session["id"], data.encode()))
    assert [(p["name"], p["email"], p["timezone"]) for p in answer["participants"]] == [
        ("Ada Lovelace", "ada@example.org", "Europe/London"),
        ("Bo, Jr.", "bo@example.org", None),
    ]
    assert all(p["token"] and p["join_url"] for p in answer["participants"])
    assert [(p["name"], p["timezone"]) for p in await roster(server, session["id"])] == [
        ("Ada Lovelace", "Europe/London"),
        ("Bo, Jr.", None),
    ]
    # The same file again changes nothing but names; each keeps their link.
    again = ok(await upload(server, session["id"], data.encode()))
    assert [p["token"] for p in again["participants"]] == [p["token"] for p in answer["participants"]]


async def test_every_bad_row_is_named_by_line_and_nothing_is_imported(server: Server) -> None:
    session = await server.session()
    data = (
        "name,email,timezone\n"
        "Ada,ada@example.org,Europe/Paris\n"
        "Bo,not-an-email,\n"
        ",cy@example.org,\n"
        "Di,ADA@example.org,Mars/Base\n"
    )
    answer = refused(await upload(server, session["id"], data.encode()), "invalid")
    rows = answer["error"]["rows"]
    assert [r["line"] for r in rows] == [3, 4, 5]
    assert "email" in rows[0]["message"] and "name" in rows[1]["message"]
    assert "line 2" in rows[2]["message"] and "Mars/Base" in rows[2]["message"]
    assert await roster(server, session["id"]) == []


async def test_files_that_are_not_a_roster_are_refused_clearly(server: Server) -> None:
    session = await server.session()
    too_many = "name,email\n" + "".join(f"P{i},p{i}@example.org\n" for i in range(10_000))
    cases: list[tuple[bytes, str]] = [
        (too_many.encode(), "5,000"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV"),
        ("name,email\nAda,ada@example.org\n".encode("utf-16"), "UTF-8"),
        (b"", "empty"),
        (b"name,email\n", "no participants"),
        (b"email\nada@example.org\n", "name"),
    ]
    for data, words in cases:
        answer = refused(await upload(server, session["id"], data), "invalid")
        assert words.lower() in answer["error"]["message"].lower(), (words, answer)
    refused(await upload(server, session["id"], b"x" * (5 << 20) + b"x"), "too_large")
    form = await server.http.post(
        f"/api/sessions/{session['id']}/participants.csv",
        files={"file": ("roster.csv", b"name,email\nA,a@example.org\n", "text/csv")},
        headers={"authorization": f"Bearer {server.admin_token}"},
    )
    refused(form, "invalid", "form")
    assert await roster(server, session["id"]) == []


async def test_only_an_admin_imports_a_roster(server: Server) -> None:
    session = await server.session()
    for role in ("instructor", "support"):
        token = await server.token(role, "Staff", "teacher@example.org" if role == "instructor" else "s@example.org")
        refused(await upload(server, session["id"], b"name,email\nA,a@example.org\n", token=token), "forbidden")
    [person] = await server.participants(session["id"], 1)
    refused(await upload(server, session["id"], b"name,email\nA,a@example.org\n", token=person["token"]), "forbidden")
    refused(await upload(server, "no-such-session", b"name,email\nA,a@example.org\n"), "not_found")


async def test_a_closed_session_takes_no_import(server: Server) -> None:
    session = await server.session()
    ok(await server.api("POST", f"/api/sessions/{session['id']}/close"))
    refused(await upload(server, session["id"], b"name,email\nA,a@example.org\n"), "conflict")


# ---------------------------------------------------------------- suggesting times


async def test_suggested_times_rank_by_who_can_attend_in_their_own_zone(server: Server) -> None:
    """A Tokyo participant and a New York one can share only a narrow band of the day; the instructor's
    other session blocks its hour; each slot names who cannot come and why."""
    lecture = await server.session(
        instructor_email="prof@example.org", starts_at="2038-04-06T13:00:00Z", duration_minutes=60
    )
    ok(
        await server.api(
            "POST",
            f"/api/sessions/{lecture['id']}/participants",
            {
                "participants": [
                    {"name": "Kei", "email": "kei@example.org", "timezone": "Asia/Tokyo"},
                    {"name": "Nia", "email": "nia@example.org", "timezone": "America/New_York"},
                ]
            },
        )
    )
    request = {
        "instructor_email": "prof@example.org",
        "duration_minutes": 60,
        "session_id": lecture["id"],
        "from": "2038-04-06T00:00:00Z",
        "to": "2038-04-07T00:00:00Z",
        "timezone": "Europe/London",  # the instructor's, who never gave one
        "limit": 50,
    }
    slots = ok(await server.api("POST", "/api/schedule/suggest", request))["slots"]
    assert slots, "some time of the day suits someone"
    best = slots[0]
    assert best["total"] == 3 and best["available"] == max(s["available"] for s in slots)
    starts = [s["starts_at"] for s in slots]
    assert (
        "2038-04-06T13:00:00.000Z" not in starts and "2038-04-06T12:30:00.000Z" not in starts
    )  # the instructor teaches
    # At 23:00 UTC it is 08:00 in Tokyo but 19:00 in New York and midnight in London: the instructor cannot.
    assert "2038-04-06T23:00:00.000Z" not in starts
    # Somewhere in the day Kei is outside working hours, and the answer says so.
    reasons = {(u["email"], u["reason"]) for s in slots for u in s["unavailable"]}
    assert ("kei@example.org", "outside_working_hours") in reasons
    for s in slots:
        assert s["available"] + len(s["unavailable"]) == s["total"]
    refused(
        await server.api("POST", "/api/schedule/suggest", {**request, "to": "2038-06-01T00:00:00Z"}), "invalid", "31"
    )
    refused(
        await server.api("POST", "/api/schedule/suggest", {**request, "step_minutes": 7}), "invalid", "step_minutes"
    )
    refused(
        await server.api("POST", "/api/schedule/suggest", {**request, "timezone": "Nowhere"}), "invalid", "timezone"
    )
    refused(
        await server.api("POST", "/api/schedule/suggest", {**request, "working_hours": {"start": "25:00"}}), "invalid"
    )
    instructor = await server.token("instructor", "Prof", "prof@example.org")
    refused(await server.api("POST", "/api/schedule/suggest", request, token=instructor), "forbidden")


async def test_suggesting_for_pasted_emails_counts_each_once(server: Server) -> None:
    answer = ok(
        await server.api(
            "POST",
            "/api/schedule/suggest",
            {
                "instructor_email": "prof@example.org",
                "duration_minutes": 30,
                "emails": ["a@example.org", "A@example.org", "prof@example.org"],
                "from": "2038-04-06T09:00:00Z",
                "to": "2038-04-06T11:00:00Z",
                "limit": 3,
            },
        )
    )
    assert [s["starts_at"] for s in answer["slots"]] == [
        "2038-04-06T09:00:00.000Z",
        "2038-04-06T09:30:00.000Z",
        "2038-04-06T10:00:00.000Z",
    ]
    assert all(s["total"] == 2 and s["available"] == 2 for s in answer["slots"])
