"""Feedback forms after the class (docs/feedback.md) over HTTP and Socket.IO, both configurations.

A real server with a fake clock, a real local SMTP server (tests/fakes/smtp.py) and real Socket.IO
tabs: the close gives each tab its own link and mails everyone theirs; one reminder goes, later, only
to those who have not answered. Each refusal is checked to have written nothing.
"""

from __future__ import annotations

import asyncio
import email.message
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from core import feedback as rules
from persistence.identity import rsvp_token
from persistence.repos import feedback as repo
from tests.clock import FakeClock
from tests.clocked import clocked_server
from tests.fakes.smtp import FakeSmtp
from tests.support import Server, ok, refused

INSTRUCTOR = "teacher@example.org"
LINK = re.compile(r"https?://\S+/feedback/(fbk\.\S+)")

FORM = {
    "anonymous": False,
    "questions": [
        {"id": "overall", "kind": "rating", "text": "How was it?", "required": True},
        {"id": "pace", "kind": "choice", "text": "The pace", "options": ["slow", "right", "fast"]},
        {"id": "parts", "kind": "multi", "text": "Useful parts", "options": ["talk", "demo", "lab"]},
        {"id": "notes", "kind": "text", "text": "Anything else?"},
        {"id": "again", "kind": "yesno", "text": "Come again?"},
    ],
}


@pytest.fixture
async def srv(
    tmp_path: Path, backing: dict[str, Any], clock: FakeClock, smtp_server: FakeSmtp
) -> AsyncIterator[Server]:
    async with clocked_server(
        tmp_path,
        clock,
        ticker_seconds=0.2,
        jobs_every_s=0.05,
        reminders=(),
        smtp_url=f"smtp://127.0.0.1:{smtp_server.port}",
        **backing,
    ) as s:
        yield s


async def instructor(srv: Server) -> str:
    return await srv.token("instructor", "Iris Instructor", INSTRUCTOR)


def token_of(link: str) -> str:
    return link.rsplit("/feedback/", 1)[1]


def to(m: email.message.EmailMessage) -> str:
    return str(m["To"].addresses[0].addr_spec)  # type: ignore[union-attr]


def link_in(m: email.message.EmailMessage) -> str:
    found = LINK.search(str(m.get_content()))
    assert found is not None, m.get_content()
    return found.group(1)


async def close(srv: Server, session_id: str) -> None:
    ok(await srv.api("POST", f"/api/sessions/{session_id}/close"))


def ours(smtp: FakeSmtp) -> list[email.message.EmailMessage]:
    """The feedback mails among those the SMTP server got (a readiness mail may come too)."""
    return [m for m in smtp.messages() if "feedback on" in m["Subject"] or "notes on the session" in m["Subject"]]


async def mails(smtp: FakeSmtp, n: int, timeout: float = 20) -> list[email.message.EmailMessage]:
    for _ in range(int(timeout / 0.05)):
        if len(ours(smtp)) >= n:
            break
        await asyncio.sleep(0.05)
    got = ours(smtp)
    assert len(got) >= n, [(to(m), m["Subject"]) for m in smtp.messages()]
    return got


async def answer(srv: Server, token: str, answers: Any) -> Any:
    return await srv.http.post(f"/api/feedback/{token}", json={"answers": answers})


async def closed_with(srv: Server, n: int, form: dict[str, Any] | None = None) -> tuple[str, list[str]]:
    """A closed session of n participants (and its form, if given): its id and each participant's token."""
    s = await srv.session()
    people = await srv.participants(s["id"], n)
    if form is not None:
        ok(await srv.api("PUT", f"/api/sessions/{s['id']}/feedback-form", form))
    await close(srv, s["id"])
    key = srv.settings.secret_key
    return s["id"], [rules.make_token(key, s["id"], p["id"]) for p in people]


# ---------------------------------------------------------------- the close: tabs, mails, one reminder


