"""A snapshot plus the events an action emitted equals a fresh snapshot after it.

Each client keeps a model built the way a page keeps its own: `session:state` once, then every
event applied to it. After each action the model must equal a new `session:state`. An action that
changes state and emits nothing (or emits too little) leaves the model behind, and the test fails.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from typing import Any

from tests.support import Class, Client

# Fields that move with the clock or the sequence of calls, not with the state.
VOLATILE = ("server_time", "checkin_code_expires_at")


def _apply_staff(model: dict[str, Any], event: str, data: Any) -> None:
    if event == "session":
        model["session"] = data
    elif event == "platform":
        model["platform"] = data
    elif event == "presence":
        by_id = {p["participant_id"]: i for i, p in enumerate(model["participants"])}
        for change in data["changes"]:
            i = by_id.get(change["participant_id"])
            if i is None:
                model["participants"].append(change)
            else:
                model["participants"][i] = change
        model["counts"] = data["counts"]
        if "checkin_code" in data:
            model["checkin_code"] = data["checkin_code"]
    elif event == "ping:results":
        model["pings"] = [p for p in model["pings"] if p["ping_id"] != data["ping_id"]]
        if not data["closed"]:
            model["pings"].append(data)
    elif event == "help:queue":
        model["tickets"] = data["tickets"]
    elif event == "chat":
        model["last_seq"] = max(model["last_seq"], data["seq"])


def _apply_participant(model: dict[str, Any], event: str, data: Any) -> None:
    if event == "session":
        model["session"] = data
    elif event == "platform":
        model["platform"] = data
    elif event == "ping":
        model["pings"].append({**data, "my_answer": None})
    elif event == "ping:closed":
        model["pings"] = [p for p in model["pings"] if p["ping_id"] != data["ping_id"]]
    elif event == "help:ticket":
        model["ticket"] = data
    elif event == "feedback":
        model["feedback"] = data
    elif event == "chat":
        model["last_seq"] = max(model["last_seq"], data["seq"])


class Model:
    """A client's view: a snapshot, then the events it received, applied in order."""

    def __init__(self, client: Client, staff: bool) -> None:
        self.client = client
        self.apply = _apply_staff if staff else _apply_participant
        self.state: dict[str, Any] = {}
        self.seen = 0

    async def start(self) -> None:
        self.state = await self.client.call("session:state", {})
        self.seen = len(self.client.events)

    def catch_up(self) -> None:
        for event, data in self.client.events[self.seen :]:
            self.apply(self.state, event, copy.deepcopy(data))
        self.seen = len(self.client.events)


def _normal(state: dict[str, Any], staff: bool) -> dict[str, Any]:
    s = {k: v for k, v in state.items() if k not in (*VOLATILE, "ok")}
    if staff:
        s["participants"] = sorted(s["participants"], key=lambda p: p["participant_id"])
        s["pings"] = sorted(
            ({k: v for k, v in p.items() if k != "closed"} for p in s["pings"]), key=lambda p: p["ping_id"]
        )
    else:
        s["pings"] = sorted(s["pings"], key=lambda p: p["ping_id"])
    return s


async def _settled(models: list[Model], staff: list[bool]) -> list[dict[str, Any]]:
    """Every model equals a fresh snapshot (waiting out the 100 ms batches); answers the snapshots."""
    for _ in range(40):
        await asyncio.sleep(0.1)
        fresh = [_normal(await m.client.call("session:state", {}), s) for m, s in zip(models, staff, strict=True)]
        for m in models:
            m.catch_up()
        if all(_normal(m.state, s) == f for m, s, f in zip(models, staff, fresh, strict=True)):
            return fresh
    for m, s, f in zip(models, staff, fresh, strict=True):
        mine = _normal(m.state, s)
        for key in mine.keys() | f.keys():
            assert mine.get(key) == f.get(key), key
    raise AssertionError("unreachable: a difference above fails")


