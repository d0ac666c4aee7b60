"""The help queue over Socket.IO: open, claim, resolve, positions, who is told what, and close."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from tests.support import Class, Client


def staff(k: Class) -> list[Client]:
    return [k.admin, k.instructor, k.support]


def everyone(k: Class) -> list[Client]:
    return [*staff(k), *k.participants]


async def open_ticket(client: Client, category: str = "audio", text: str = "I cannot hear") -> dict[str, Any]:
    ack = await client.call("help:open", {"category": category, "text": text})
    assert ack["ok"] is True, ack
    return dict(ack)


async def settle(k: Class) -> None:
    """Send a platform status and wait until everyone has it: what was sent before it has arrived."""
    marker = f"sync-{uuid4().hex[:8]}"
    assert await k.admin.ok("platform:status", {"status": "ok", "message": marker}) == {"ok": True}
    for c in everyone(k):
        await c.wait_for("platform", lambda d: d["message"] == marker)


def brief(queue: dict[str, Any]) -> list[tuple[str, str, int | None, str | None]]:
    """A help:queue payload as (ticket_id, state, position, claimed_by) rows."""
    return [(t["ticket_id"], t["state"], t["position"], t["claimed_by"]) for t in queue["tickets"]]


async def queue_where(client: Client, pred: Any) -> list[tuple[str, str, int | None, str | None]]:
    """The first help:queue whose rows satisfy pred."""
    return brief(await client.wait_for("help:queue", lambda q: pred(brief(q))))


# ------------------------------------------------------------ open


async def test_open_answers_ticket_and_position(klass: Class) -> None:
    """help:open answers the ticket id and its place among the waiting, counting from 1."""
    p0, p1, p2 = klass.participants
    first = await open_ticket(p0)
    second = await open_ticket(p1, "video", "frozen picture")
    third = await open_ticket(p2, "other", "")
    assert (first["position"], second["position"], third["position"]) == (1, 2, 3)
    assert len({first["ticket_id"], second["ticket_id"], third["ticket_id"]}) == 3
    assert await p0.wait_for("help:ticket") == {
        "ticket_id": first["ticket_id"],
        "state": "waiting",
        "position": 1,
        "note": None,
    }
    assert await p1.wait_for("help:ticket") == {
        "ticket_id": second["ticket_id"],
        "state": "waiting",
        "position": 2,
        "note": None,
    }
    queue = await klass.support.wait_for("help:queue", lambda q: len(q["tickets"]) == 3)
    row = queue["tickets"][1]
    assert row["ticket_id"] == second["ticket_id"]
    assert row["participant_id"] == klass.people[1]["id"]
    assert (row["category"], row["text"], row["state"], row["position"], row["claimed_by"]) == (
        "video",
        "frozen picture",
        "waiting",
        2,
        None,
    )


async def test_staff_may_not_open_tickets(klass: Class) -> None:
    """Admin, instructor and support opening a ticket are refused with `forbidden`."""
    for s in staff(klass):
        await s.refused("help:open", {"category": "audio", "text": "staff trouble"}, "forbidden")
    mine = await open_ticket(klass.participants[0])
    assert mine["position"] == 1
    rows = await queue_where(klass.admin, lambda rows: len(rows) >= 1)
    assert rows == [(mine["ticket_id"], "waiting", 1, None)]


async def test_a_second_open_ticket_is_a_conflict(klass: Class) -> None:
    """While a ticket is waiting or claimed, another answers `conflict` carrying its ticket_id."""
    p0 = klass.participants[0]
    first = await open_ticket(p0)
    ack = await p0.refused("help:open", {"category": "video", "text": "again"}, "conflict")
    assert ack["ticket_id"] == first["ticket_id"]
    assert await klass.support.ok("help:claim", {"ticket_id": first["ticket_id"]}) == {"ok": True}
    ack = await p0.refused("help:open", {"category": "video", "text": "and again"}, "conflict")
    assert ack["ticket_id"] == first["ticket_id"]
    rows = await queue_where(klass.support, lambda rows: rows and rows[0][1] == "claimed")
    assert rows == [(first["ticket_id"], "claimed", None, "Sam Support")]


BAD_OPENS: list[tuple[Any, str]] = [
    ({"text": "no category"}, "category"),
    ({"category": "", "text": "empty category"}, "category"),
    ({"category": "   ", "text": "blank category"}, "category"),
    ({"category": 5, "text": "number category"}, "category"),
    ({"category": None, "text": "null category"}, "category"),
    ({"category": "audio", "text": 5}, "text"),
    ({"category": "audio", "text": None}, "text"),
    ({"category": "audio", "text": ["words"]}, "text"),
    ({"category": "audio"}, "text"),
    ("audio", "payload"),
    ([{"category": "audio", "text": "x"}], "payload"),
]


async def test_open_rejects_bad_payloads(klass: Class) -> None:
    """Bad help:open payloads answer `invalid` naming the field; the socket stays usable."""
    p0 = klass.participants[0]
    for data, field in BAD_OPENS:
        await p0.refused("help:open", data, "invalid", field)
    await p0.refused("help:open", None, "invalid", "category")
    mine = await open_ticket(p0, "audio", "works now")
    assert mine["position"] == 1
    rows = await queue_where(klass.instructor, lambda rows: len(rows) >= 1)
    assert rows == [(mine["ticket_id"], "waiting", 1, None)]


# ------------------------------------------------------------ claim and resolve


async def test_support_and_admin_claim_and_resolve(klass: Class) -> None:
    """Support and admin claim and resolve (with a note); claimed_by is the claimer's name."""
    p0, p1, _ = klass.participants
    t0 = (await open_ticket(p0))["ticket_id"]
    t1 = (await open_ticket(p1))["ticket_id"]
    assert await klass.support.ok("help:claim", {"ticket_id": t0}) == {"ok": True}
    assert await klass.admin.ok("help:claim", {"ticket_id": t1}) == {"ok": True}
    rows = await queue_where(klass.instructor, lambda rows: [r[1] for r in rows] == ["claimed", "claimed"])
    assert rows == [(t0, "claimed", None, "Sam Support"), (t1, "claimed", None, "Root Admin")]
    assert await klass.admin.ok("help:resolve", {"ticket_id": t0, "note": "restarted the browser"}) == {"ok": True}
    assert await klass.support.ok("help:resolve", {"ticket_id": t1}) == {"ok": True}
    assert await queue_where(klass.support, lambda rows: rows == []) == []
    assert await p0.wait_for("help:ticket", lambda t: t["state"] == "resolved") == {
        "ticket_id": t0,
        "state": "resolved",
        "position": None,
        "note": "restarted the browser",
    }
    assert await p1.wait_for("help:ticket", lambda t: t["state"] == "resolved") == {
        "ticket_id": t1,
        "state": "resolved",
        "position": None,
        "note": None,
    }