async def test_the_close_gives_every_tab_its_link_and_mails_everyone_then_reminds_only_those_who_did_not_answer(
    srv: Server, clock: FakeClock, smtp_server: FakeSmtp
) -> None:
    s = await srv.session()
    people = await srv.participants(s["id"], 3)
    tabs = [await srv.connect(p["token"]) for p in people]
    second_tab = await srv.connect(people[0]["token"])  # a person with two tabs gets it in both
    staff = await srv.connect(srv.admin_token, s["id"])
    await close(srv, s["id"])

    links = [(await tab.wait_for("feedback"))["link"] for tab in tabs]
    assert (await second_tab.wait_for("feedback"))["link"] == links[0]
    assert len(set(links)) == 3, "each link is personal"
    assert not staff.of("feedback"), "staff get no participant's link"
    for tab, link in zip(tabs, links, strict=True):
        state = ok(await tab.call("session:state", {}))
        assert state["feedback"]["link"] == link  # a tab opened after the close draws the form too
    assert "feedback" not in ok(await staff.call("session:state", {}))

    first = await mails(smtp_server, 4)
    by = {to(m): m for m in first}
    assert set(by) == {INSTRUCTOR, *(p["email"] for p in people)}
    for p, link in zip(people, links, strict=True):
        assert link_in(by[p["email"]]) == token_of(link)
        assert by[p["email"]]["Subject"] == "your feedback on “Distributed systems”"
    teacher = link_in(by[INSTRUCTOR])
    assert rules.parse_token(teacher, srv.settings.secret_key) == (s["id"], "instructor")
    assert ok(await srv.http.get(f"/api/feedback/{teacher}"))["for"] == "instructor"

    ok(await answer(srv, token_of(links[1]), {"overall": 5}))
    clock.advance(seconds=47 * 3600)
    await asyncio.sleep(0.5)
    assert len(ours(smtp_server)) == 4, "no reminder before 48 h"
    clock.advance(seconds=2 * 3600)
    got = await mails(smtp_server, 7)
    reminded = {to(m): m for m in got[4:]}
    assert set(reminded) == {INSTRUCTOR, people[0]["email"], people[2]["email"]}
    assert all(m["Subject"].startswith("Reminder: ") for m in reminded.values())
    assert link_in(reminded[people[0]["email"]]) == token_of(links[0])
    clock.advance(seconds=7 * 24 * 3600)
    await asyncio.sleep(0.6)
    assert len(ours(smtp_server)) == 7, "one reminder only"


async def test_a_reminder_is_skipped_for_someone_who_answered_after_it_was_queued(
    srv: Server, clock: FakeClock, smtp_server: FakeSmtp
) -> None:
    session_id, tokens = await closed_with(srv, 1)
    await mails(smtp_server, 2)
    smtp_server.fail_next(2, "refuse_transient")  # the reminder's two mails fail their first try
    clock.advance(seconds=49 * 3600)
    for _ in range(200):  # the reminder has queued its two mails, and their first tries failed
        if await _tried_reminders(srv, session_id) == 2:
            break
        await asyncio.sleep(0.05)
    assert await _tried_reminders(srv, session_id) == 2
    ok(await answer(srv, tokens[0], {"overall": 3}))
    clock.advance(seconds=120)  # past their back-off
    await mails(smtp_server, 3)
    await asyncio.sleep(0.5)  # the participant's reminder had its second try too, and was skipped
    assert [to(m) for m in ours(smtp_server)[2:]] == [INSTRUCTOR], "who answered meanwhile is not reminded"


async def _tried_reminders(srv: Server, session_id: str) -> int:
    """How many reminder mails wait for another try after a failed one."""
    from persistence.repos import jobs

    engine = create_async_engine(srv.settings.database_url)
    try:
        async with async_sessionmaker(engine)() as db:
            found = await jobs.for_session(db, session_id=session_id)
    finally:
        await engine.dispose()
    return sum(
        1
        for j in found
        if j.kind == "feedback-mail" and j.key.endswith(":reminder") and j.state == "pending" and j.attempts >= 1
    )


# ---------------------------------------------------------------- who may


