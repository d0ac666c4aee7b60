"""Presence: batched changes to staff, never to participants; several tabs; bursts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select

from persistence.db import create_engine
from persistence.models import Connection
from tests.support import Class, Client


def change_for(event: dict[str, Any], participant_id: str) -> dict[str, Any] | None:
    """The change about this participant in a `presence` event, if any."""
    return next((c for c in event["changes"] if c["participant_id"] == participant_id), None)


def shows(participant_id: str, **expected: Any) -> Any:
    """A predicate: the presence event has a change about this participant with these fields."""

    def pred(event: dict[str, Any]) -> bool:
        change = change_for(event, participant_id)
        return change is not None and all(change.get(k) == v for k, v in expected.items())

    return pred


def fresh(client: Client, pred: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """Narrow pred to events that arrive from now on (not ones already recorded)."""
    old = {id(d) for _, d in client.events}
    return lambda d: id(d) not in old and pred(d)


def staff_of(klass: Class) -> list[Client]:
    return [klass.admin, klass.instructor, klass.support]


async def roster_entry(client: Client, participant_id: str) -> dict[str, Any]:
    state = await client.call("session:state", {})
    return next(r for r in state["participants"] if r["participant_id"] == participant_id)


async def open_tabs(klass: Class, participant_id: str) -> int:
    """How many sockets of this participant the server's database has open (not ended)."""
    engine = create_engine(klass.server.settings.database_url)
    try:
        async with engine.connect() as db:
            open_ = select(func.count()).where(
                Connection.participant_id == participant_id, Connection.ended_at.is_(None)
            )
            return int((await db.execute(open_)).scalar_one())
    finally:
        await engine.dispose()


async def until(read: Callable[[], Awaitable[int]], expected: int, timeout: float = 5) -> None:
    """Wait until read() answers expected (polled: a database row has no event to wait on)."""
    deadline = time.monotonic() + timeout
    while (got := await read()) != expected:
        assert time.monotonic() < deadline, f"still {got}, not {expected}, after {timeout}s"
        await asyncio.sleep(0.01)


async def test_staff_see_a_participant_connect_check_in_and_leave(klass: Class) -> None:
    """Every staff screen gets presence changes for connect, check-in and disconnect."""
    [person] = await klass.server.participants(klass.id, 1, prefix="new")
    pid = person["id"]
    newcomer = await klass.server.connect(person["token"])
    for staff in staff_of(klass):
        event = await staff.wait_for("presence", shows(pid, connected=True))
        assert change_for(event, pid) == {
            "participant_id": pid,
            "name": person["name"],
            "email": person["email"],
            "connected": True,
            "status": "absent",
            "checked_in_at": None,
        }
        assert event["counts"]["connected"] == 4 and event["counts"]["expected"] == 4

    checked = await newcomer.call("attendance:checkin", {})
    for staff in staff_of(klass):
        event = await staff.wait_for("presence", shows(pid, status="present"))
        assert change_for(event, pid)["checked_in_at"] == checked["at"]  # type: ignore[index]
        assert change_for(event, pid)["connected"] is True  # type: ignore[index]
        assert event["counts"]["checked_in"] == 1 and event["counts"]["present"] == 1

    leaving = [fresh(staff, shows(pid, connected=False, status="present")) for staff in staff_of(klass)]
    await newcomer.close()
    for staff, left in zip(staff_of(klass), leaving, strict=True):
        event = await staff.wait_for("presence", left)
        assert event["counts"]["connected"] == 3
        assert (await roster_entry(staff, pid))["connected"] is False


async def test_participants_never_get_presence(klass: Class) -> None:
    """Presence goes to staff only: a participant sees none while others come, check in and go."""
    watcher = klass.participants[0]
    p1 = klass.participants[1]
    pid1 = klass.people[1]["id"]
    await p1.call("attendance:checkin", {})
    left = fresh(klass.admin, shows(pid1, connected=False))
    await p1.close()
    await klass.admin.wait_for("presence", left)
    sent = await klass.instructor.call("chat:send", {"client_id": "after-presence", "text": "hi all"})
    await watcher.wait_for("chat", lambda m: m["id"] == sent["id"])
    assert watcher.of("presence") == []
    assert klass.participants[2].of("presence") == []


async def test_a_participant_with_two_tabs_stays_connected_until_both_close(klass: Class) -> None:
    """Closing one of two tabs changes nothing; closing the second shows disconnected."""
    person = klass.people[0]
    pid = person["id"]
    second_tab = await klass.server.connect(person["token"])
    first_tab = klass.participants[0]
    assert (await second_tab.call("session:state", {}))["me"]["participant_id"] == pid

    first_left = fresh(klass.admin, shows(pid, connected=False))
    assert await open_tabs(klass, pid) == 2
    await first_tab.close()
    # The server has handled the first tab's close once its connection row is ended (it ends the
    # row after deciding whether the participant left). Only then does another participant leave:
    # a change about the first tab would be queued before that one, so it would arrive in the
    # same batch or an earlier one, and the other participant's change is the positive signal.
    await until(lambda: open_tabs(klass, pid), 1)
    other_left = fresh(klass.admin, shows(klass.people[1]["id"], connected=False))
    await klass.participants[1].close()
    await klass.admin.wait_for("presence", other_left)
    assert not any(first_left(e) for e in klass.admin.of("presence"))
    assert (await roster_entry(klass.admin, pid))["connected"] is True
    assert (await klass.admin.call("session:state", {}))["counts"]["connected"] == 2

    await second_tab.close()
    event = await klass.admin.wait_for("presence", first_left)
    assert event["counts"]["connected"] == 1
    assert (await roster_entry(klass.instructor, pid))["connected"] is False


async def test_a_burst_of_connects_arrives_in_few_presence_events(klass: Class) -> None:
    """Twenty participants connecting at once reach staff in fewer events than changes, none lost."""
    people = await klass.server.participants(klass.id, 20, prefix="burst")
    ids = {p["id"] for p in people}
    await asyncio.gather(*(klass.server.connect(p["token"]) for p in people))

    def all_connected(_: Any) -> bool:
        seen = {c["participant_id"] for e in klass.support.of("presence") for c in e["changes"] if c["connected"]}
        return ids <= seen

    await klass.support.wait_for("presence", all_connected)
    carrying = [
        e
        for e in klass.support.of("presence")
        if any(c["connected"] and c["participant_id"] in ids for c in e["changes"])
    ]
    assert len(carrying) < len(ids)
    # A batch may also carry the class's earlier connects (they can share its 100 ms window).
    assert {c["participant_id"] for e in carrying for c in e["changes"] if c["connected"]} & ids == ids
    state = await klass.support.call("session:state", {})
    assert state["counts"]["connected"] == 23 and state["counts"]["expected"] == 23


async def test_presence_names_follow_a_roster_update(klass: Class) -> None:
    """Adding a participant again under a new name keeps the token and shows the new name to staff."""
    person = klass.people[2]
    r = await klass.server.api(
        "POST",
        f"/api/sessions/{klass.id}/participants",
        {"participants": [{"name": "Renamed Person", "email": person["email"].upper()}]},
    )
    assert r.status_code == 200 and r.json()["participants"][0]["token"] == person["token"]
    event = await klass.admin.wait_for("presence", shows(person["id"], name="Renamed Person"))
    assert change_for(event, person["id"])["connected"] is True  # type: ignore[index]
    assert (await roster_entry(klass.admin, person["id"]))["name"] == "Renamed Person"