async def test_a_waiting_ticket_may_be_resolved_without_a_claim(klass: Class) -> None:
    """Resolving a waiting ticket ends it and moves the others up."""
    p0, p1, _ = klass.participants
    t0 = (await open_ticket(p0))["ticket_id"]
    t1 = (await open_ticket(p1))["ticket_id"]
    assert await klass.support.ok("help:resolve", {"ticket_id": t0, "note": "fixed itself"}) == {"ok": True}
    await p0.wait_for("help:ticket", lambda t: t["state"] == "resolved")
    assert await p1.wait_for("help:ticket", lambda t: t["position"] == 1) == {
        "ticket_id": t1,
        "state": "waiting",
        "position": 1,
        "note": None,
    }


async def test_instructor_and_participant_may_not_claim_or_resolve(klass: Class) -> None:
    """Instructor and participants are refused with `forbidden`; the ticket stays waiting."""
    p0, p1, _ = klass.participants
    t0 = (await open_ticket(p0))["ticket_id"]
    for client in (klass.instructor, p0, p1):
        await client.refused("help:claim", {"ticket_id": t0}, "forbidden")
        await client.refused("help:resolve", {"ticket_id": t0, "note": "no"}, "forbidden")
    assert await klass.support.ok("help:claim", {"ticket_id": t0}) == {"ok": True}
    rows = await queue_where(klass.admin, lambda rows: rows and rows[0][1] == "claimed")
    assert rows == [(t0, "claimed", None, "Sam Support")]