async def test_each_route_for_each_role(srv: Server) -> None:
    s = await srv.session()
    sid = s["id"]
    (person,) = await srv.participants(sid, 1)
    callers = {
        "admin": srv.admin_token,
        "instructor": await instructor(srv),
        "other instructor": await srv.token("instructor", "Otto Other", "other@example.org"),
        "support": await srv.token("support", "Sam Support", "support@example.org"),
        "participant": person["token"],
    }
    allowed = {
        ("GET", "feedback-form"): {"admin", "instructor", "support"},
        ("PUT", "feedback-form"): {"admin", "instructor"},
        ("GET", "feedback"): {"admin", "instructor", "support"},
    }
    for (method, path), who in allowed.items():
        for query in ("", "?for=instructor"):
            url = f"/api/sessions/{sid}/{path}{query}"
            body = FORM if method == "PUT" else None
            for name, token in callers.items():
                r = await srv.api(method, url, body, token=token)
                if name in who:
                    assert r.status_code == 200, (method, url, name, r.text)
                else:
                    refused(r, "forbidden")
            refused(await srv.http.request(method, url, json=body), "unauthorized")

    await close(srv, sid)
    good = rules.make_token(srv.settings.secret_key, sid, person["id"])
    bad = {
        "malformed": "not-a-token",
        "forged": good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"),
        "another key": rules.make_token("some-other-key-0123456789-0123456789", sid, person["id"]),
        "another session": rules.make_token(srv.settings.secret_key, "0" * 32, person["id"]),
        "a participant token": person["token"],
        "an RSVP token": rsvp_token(srv.settings.secret_key, person["id"]),
        "too long": "fbk." + "a" * 400,
    }
    for name, token in bad.items():
        assert (await srv.http.get(f"/api/feedback/{token}")).status_code == 404, name
        refused(await answer(srv, token, {"overall": 4}), "not_found")
    for name, token in callers.items():  # the link is the credential: a bearer token changes nothing
        r = await srv.http.get(f"/api/feedback/{good}", headers={"authorization": f"Bearer {token}"})
        assert r.status_code == 200, name
    page = await srv.http.get(f"/feedback/{good}")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert ok(await srv.api("GET", f"/api/sessions/{sid}/feedback"))["responses"] == 0, "nothing was answered"


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"anonymous": "no", "questions": FORM["questions"]}, "anonymous"),
        ({"anonymous": False}, "questions"),
        ({"questions": [{"id": "a", "kind": "stars", "text": "?"}]}, "questions[0].kind"),
        ({"questions": [{"id": "a", "kind": "choice", "text": "?"}]}, "questions[0].options"),
        (
            {"questions": [{"id": "a", "kind": "yesno", "text": "?"}, {"id": "a", "kind": "text", "text": "!"}]},
            "questions[1].id",
        ),
        ({"questions": [{"id": f"q{i}", "kind": "yesno", "text": "?"} for i in range(31)]}, "at most 30"),
        ([1, 2], "body"),
    ],
)
async def test_a_bad_form_is_refused_naming_the_field_and_nothing_is_written(
    srv: Server, body: Any, field: str
) -> None:
    s = await srv.session()
    before = ok(await srv.api("GET", f"/api/sessions/{s['id']}/feedback-form"))
    refused(await srv.api("PUT", f"/api/sessions/{s['id']}/feedback-form", body), "invalid", field)
    refused(await srv.api("PUT", f"/api/sessions/{s['id']}/feedback-form?for=elsewhere", FORM), "invalid", "for")
    r = await srv.http.put(
        f"/api/sessions/{s['id']}/feedback-form",
        content=b"{not json",
        headers={"authorization": f"Bearer {srv.admin_token}"},
    )
    refused(r, "invalid", "body")
    after = ok(await srv.api("GET", f"/api/sessions/{s['id']}/feedback-form"))
    assert after == before and after["default"] is True


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({}, "answers.overall"),
        ({"overall": 9}, "answers.overall"),
        ({"overall": "5"}, "answers.overall"),
        ({"overall": 3, "pace": "brisk"}, "answers.pace"),
        ({"overall": 3, "parts": ["talk", "nap"]}, "answers.parts"),
        ({"overall": 3, "notes": "x" * 2001}, "answers.notes"),
        ({"overall": 3, "again": "yes"}, "answers.again"),
        ({"overall": 3, "who": "me"}, "answers.who"),
        ([3], "answers"),
    ],
)
async def test_a_bad_answer_is_refused_naming_the_question_and_nothing_is_written(
    srv: Server, answers: Any, field: str
) -> None:
    sid, (token,) = await closed_with(srv, 1, FORM)
    refused(await answer(srv, token, answers), "invalid", field)
    refused(await srv.http.post(f"/api/feedback/{token}", json={"answer": {}}), "invalid", "answers")
    assert ok(await srv.http.get(f"/api/feedback/{token}"))["answers"] is None
    assert ok(await srv.api("GET", f"/api/sessions/{sid}/feedback"))["responses"] == 0
    ok(await answer(srv, token, {"overall": 4}))  # and the link still works


# ---------------------------------------------------------------- fixed, replaced, open


