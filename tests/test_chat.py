"""Chat and platform status over Socket.IO: send, echo, order, idempotence, limits, history, log, close."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from tests.support import Class, Client, Server, running_server

NAMES = {"admin": "Root Admin", "instructor": "Iris Instructor", "support": "Sam Support"}


def staff(k: Class) -> list[Client]:
    return [k.admin, k.instructor, k.support]


def everyone(k: Class) -> list[Client]:
    return [*staff(k), *k.participants]


def cid() -> str:
    """A fresh client_id, as a browser makes one."""
    return f"c-{uuid4().hex}"


async def send(client: Client, text: str, client_id: str | None = None) -> dict[str, Any]:
    """chat:send that must succeed; answers the ack."""
    ack = await client.call("chat:send", {"client_id": client_id or cid(), "text": text})
    assert ack["ok"] is True, ack
    assert set(ack) == {"ok", "id", "seq"}, ack
    return dict(ack)


async def chats_until(client: Client, seq: int) -> list[dict[str, Any]]:
    """Every `chat` event this client got, once it has the one numbered `seq`."""
    await client.wait_for("chat", lambda m: m["seq"] == seq)
    return list(client.of("chat"))


def brief(messages: list[dict[str, Any]]) -> list[tuple[int, str, str, str]]:
    """Chat messages as (seq, author, role, text) rows."""
    return [(m["seq"], m["author"], m["role"], m["text"]) for m in messages]


# ------------------------------------------------------------ send and receive


async def test_every_role_sends_and_everyone_gets_each_message(klass: Class) -> None:
    """Participant, instructor, admin and support send; everyone, the sender too, gets each `chat` in seq order."""
    p0 = klass.participants[0]
    senders = [(p0, "participant", "Person p0"), *((getattr(klass, r), r, n) for r, n in NAMES.items())]
    acks = []
    for i, (client, _, _) in enumerate(senders):
        client_id = cid()
        ack = await send(client, f"message {i}", client_id)
        acks.append((ack, client_id))
    assert [a["seq"] for a, _ in acks] == [1, 2, 3, 4]
    assert len({a["id"] for a, _ in acks}) == 4
    for client in everyone(klass):
        got = await chats_until(client, 4)
        assert brief(got) == [(i + 1, name, role, f"message {i}") for i, (_, role, name) in enumerate(senders)]
        for m, (ack, client_id) in zip(got, acks, strict=True):
            assert set(m) == {"id", "seq", "client_id", "author", "role", "text", "sent_at"}
            assert (m["id"], m["seq"], m["client_id"]) == (ack["id"], ack["seq"], client_id)
            assert m["sent_at"].endswith(("Z", "+00:00"))


async def test_text_is_trimmed(klass: Class) -> None:
    """Spaces and newlines around the text are trimmed; inner ones are kept."""
    await send(klass.participants[0], "  \n hello   there \t ")
    got = await chats_until(klass.instructor, 1)
    assert got[0]["text"] == "hello   there"


async def test_text_of_2000_characters_is_accepted(klass: Class) -> None:
    """2,000 characters (after trimming) pass; the text arrives whole."""
    text = "é" * 1999 + "z"
    await send(klass.participants[0], f"   {text}   ")
    got = await chats_until(klass.support, 1)
    assert got[0]["text"] == text and len(got[0]["text"]) == 2000


BAD_TEXTS: list[Any] = ["x" * 2001, "   ", "", " \n\t ", 5, None, ["hello"], {"text": "hi"}, True]


@pytest.mark.parametrize("role", ["participant", "instructor"])
async def test_bad_texts_are_invalid(klass: Class, role: str) -> None:
    """Too long, blank after trimming, or not a string: `invalid` naming text; nothing is sent."""
    client = klass.participants[0] if role == "participant" else klass.instructor
    for text in BAD_TEXTS:
        await client.refused("chat:send", {"client_id": cid(), "text": text}, "invalid", "text")
    await client.refused("chat:send", {"client_id": cid()}, "invalid", "text")
    ack = await send(client, "after the refusals")
    assert ack["seq"] == 1
    got = await chats_until(klass.admin, 1)
    assert brief(got)[0][3] == "after the refusals" and len(got) == 1


BAD_CLIENT_IDS: list[Any] = [
    "abcdefg",  # 7 characters
    "a" * 65,
    "bad id!!",
    "tab\tinside",
    "ünïcödé-id",
    "",
    12345678,
    None,
    ["abcdefgh"],
]


async def test_bad_client_ids_are_invalid(klass: Class) -> None:
    """client_id must be 8 to 64 letters, digits, - or _; anything else is `invalid` naming client_id."""
    p0 = klass.participants[0]
    for client_id in BAD_CLIENT_IDS:
        await p0.refused("chat:send", {"client_id": client_id, "text": "hi"}, "invalid", "client_id")
    await p0.refused("chat:send", {"text": "hi"}, "invalid", "client_id")
    first = await send(p0, "eight", "abcdefgh")
    second = await send(p0, "sixty-four", "A-_" + "z9" * 30 + "0")
    assert (first["seq"], second["seq"]) == (1, 2)
    got = await chats_until(klass.admin, 2)
    assert [m["client_id"] for m in got] == ["abcdefgh", "A-_" + "z9" * 30 + "0"]


@pytest.mark.parametrize("payload", [["abcdefgh", "hi"], "hello", 42])
async def test_non_object_payloads_are_invalid(klass: Class, payload: Any) -> None:
    """A list, a string or a number as chat:send or chat:history payload is `invalid`; the socket still works."""
    p0 = klass.participants[0]
    await p0.refused("chat:send", payload, "invalid", "payload")
    await p0.refused("chat:history", payload, "invalid", "payload")
    ack = await send(p0, "still here")
    assert ack["seq"] == 1


# ------------------------------------------------------------ idempotence


async def test_same_client_id_again_answers_the_same_and_sends_nothing(klass: Class) -> None:
    """Resending a client_id answers the first id and seq; no second `chat` goes out."""
    p0, p1 = klass.participants[:2]
    client_id = cid()
    first = await send(p0, "only once", client_id)
    again = await send(p0, "only once", client_id)
    changed = await send(p0, "different text, same id", client_id)
    assert again == first and changed == first
    after = await send(p1, "the next one")
    assert after["seq"] == first["seq"] + 1
    for client in everyone(klass):
        got = await chats_until(client, after["seq"])
        assert brief(got) == [
            (1, "Person p0", "participant", "only once"),
            (2, "Person p1", "participant", "the next one"),
        ]


async def test_same_client_id_from_another_author_is_another_message(klass: Class) -> None:
    """client_id is unique per author: the same one from two people makes two messages."""
    p0, p1 = klass.participants[:2]
    client_id = cid()
    mine = await send(p0, "from p0", client_id)
    theirs = await send(p1, "from p1", client_id)
    staffs = await send(klass.instructor, "from the instructor", client_id)
    assert [mine["seq"], theirs["seq"], staffs["seq"]] == [1, 2, 3]
    assert len({mine["id"], theirs["id"], staffs["id"]}) == 3
    got = await chats_until(klass.support, 3)
    assert [m["client_id"] for m in got] == [client_id] * 3
    assert [m["author"] for m in got] == ["Person p0", "Person p1", "Iris Instructor"]


async def test_concurrent_sends_of_one_client_id_answer_the_same(klass: Class) -> None:
    """Five sends of the same client_id at once answer one id and seq, and make one message."""
    p0 = klass.participants[0]
    client_id = cid()
    acks = await asyncio.gather(*(p0.call("chat:send", {"client_id": client_id, "text": "racing"}) for _ in range(5)))
    assert all(a["ok"] is True for a in acks), acks
    assert len({(a["id"], a["seq"]) for a in acks}) == 1
    assert acks[0]["seq"] == 1
    marker = await send(klass.admin, "marker")
    assert marker["seq"] == 2
    for client in everyone(klass):
        got = await chats_until(client, 2)
        assert brief(got) == [(1, "Person p0", "participant", "racing"), (2, "Root Admin", "admin", "marker")]
    # The participant's rate budget was spent once, not five times.
    for i in range(4):
        await send(p0, f"more {i}")


async def test_many_concurrent_sends_get_gapless_seqs_in_order_everywhere(klass: Class) -> None:
    """Concurrent sends from six clients get seq 1..N with no gap, and every client receives them in order."""
    jobs = []
    for role in NAMES:
        jobs += [(getattr(klass, role), f"{role} {i}") for i in range(10)]
    for n, client in enumerate(klass.participants):
        jobs += [(client, f"p{n} {i}") for i in range(5)]
    acks = await asyncio.gather(*(send(client, text) for client, text in jobs))
    total = len(jobs)
    assert sorted(a["seq"] for a in acks) == list(range(1, total + 1))
    assert len({a["id"] for a in acks}) == total
    by_seq = {a["seq"]: text for a, (_, text) in zip(acks, jobs, strict=True)}
    for client in everyone(klass):
        got = await chats_until(client, total)
        assert [m["seq"] for m in got] == list(range(1, total + 1))
        assert [m["text"] for m in got] == [by_seq[s] for s in range(1, total + 1)]


# ------------------------------------------------------------ rate limit


async def test_a_participant_may_send_five_in_five_seconds(klass: Class) -> None:
    """The 6th message within 5 s is `rate_limited`, is not sent, and the socket still works."""
    p0, p1 = klass.participants[:2]
    first_id = cid()
    first = await send(p0, "one", first_id)
    for text in ["two", "three", "four", "five"]:
        await send(p0, text)
    await p0.refused("chat:send", {"client_id": cid(), "text": "six"}, "rate_limited")
    history = await p0.ok("chat:history", {})
    assert [m["text"] for m in history["messages"]] == ["one", "two", "three", "four", "five"]
    # A resend of an acknowledged message is not a new message: it still answers.
    assert await send(p0, "one", first_id) == first
    # The limit is per participant; staff have none.
    other = await send(p1, "p1 is not limited")
    assert other["seq"] == 6
    for i in range(7):
        await send(klass.instructor, f"instructor {i}")
    got = await chats_until(klass.admin, 13)
    assert [m["seq"] for m in got] == list(range(1, 14))
    assert "six" not in [m["text"] for m in got]


# ------------------------------------------------------------ history


async def test_history_answers_what_was_sent_to_every_role(klass: Class) -> None:
    """chat:history (every role) answers the messages as the `chat` events carried them, after after_seq."""
    for i, client in enumerate(everyone(klass)):
        await send(client, f"hello {i}")
    events = await chats_until(klass.admin, 6)
    for client in everyone(klass):
        whole = await client.ok("chat:history", {"after_seq": 0})
        assert whole == {"ok": True, "messages": events, "more": False}
        by_default = await client.ok("chat:history", {})
        assert by_default["messages"] == events
        tail = await client.ok("chat:history", {"after_seq": 4})
        assert tail["messages"] == events[4:] and tail["more"] is False
        beyond = await client.ok("chat:history", {"after_seq": 99})
        assert beyond["messages"] == [] and beyond["more"] is False


@pytest.mark.parametrize("after_seq", [-1, "3", 1.5, True, [1]])
async def test_history_bad_after_seq_is_invalid(klass: Class, after_seq: Any) -> None:
    """after_seq must be a whole number from 0: otherwise `invalid` naming after_seq; the socket still works."""
    p0 = klass.participants[0]
    await send(p0, "something")
    await p0.refused("chat:history", {"after_seq": after_seq}, "invalid", "after_seq")
    history = await p0.ok("chat:history", {"after_seq": 0})
    assert [m["text"] for m in history["messages"]] == ["something"]


@pytest.fixture
async def roomy(tmp_path: Path, backing: dict[str, Any]) -> AsyncIterator[Server]:
    """A server whose per-connection event budget lets one client send hundreds of messages quickly."""
    async with running_server(
        tmp_path, ticker_seconds=0.2, events_per_second=1000, staff_events_per_second=1000, **backing
    ) as srv:
        yield srv


async def test_history_pages_by_500_with_more(roomy: Server) -> None:
    """With 505 messages, history answers 500 and more: true, then the last 5 and more: false."""
    session = await roomy.session()
    (person,) = await roomy.participants(session["id"], 1)
    admin = await roomy.connect(roomy.admin_token, session["id"])
    reader = await roomy.connect(person["token"])
    sent: dict[int, str] = {}
    for start in range(0, 505, 50):
        ids = [f"bulk-{n:04d}" for n in range(start, min(start + 50, 505))]
        acks = await asyncio.gather(*(send(admin, f"text of {i}", i) for i in ids))
        sent.update({a["seq"]: i for a, i in zip(acks, ids, strict=True)})
    assert sorted(sent) == list(range(1, 506))
    first = await reader.ok("chat:history", {})
    assert first["more"] is True
    assert [m["seq"] for m in first["messages"]] == list(range(1, 501))
    assert [m["client_id"] for m in first["messages"]] == [sent[s] for s in range(1, 501)]
    rest = await reader.ok("chat:history", {"after_seq": 500})
    assert rest["more"] is False
    assert [m["seq"] for m in rest["messages"]] == [501, 502, 503, 504, 505]
    assert [m["text"] for m in rest["messages"]] == [f"text of {sent[s]}" for s in range(501, 506)]
    middle = await reader.ok("chat:history", {"after_seq": 4})
    assert middle["more"] is True and [m["seq"] for m in middle["messages"]][:1] == [5]
    assert len(middle["messages"]) == 500
    near_end = await reader.ok("chat:history", {"after_seq": 5})
    assert near_end["more"] is False and len(near_end["messages"]) == 500
    r = await roomy.api("GET", f"/api/sessions/{session['id']}/chat")
    assert [m["seq"] for m in r.json()["messages"]] == list(range(1, 506))


# ------------------------------------------------------------ the log over HTTP


async def test_http_chat_log_equals_what_was_acknowledged(klass: Class) -> None:
    """GET /api/sessions/{id}/chat answers the acknowledged messages, as sent, in seq order."""
    acks = []
    for client, text in [
        (klass.participants[2], "first"),
        (klass.support, "second"),
        (klass.participants[0], "  third  "),
        (klass.instructor, "fourth"),
    ]:
        client_id = cid()
        acks.append((await send(client, text, client_id), client_id))
    await send(klass.participants[2], "first", acks[0][1])  # a resend: nothing new
    events = await chats_until(klass.admin, 4)
    r = await klass.server.api("GET", f"/api/sessions/{klass.id}/chat")
    assert r.status_code == 200
    log = r.json()["messages"]
    assert log == events
    assert [(m["id"], m["seq"], m["client_id"]) for m in log] == [
        (a["id"], a["seq"], client_id) for a, client_id in acks
    ]
    assert brief(log) == [
        (1, "Person p2", "participant", "first"),
        (2, "Sam Support", "support", "second"),
        (3, "Person p0", "participant", "third"),
        (4, "Iris Instructor", "instructor", "fourth"),
    ]


# ------------------------------------------------------------ isolation and close


async def test_chat_never_reaches_another_session(klass: Class) -> None:
    """Messages of one session reach only its own clients; each session numbers its own seq from 1."""
    server = klass.server
    other = await server.session(topic="Another class")
    (person,) = await server.participants(other["id"], 1, prefix="q")
    stranger = await server.connect(person["token"])
    other_admin = await server.connect(server.admin_token, other["id"])
    await send(klass.participants[0], "for klass only")
    theirs = await send(stranger, "for the other class")
    assert theirs["seq"] == 1
    for client in [stranger, other_admin]:
        got = await chats_until(client, 1)
        assert brief(got) == [(1, "Person q0", "participant", "for the other class")]
    await send(klass.instructor, "klass again")
    for client in everyone(klass):
        got = await chats_until(client, 2)
        assert [m["text"] for m in got] == ["for klass only", "klass again"]
    history = await stranger.ok("chat:history", {})
    assert [m["text"] for m in history["messages"]] == ["for the other class"]
    r = await server.api("GET", f"/api/sessions/{other['id']}/chat")
    assert [m["text"] for m in r.json()["messages"]] == ["for the other class"]


async def test_after_close_chat_is_a_conflict_but_history_works(klass: Class) -> None:
    """Once closed, chat:send answers `conflict` for everyone; chat:history and the HTTP log still answer."""
    await send(klass.participants[0], "before close")
    r = await klass.server.api("POST", f"/api/sessions/{klass.id}/close")
    assert r.status_code == 200
    for client in everyone(klass):
        await client.wait_for("session", lambda s: s["status"] == "closed")
        await client.refused("chat:send", {"client_id": cid(), "text": "too late"}, "conflict")
        history = await client.ok("chat:history", {})
        assert [m["text"] for m in history["messages"]] == ["before close"]
        assert history["more"] is False
    r = await klass.server.api("GET", f"/api/sessions/{klass.id}/chat")
    assert [m["text"] for m in r.json()["messages"]] == ["before close"]


# ------------------------------------------------------------ platform status


@pytest.mark.parametrize("role", ["instructor", "support", "admin"])
async def test_staff_set_platform_status_and_everyone_gets_it(klass: Class, role: str) -> None:
    """Instructor, support and admin set the platform status; everyone gets `platform` {status, message}."""
    client = getattr(klass, role)
    assert await client.call("platform:status", {"status": "degraded", "message": "Video is choppy"}) == {"ok": True}
    assert await client.call("platform:status", {"status": "down", "message": "  Zoom is down  "}) == {"ok": True}
    for c in everyone(klass):
        await c.wait_for("platform", lambda p: p["status"] == "down")
        assert c.of("platform") == [
            {"status": "degraded", "message": "Video is choppy"},
            {"status": "down", "message": "Zoom is down"},
        ]


async def test_participants_may_not_set_platform_status(klass: Class) -> None:
    """A participant setting the platform status is `forbidden`, nothing is sent, the socket still works."""
    p0 = klass.participants[0]
    await p0.refused("platform:status", {"status": "down", "message": "it is all broken"}, "forbidden")
    assert (await p0.ok("chat:history", {}))["messages"] == []
    await klass.admin.ok("platform:status", {"status": "ok", "message": "all fine"})
    for c in everyone(klass):
        await c.wait_for("platform", lambda p: p["message"] == "all fine")
        assert c.of("platform") == [{"status": "ok", "message": "all fine"}]
    state = await p0.ok("session:state", {})
    assert state["platform"] == {"status": "ok", "message": "all fine"}


BAD_PLATFORMS: list[tuple[Any, str]] = [
    ({"status": "broken", "message": "x"}, "status"),
    ({"status": "OK", "message": "x"}, "status"),
    ({"status": 1, "message": "x"}, "status"),
    ({"status": None}, "status"),
    ({"message": "no status"}, "status"),
    ({"status": "down", "message": 5}, "message"),
    ({"status": "down", "message": "m" * 501}, "message"),
    (["down", "x"], "payload"),
    ("down", "payload"),
    (3, "payload"),
]


async def test_bad_platform_payloads_are_invalid(klass: Class) -> None:
    """Unknown statuses, wrong types and non-object payloads are `invalid` naming the field; the socket still works."""
    for payload, field in BAD_PLATFORMS:
        await klass.support.refused("platform:status", payload, "invalid", field)
    await klass.support.ok("platform:status", {"status": "degraded", "message": "fine again"})
    await klass.participants[0].wait_for("platform")
    assert klass.participants[0].of("platform") == [{"status": "degraded", "message": "fine again"}]


async def test_platform_message_is_optional(klass: Class) -> None:
    """Without a message, everyone gets the status with an empty message."""
    await klass.instructor.ok("platform:status", {"status": "degraded"})
    for c in everyone(klass):
        assert await c.wait_for("platform") == {"status": "degraded", "message": ""}


async def test_a_later_client_sees_the_platform_status_in_its_snapshot(klass: Class) -> None:
    """session:state of a client connecting after the change carries `platform` (and the session's copy)."""
    await klass.support.ok("platform:status", {"status": "down", "message": "Stream restarting"})
    await klass.participants[0].wait_for("platform")
    server = klass.server
    late = await server.connect(klass.people[1]["token"])
    late_staff = await server.connect(server.admin_token, klass.id)
    for client in [late, late_staff]:
        state = await client.ok("session:state", {})
        assert state["platform"] == {"status": "down", "message": "Stream restarting"}
        assert state["session"]["platform_status"] == {"status": "down", "message": "Stream restarting"}
        assert client.of("platform") == []
    fresh = await server.api("GET", f"/api/sessions/{klass.id}")
    assert fresh.json()["platform_status"] == {"status": "down", "message": "Stream restarting"}


async def test_platform_status_after_close_is_a_conflict(klass: Class) -> None:
    """Once the session is closed, platform:status answers `conflict` and nothing is sent."""
    await klass.admin.ok("platform:status", {"status": "degraded", "message": "before"})
    await klass.instructor.ok("session:close", {})
    await klass.support.refused("platform:status", {"status": "down", "message": "after"}, "conflict")
    await klass.participants[0].wait_for("session", lambda s: s["status"] == "closed")
    state = await klass.participants[0].ok("session:state", {})
    assert state["platform"] == {"status": "degraded", "message": "before"}
    assert [p["message"] for p in klass.participants[0].of("platform")] == ["before"]