async def test_claim_and_resolve_refusals(klass: Class) -> None:
    """Claiming a claimed or resolved ticket is a conflict; unknown tickets are not found; bad payloads invalid."""
    t0 = (await open_ticket(klass.participants[0]))["ticket_id"]
    assert await klass.support.ok("help:claim", {"ticket_id": t0}) == {"ok": True}
    await klass.admin.refused("help:claim", {"ticket_id": t0}, "conflict")
    await klass.support.refused("help:claim", {"ticket_id": t0}, "conflict")
    for event in ("help:claim", "help:resolve"):
        await klass.support.refused(event, {"ticket_id": "no-such-ticket"}, "not_found")
        await klass.support.refused(event, {}, "invalid", "ticket_id")
        await klass.support.refused(event, {"ticket_id": 7}, "invalid", "ticket_id")
        await klass.support.refused(event, t0, "invalid", "payload")
    await klass.support.refused("help:resolve", {"ticket_id": t0, "note": 3}, "invalid", "note")
    assert await klass.support.ok("help:resolve", {"ticket_id": t0, "note": "done"}) == {"ok": True}
    await klass.admin.refused("help:resolve", {"ticket_id": t0}, "conflict")
    await klass.admin.refused("help:claim", {"ticket_id": t0}, "conflict")


async def test_after_resolve_the_participant_may_open_again(klass: Class) -> None:
    """Once resolved, the participant's next help:open makes a new waiting ticket."""
    p0 = klass.participants[0]
    first = await open_ticket(p0)
    assert await klass.admin.ok("help:resolve", {"ticket_id": first["ticket_id"], "note": "ok"}) == {"ok": True}
    second = await open_ticket(p0, "screen", "cannot share")
    assert second["ticket_id"] != first["ticket_id"] and second["position"] == 1
    state = await p0.call("session:state", {})
    assert state["ticket"] == {"ticket_id": second["ticket_id"], "state": "waiting", "position": 1, "note": None}
    rows = await queue_where(klass.support, lambda rows: rows and rows[0][0] == second["ticket_id"])
    assert rows == [(second["ticket_id"], "waiting", 1, None)]


# ------------------------------------------------------------ who is told


async def test_queue_goes_to_staff_on_every_change(klass: Class) -> None:
    """Every open, claim and resolve sends the whole waiting and claimed list to all staff, never to participants."""
    p0, p1, _ = klass.participants
    t0 = (await open_ticket(p0))["ticket_id"]
    t1 = (await open_ticket(p1))["ticket_id"]
    assert await klass.support.ok("help:claim", {"ticket_id": t0}) == {"ok": True}
    assert await klass.admin.ok("help:resolve", {"ticket_id": t0, "note": "fixed"}) == {"ok": True}
    expected = [
        [(t0, "waiting", 1, None)],
        [(t0, "waiting", 1, None), (t1, "waiting", 2, None)],
        [(t0, "claimed", None, "Sam Support"), (t1, "waiting", 1, None)],
        [(t1, "waiting", 1, None)],
    ]
    await settle(klass)
    for s in staff(klass):
        assert [brief(q) for q in s.of("help:queue")] == expected
        assert s.of("help:ticket") == []
    for p in klass.participants:
        assert p.of("help:queue") == []


