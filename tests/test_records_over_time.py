"""Records over time, the parts built so far (contract part 2, Records management): a session's legal hold,
COMPANION_RETENTION read at start (the audit log's retention handed to the database), and attendance marks
in the audit log. A real server on both configurations."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core import retention
from core.settings import Settings, SettingsError
from persistence.repos import audit
from tests.support import Class, Server, refused, running_server


async def audit_of(server: Server, session_id: str, action: str) -> list[dict[str, Any]]:
    r = await server.api("GET", f"/api/audit?session_id={session_id}&action={action}")
    assert r.status_code == 200, r.text
    return list(r.json()["entries"])


async def test_an_admin_puts_a_session_on_legal_hold_and_takes_it_off_each_change_audited(server: Server) -> None:
    s = await server.session()
    url = f"/api/sessions/{s['id']}/legal-hold"
    r = await server.api("POST", url, {"hold": True, "reason": "Complaint 2031-17"})
    assert r.status_code == 200, r.text
    held = r.json()
    assert held["id"] == s["id"] and held["legal_hold"]["reason"] == "Complaint 2031-17"
    assert held["legal_hold"]["by"].startswith("token:") and held["legal_hold"]["at"]
    # The same again changes nothing and writes nothing; another reason updates it.
    assert (await server.api("POST", url, {"hold": True, "reason": "Complaint 2031-17"})).json() == held
    r = await server.api("POST", url, {"hold": True, "reason": "Complaint 2031-17 and appeal"})
    assert r.json()["legal_hold"]["reason"] == "Complaint 2031-17 and appeal"
    r = await server.api("POST", url, {"hold": False, "reason": "Appeal settled"})
    assert r.status_code == 200 and r.json()["legal_hold"] is None
    entries = await audit_of(server, s["id"], "hold")
    assert [(e["detail"]["hold"], e["detail"]["reason"], e["detail"]["before"]) for e in entries] == [
        (True, "Complaint 2031-17", None),
        (True, "Complaint 2031-17 and appeal", "Complaint 2031-17"),
        (False, "Appeal settled", "Complaint 2031-17 and appeal"),
    ]
    assert (await server.api("POST", url, {"hold": False, "reason": "again"})).json()["legal_hold"] is None
    assert len(await audit_of(server, s["id"], "hold")) == 3


async def test_only_an_admin_may_hold_and_bad_bodies_write_nothing(server: Server) -> None:
    s = await server.session()
    (p,) = await server.participants(s["id"], 1)
    url = f"/api/sessions/{s['id']}/legal-hold"
    good = {"hold": True, "reason": "Complaint"}
    for token in (
        await server.token("instructor", "Iris Instructor", "teacher@example.org"),
        await server.token("support", "Sam Support", "sam@example.org"),
        p["token"],
    ):
        refused(await server.api("POST", url, good, token=token), "forbidden", status=403)
    assert (await server.http.post(url, json=good)).status_code == 401
    for bad, field in (
        ({"reason": "x"}, "hold"),
        ({"hold": "yes", "reason": "x"}, "hold"),
        ({"hold": True}, "reason"),
        ({"hold": True, "reason": "   "}, "reason"),
        ({"hold": True, "reason": "x" * 501}, "reason"),
        ({"hold": True, "reason": "two\nlines"}, "reason"),
    ):
        refused(await server.api("POST", url, bad), "invalid", field)
    refused(await server.api("POST", "/api/sessions/nosuchsession/legal-hold", good), "not_found", status=404)
    assert await audit_of(server, s["id"], "hold") == []


async def test_an_attendance_mark_is_audited_by_who_marked_it(klass: Class) -> None:
    pid = klass.people[0]["id"]
    await klass.instructor.ok("attendance:mark", {"participant_id": pid, "status": "excused"})
    await klass.admin.ok("attendance:mark", {"participant_id": pid, "status": "present"})
    entries = await audit_of(klass.server, klass.id, "mark")
    assert [(e["target"], e["detail"]["before"], e["detail"]["mark"]) for e in entries] == [
        (f"participant:{pid}", None, "excused"),
        (f"participant:{pid}", "excused", "present"),
    ]
    assert entries[0]["actor"] != entries[1]["actor"] and not any("@" in e["actor"] for e in entries)
    refused(await klass.participants[0].call("attendance:mark", {"participant_id": pid, "status": "late"}), "forbidden")
    assert len(await audit_of(klass.server, klass.id, "mark")) == 2


def test_companion_retention_is_read_at_start_and_a_bad_one_stops_it() -> None:
    env = {"COMPANION_SECRET_KEY": "k" * 40}
    assert Settings.from_env({**env, "COMPANION_RETENTION": "audit=10y,chat=30d"}).retention.keep["chat"] == (
        timedelta(days=30)
    )
    with pytest.raises(SettingsError, match="COMPANION_RETENTION: 'email' is not one of"):
        Settings.from_env({**env, "COMPANION_RETENTION": "email=30d"})


async def test_the_audit_retention_is_handed_to_the_database_at_start(tmp_path: Path, backing: dict[str, Any]) -> None:
    async with running_server(tmp_path, retention=retention.parse("audit=30d"), **backing) as srv:
        assert await srv.service.unit.read(audit.keep_seconds) == 30 * 86400


async def test_an_attendance_csv_download_is_audited_before_it_is_answered(server: Server) -> None:
    s = await server.session()
    await server.participants(s["id"], 2)
    support = await server.token("support", "Desk", "desk@example.org")
    r = await server.api("GET", f"/api/sessions/{s['id']}/attendance.csv", token=support)
    assert r.status_code == 200 and r.text.count("\n") == 3
    (entry,) = await audit_of(server, s["id"], "download")
    assert entry["target"] == f"attendance:{s['id']}" and entry["detail"] == {"file": "attendance.csv"}
    assert entry["actor"].startswith("staff:") and entry["at"]  # the support member, by internal id
    # Another caller's refused download writes nothing.
    other = await server.token("instructor", "Other", "other@example.org")
    assert (await server.api("GET", f"/api/sessions/{s['id']}/attendance.csv", token=other)).status_code == 403
    assert len(await audit_of(server, s["id"], "download")) == 1