class Steps:
    """Runs actions one by one; after each, the models equal fresh snapshots, and the state changed.

    The guard is Zulip's: an action under test must change what some client's snapshot shows, and
    some client must have received an event for it; otherwise "the model equals the snapshot" would
    hold for an action that did nothing, or whose change no snapshot shows.
    """

    def __init__(self, models: list[Model], staff: list[bool]) -> None:
        self.models, self.staff = models, staff
        self.before: list[dict[str, Any]] = []

    async def start(self) -> None:
        for m in self.models:
            await m.start()
        self.before = [_normal(m.state, s) for m, s in zip(self.models, self.staff, strict=True)]

    async def run(
        self, name: str, action: Callable[[], Awaitable[Any]], own: Callable[[Any], None] = lambda _: None
    ) -> Any:
        """Run action; own(ack) records in the acting client's model what a page learns from the ack."""
        received = [len(m.client.events) for m in self.models]
        ack = await action()
        assert ack["ok"] is True, (name, ack)
        own(ack)
        after = await _settled(self.models, self.staff)
        assert after != self.before, f"{name}: no snapshot changed"
        assert any(len(m.client.events) > n for m, n in zip(self.models, received, strict=True)), (
            f"{name}: changed the state and emitted no event"
        )
        self.before = after
        return ack


async def test_every_action_emits_what_a_fresh_snapshot_shows(klass: Class) -> None:
    """Staff and participant models follow start, check-in, mark, pings, help, chat, platform, delay-free close."""
    p0, p1, _ = klass.participants
    models = [Model(klass.admin, True), Model(klass.support, True), Model(p0, False), Model(p1, False)]
    steps = Steps(models, [True, True, False, False])
    await steps.start()

    def checked_in(model: Model) -> Callable[[Any], None]:
        def own(ack: Any) -> None:  # a page shows its own check-in from the ack
            model.state["me"].update(status=ack["status"], checked_in_at=ack["at"])

        return own

    third = klass.people[2]["id"]
    await steps.run("start", lambda: klass.instructor.call("session:start", {}))
    await steps.run("check-in", lambda: p0.call("attendance:checkin", {}), checked_in(models[2]))
    await steps.run(
        "mark", lambda: klass.instructor.call("attendance:mark", {"participant_id": third, "status": "excused"})
    )
    await steps.run(
        "launch",
        lambda: klass.instructor.call("ping:launch", {"kind": "poll", "question": "Which?", "options": ["a", "b"]}),
    )
    await steps.run(
        "platform",
        lambda: klass.instructor.call("platform:status", {"status": "degraded", "message": "Zoom audio is down"}),
    )
    await steps.run("help 1", lambda: p0.call("help:open", {"category": "microphone", "text": "no sound"}))
    await steps.run("help 2", lambda: p1.call("help:open", {"category": "camera", "text": "black"}))
    await steps.run("chat 1", lambda: p0.call("chat:send", {"client_id": "snapshot-001", "text": "hello"}))
    await steps.run("chat 2", lambda: klass.support.call("chat:send", {"client_id": "snapshot-002", "text": "on it"}))
    await steps.run("second check-in", lambda: p1.call("attendance:checkin", {}), checked_in(models[3]))

    ping_id = models[0].state["pings"][0]["ping_id"]
    for model, answer in ((models[2], 1), (models[3], 0)):

        def answered(_: Any, model: Model = model, answer: int = answer) -> None:
            for ping in model.state["pings"]:  # a page records its own answer from the ack
                if ping["ping_id"] == ping_id:
                    ping["my_answer"] = answer

        await steps.run(
            "answer",
            lambda model=model, answer=answer: model.client.call("ping:answer", {"ping_id": ping_id, "answer": answer}),
            answered,
        )
    ticket = models[0].state["tickets"][0]["ticket_id"]
    await steps.run("claim", lambda: klass.support.call("help:claim", {"ticket_id": ticket}))
    await steps.run("close ping", lambda: klass.instructor.call("ping:close", {"ping_id": ping_id}))
    await steps.run("close", lambda: klass.instructor.call("session:close", {}))
    assert models[2].state["session"]["status"] == "closed"
    assert models[3].state["ticket"]["state"] == "unresolved"
    assert models[2].state["me"]["status"] == "present" and models[3].state["me"]["checked_in_at"] is not None