async def test_ticket_events_go_to_their_own_participant_as_positions_move(klass: Class) -> None:
    """Claiming the first of three moves the others to 1 and 2; each participant hears only of its own ticket."""
    p0, p1, p2 = klass.participants
    t0 = (await open_ticket(p0))["ticket_id"]
    t1 = (await open_ticket(p1))["ticket_id"]
    t2 = (await open_ticket(p2))["ticket_id"]
    assert await klass.support.ok("help:claim", {"ticket_id": t0}) == {"ok": True}
    assert await p0.wait_for("help:ticket", lambda t: t["state"] == "claimed") == {
        "ticket_id": t0,
        "state": "claimed",
        "position": None,
        "note": None,
    }
    assert await p1.wait_for("help:ticket", lambda t: t["position"] == 1) == {
        "ticket_id": t1,
        "state": "waiting",
        "position": 1,
        "note": None,
    }
    assert await p2.wait_for("help:ticket", lambda t: t["position"] == 2) == {
        "ticket_id": t2,
        "state": "waiting",
        "position": 2,
        "note": None,
    }
    await settle(klass)
    assert [(t["state"], t["position"]) for t in p0.of("help:ticket")] == [("waiting", 1), ("claimed", None)]
    assert [(t["state"], t["position"]) for t in p1.of("help:ticket")] == [("waiting", 2), ("waiting", 1)]
    assert [(t["state"], t["position"]) for t in p2.of("help:ticket")] == [("waiting", 3), ("waiting", 2)]
    for p, mine in zip(klass.participants, (t0, t1, t2), strict=True):
        assert {t["ticket_id"] for t in p.of("help:ticket")} == {mine}


async def test_session_state_shows_queue_to_staff_and_own_ticket_to_participant(klass: Class) -> None:
    """A reconnecting staff member sees the queue; a participant sees only their own ticket."""
    t0 = (await open_ticket(klass.participants[0]))["ticket_id"]
    t1 = (await open_ticket(klass.participants[1]))["ticket_id"]
    assert await klass.support.ok("help:claim", {"ticket_id": t0}) == {"ok": True}
    state = await klass.support.call("session:state", {})
    assert brief({"tickets": state["tickets"]}) == [(t0, "claimed", None, "Sam Support"), (t1, "waiting", 1, None)]
    state = await klass.participants[1].call("session:state", {})
    assert state["ticket"] == {"ticket_id": t1, "state": "waiting", "position": 1, "note": None}
    state = await klass.participants[2].call("session:state", {})
    assert state["ticket"] is None


# ------------------------------------------------------------ close


async def test_session_close_ends_open_tickets_unresolved(klass: Class) -> None:
    """At close, waiting and claimed tickets end `unresolved` and their participants are told; resolved stay."""
    p0, p1, p2 = klass.participants
    t0 = (await open_ticket(p0))["ticket_id"]
    t1 = (await open_ticket(p1))["ticket_id"]
    t2 = (await open_ticket(p2))["ticket_id"]
    assert await klass.support.ok("help:claim", {"ticket_id": t0}) == {"ok": True}
    assert await klass.support.ok("help:resolve", {"ticket_id": t2, "note": "sorted"}) == {"ok": True}
    await p2.wait_for("help:ticket", lambda t: t["state"] == "resolved")
    ack = await klass.instructor.call("session:close", {})
    assert ack["ok"] is True and ack["session"]["status"] == "closed"
    for p in klass.participants:
        await p.wait_for("session", lambda s: s["status"] == "closed")  # sent after the tickets ended
    assert p0.of("help:ticket")[-1] == {"ticket_id": t0, "state": "unresolved", "position": None, "note": None}
    assert p1.of("help:ticket")[-1] == {"ticket_id": t1, "state": "unresolved", "position": None, "note": None}
    assert [(t["state"], t["position"]) for t in p2.of("help:ticket")] == [
        ("waiting", 3),
        ("waiting", 2),
        ("resolved", None),
    ]
    for s in staff(klass):
        await s.wait_for("session", lambda x: x["status"] == "closed")
        assert s.of("help:queue")[-1] == {"tickets": []}
    await p2.refused("help:open", {"category": "audio", "text": "too late"}, "conflict")
    await klass.support.refused("help:resolve", {"ticket_id": t0}, "conflict")
    state = await p1.call("session:state", {})
    assert state["ticket"] == {"ticket_id": t1, "state": "unresolved", "position": None, "note": None}


# ---------------------------------------------------------------- withdrawing, and what a ticket carries