async def test_a_form_is_fixed_once_it_has_answers_each_form_on_its_own(srv: Server) -> None:
    s = await srv.session()
    (person,) = await srv.participants(s["id"], 1)
    teacher = await instructor(srv)
    set_ = ok(await srv.api("PUT", f"/api/sessions/{s['id']}/feedback-form", FORM, token=teacher))
    assert set_["default"] is False and set_["fixed"] is False and set_["questions"][1]["options"][0] == "slow"
    await close(srv, s["id"])
    token = rules.make_token(srv.settings.secret_key, s["id"], person["id"])
    ok(await answer(srv, token, {"overall": 2}))
    changed = {**FORM, "anonymous": True}
    refused(await srv.api("PUT", f"/api/sessions/{s['id']}/feedback-form", changed, token=teacher), "conflict")
    got = ok(await srv.api("GET", f"/api/sessions/{s['id']}/feedback-form"))
    assert got["fixed"] is True and got["anonymous"] is False and got["responses"] == 1
    mine = ok(await srv.api("PUT", f"/api/sessions/{s['id']}/feedback-form?for=instructor", changed, token=teacher))
    assert mine["for"] == "instructor" and mine["anonymous"] is True  # the instructor's own has no answers yet


async def test_answering_again_replaces_and_the_link_shows_the_earlier_answers(srv: Server, clock: FakeClock) -> None:
    sid, (token,) = await closed_with(srv, 1, FORM)
    before = ok(await srv.http.get(f"/api/feedback/{token}"))
    assert before["open"] is True and before["answers"] is None and before["session"]["topic"] == "Distributed systems"
    assert before["form"]["questions"][0]["id"] == "overall" and before["name"] == "Person p0"
    ok(await answer(srv, token, {"overall": 2, "notes": "first"}))
    clock.advance(seconds=60)
    ok(await answer(srv, token, {"overall": 5, "parts": ["lab", "talk"], "again": True}))
    after = ok(await srv.http.get(f"/api/feedback/{token}"))
    assert after["answers"] == {"overall": 5, "parts": ["talk", "lab"], "again": True}
    got = ok(await srv.api("GET", f"/api/sessions/{sid}/feedback"))
    assert got["responses"] == 1
    overall = next(q for q in got["per_question"] if q["id"] == "overall")
    assert overall["average"] == 5 and sum(c["count"] for c in overall["counts"]) == 1
    assert got["respondents"][0]["name"] == "Person p0"
    clock.advance(seconds=int(rules.OPEN_FOR.total_seconds()))
    assert ok(await srv.http.get(f"/api/feedback/{token}"))["open"] is False
    refused(await answer(srv, token, {"overall": 1}), "conflict", "closed")


async def test_before_the_close_the_form_is_shown_but_takes_no_answers(srv: Server) -> None:
    s = await srv.session()
    (person,) = await srv.participants(s["id"], 1)
    token = rules.make_token(srv.settings.secret_key, s["id"], person["id"])
    got = ok(await srv.http.get(f"/api/feedback/{token}"))
    assert got["open"] is False and got["open_until"] is None
    refused(await answer(srv, token, {"overall": 3}), "conflict", "closes")


# ---------------------------------------------------------------- anonymous


async def test_an_anonymous_form_shows_no_names_and_nothing_below_three_responses(srv: Server) -> None:
    sid, tokens = await closed_with(srv, 4)  # the default form: anonymous
    form = ok(await srv.api("GET", f"/api/sessions/{sid}/feedback-form"))
    assert form["anonymous"] is True and form["default"] is True
    for i, token in enumerate(tokens[:2]):
        ok(await answer(srv, token, {"overall": 4, "worked": f"the demo {i}", "technical": False}))
    hidden = ok(await srv.api("GET", f"/api/sessions/{sid}/feedback"))
    assert hidden == {"for": "participants", "responses": 2, "anonymous": True, "hidden": True, "per_question": []}
    ok(await answer(srv, tokens[2], {"overall": 2, "improve": "more breaks", "technical": True}))
    shown = await srv.api("GET", f"/api/sessions/{sid}/feedback")
    body = ok(shown)
    assert body["hidden"] is False and body["responses"] == 3 and "respondents" not in body
    assert "Person" not in shown.text and "participant_id" not in shown.text
    worked = next(q for q in body["per_question"] if q["id"] == "worked")
    assert worked["texts"] == [{"text": "the demo 0"}, {"text": "the demo 1"}]
    technical = next(q for q in body["per_question"] if q["id"] == "technical")
    assert technical["counts"] == [{"value": "yes", "count": 1}, {"value": "no", "count": 2}]
    # the instructor's own form counts on its own: below 3 is not hidden for a named form
    teacher = rules.make_token(srv.settings.secret_key, sid, "instructor")
    ok(await answer(srv, teacher, {"overall": 3}))
    mine = ok(await srv.api("GET", f"/api/sessions/{sid}/feedback?for=instructor"))
    assert mine["hidden"] is False and mine["responses"] == 1 and mine["respondents"][0]["name"] == "Instructor"

    engine = create_async_engine(srv.settings.database_url)
    try:
        async with async_sessionmaker(engine)() as db:
            record = await repo.for_record(db, session_id=sid)
    finally:
        await engine.dispose()
    kept = record["forms"]["participants"]
    assert len(kept["responses"]) == 3 and all(set(r) == {"answers", "submitted_at"} for r in kept["responses"])
    assert "Person" not in repr(kept)
    assert kept["form"]["anonymous"] is True and kept["results"]["responses"] == 3
    assert record["forms"]["instructor"]["responses"][0]["answers"] == {"overall": 3}