async def test_a_participant_withdraws_their_own_waiting_or_claimed_ticket(klass: Class) -> None:
    """Withdrawn leaves the queue; the next one moves up and is told; withdrawing again is a conflict."""
    p0, p1, p2 = klass.participants
    t0 = (await open_ticket(p0))["ticket_id"]
    t1 = (await open_ticket(p1))["ticket_id"]
    t2 = (await open_ticket(p2))["ticket_id"]
    assert await p0.ok("help:withdraw", {"ticket_id": t0}) == {"ok": True}
    assert await p0.wait_for("help:ticket", lambda t: t["state"] == "withdrawn") == {
        "ticket_id": t0,
        "state": "withdrawn",
        "position": None,
        "note": None,
    }
    assert (await p1.wait_for("help:ticket", lambda t: t["position"] == 1))["ticket_id"] == t1
    rows = await queue_where(klass.support, lambda rows: [r[0] for r in rows] == [t1, t2])
    assert rows == [(t1, "waiting", 1, None), (t2, "waiting", 2, None)]
    await p0.refused("help:withdraw", {"ticket_id": t0}, "conflict")
    # Claimed tickets may be withdrawn too; staff see it leave the queue.
    assert await klass.support.ok("help:claim", {"ticket_id": t1}) == {"ok": True}
    assert await p1.ok("help:withdraw", {"ticket_id": t1}) == {"ok": True}
    assert await queue_where(klass.support, lambda rows: [r[0] for r in rows] == [t2]) == [(t2, "waiting", 1, None)]
    # Withdrawn, a participant may open a new one.
    assert (await open_ticket(p0))["position"] == 2


async def test_withdrawing_someone_elses_ticket_or_a_made_up_one_is_not_found(klass: Class) -> None:
    p0, p1, _ = klass.participants
    t0 = (await open_ticket(p0))["ticket_id"]
    await p1.refused("help:withdraw", {"ticket_id": t0}, "not_found")
    await p1.refused("help:withdraw", {"ticket_id": "f" * 32}, "not_found")
    await p1.refused("help:withdraw", {}, "invalid", "ticket_id")
    for client in staff(klass):
        await client.refused("help:withdraw", {"ticket_id": t0}, "forbidden")
    assert (await p0.ok("session:state", {}))["ticket"]["state"] == "waiting"


async def test_the_support_note_reaches_the_participant_and_survives_a_reload(klass: Class) -> None:
    p0 = klass.participants[0]
    t0 = (await open_ticket(p0))["ticket_id"]
    assert await klass.support.ok("help:resolve", {"ticket_id": t0, "note": "Unmute in Zoom: Alt+A"}) == {"ok": True}
    told = await p0.wait_for("help:ticket", lambda t: t["state"] == "resolved")
    assert told["note"] == "Unmute in Zoom: Alt+A"
    assert (await p0.ok("session:state", {}))["ticket"]["note"] == "Unmute in Zoom: Alt+A"


async def test_tickets_opened_before_the_class_went_live_are_marked_pre_class(klass: Class) -> None:
    """The class of `klass` is scheduled: a ticket now is a setup problem; one after the start is not."""
    p0, p1, _ = klass.participants
    t0 = (await open_ticket(p0))["ticket_id"]
    await klass.instructor.ok("session:start", {})
    t1 = (await open_ticket(p1))["ticket_id"]
    queue = await klass.support.wait_for("help:queue", lambda q: len(q["tickets"]) == 2)
    assert {t["ticket_id"]: t["pre_class"] for t in queue["tickets"]} == {t0: True, t1: False}
    state = await klass.support.ok("session:state", {})
    assert {t["ticket_id"]: t["pre_class"] for t in state["tickets"]} == {t0: True, t1: False}


async def test_a_claimed_ticket_says_since_when_it_is_in_progress_and_keeps_it_after_a_reload(klass: Class) -> None:
    p0 = klass.participants[0]
    t0 = (await open_ticket(p0))["ticket_id"]
    assert await klass.support.ok("help:claim", {"ticket_id": t0}) == {"ok": True}
    queue = await klass.support.wait_for("help:queue", lambda q: q["tickets"] and q["tickets"][0]["state"] == "claimed")
    claimed_at = queue["tickets"][0]["claimed_at"]
    assert claimed_at is not None and claimed_at >= queue["tickets"][0]["created_at"]
    state = await klass.admin.ok("session:state", {})
    assert state["tickets"][0]["claimed_at"] == claimed_at