# ---------------------------------------------------------------- durability


@pytest.mark.slow
async def test_an_answer_survives_kill_9_right_after_it_was_acknowledged(tmp_path: Path) -> None:
    """A real `companion serve`: the close, then an answer, then kill -9 at once; after a restart both are there."""
    import signal

    import httpx

    from server.cli import _create_token
    from tests.test_durability import Process

    process = Process(tmp_path)
    _, admin = await _create_token(process.settings(), "admin", "Root Admin", None)
    await process.start()
    try:
        async with httpx.AsyncClient(base_url=process.url, headers={"authorization": f"Bearer {admin}"}) as http:
            s = (
                await http.post(
                    "/api/sessions",
                    json={
                        "topic": "Durable feedback",
                        "instructor_email": INSTRUCTOR,
                        "starts_at": "2030-01-01T10:00:00Z",
                        "duration_minutes": 60,
                    },
                )
            ).json()
            people = (
                await http.post(
                    f"/api/sessions/{s['id']}/participants",
                    json={"participants": [{"name": "Ana", "email": "ana@example.org"}]},
                )
            ).json()["participants"]
            ok(await http.put(f"/api/sessions/{s['id']}/feedback-form", json=FORM))
            ok(await http.post(f"/api/sessions/{s['id']}/close"))
            token = rules.make_token(process.settings().secret_key, s["id"], people[0]["id"])
            answers = {"overall": 4, "pace": "fast", "notes": "kept through a crash"}
            ok(await http.post(f"/api/feedback/{token}", json={"answers": answers}))
        process.kill(signal.SIGKILL)
        await process.start()
        async with httpx.AsyncClient(base_url=process.url, headers={"authorization": f"Bearer {admin}"}) as http:
            got = ok(await http.get(f"/api/feedback/{token}"))
            assert got["answers"] == answers
            results = ok(await http.get(f"/api/sessions/{s['id']}/feedback"))
            assert results["responses"] == 1 and results["respondents"][0]["name"] == "Ana"
            form = ok(await http.get(f"/api/sessions/{s['id']}/feedback-form"))
            assert form["fixed"] is True and form["default"] is False
    finally:
        if process.proc is not None:
            process.kill()


# ---------------------------------------------------------------- the default form, the session record


async def test_a_configured_default_form_applies_until_one_is_set(tmp_path: Path, backing: dict[str, Any]) -> None:
    from tests.support import running_server

    defaults = rules.parse_defaults(
        '{"anonymous": false, "questions": [{"id": "a", "kind": "yesno", "text": "Good?"}]}'
    )
    async with running_server(tmp_path, feedback_defaults=defaults, **backing) as srv:
        s = await srv.session()
        got = ok(await srv.api("GET", f"/api/sessions/{s['id']}/feedback-form"))
        assert got["default"] is True and got["anonymous"] is False
        assert got["questions"] == [{"id": "a", "kind": "yesno", "text": "Good?", "required": False}]
        mine = ok(await srv.api("GET", f"/api/sessions/{s['id']}/feedback-form?for=instructor"))
        assert mine["questions"][0]["text"] == "Overall, how did the session go?"  # the built-in one


async def test_an_answer_after_the_close_queues_a_new_version_of_the_session_record(srv: Server) -> None:
    from persistence.repos import jobs
    from persistence.repos.session_record import BUILD

    sid, (token,) = await closed_with(srv, 1)

    async def pending_builds() -> int:
        engine = create_async_engine(srv.settings.database_url)
        try:
            async with async_sessionmaker(engine)() as db:
                found = await jobs.for_session(db, session_id=sid, kind=BUILD, states=["pending"])
        finally:
            await engine.dispose()
        return len(found)

    for _ in range(200):  # the close's own build has run
        if await pending_builds() == 0:
            break
        await asyncio.sleep(0.05)
    assert await pending_builds() == 0
    ok(await answer(srv, token, {"overall": 4}))
    assert await pending_builds() == 1, "the answer asked for a new version (in its own transaction)"
