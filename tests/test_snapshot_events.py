"""A snapshot plus the events an action emitted equals a fresh snapshot after it.

Each client keeps a model built the way a page keeps its own: `session:state` once, then every
event applied to it. After each action the model must equal a new `session:state`. An action that
changes state and emits nothing (or emits too little) leaves the model behind, and the test fails.
"""

from __future__ import annotations

import asyncio
import copy
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
        s.pop("me", None)  # the participant learns its own status from its acks
        s["pings"] = sorted(s["pings"], key=lambda p: p["ping_id"])
    return s


async def _settled(models: list[Model], staff: list[bool]) -> None:
    """Every model equals a fresh snapshot (waiting out the 100 ms batches)."""
    for _ in range(40):
        await asyncio.sleep(0.1)
        fresh = [await m.client.call("session:state", {}) for m in models]
        for m in models:
            m.catch_up()
        if all(_normal(m.state, s) == _normal(f, s) for m, s, f in zip(models, staff, fresh, strict=True)):
            return
    for m, s, f in zip(models, staff, fresh, strict=True):
        mine, theirs = _normal(m.state, s), _normal(f, s)
        for key in mine.keys() | theirs.keys():
            assert mine.get(key) == theirs.get(key), key


async def test_every_action_emits_what_a_fresh_snapshot_shows(klass: Class) -> None:
    """Staff and participant models follow start, check-in, mark, pings, help, chat, platform, delay-free close."""
    p0, p1, _ = klass.participants
    models = [Model(klass.admin, True), Model(klass.support, True), Model(p0, False), Model(p1, False)]
    staff = [True, True, False, False]
    for m in models:
        await m.start()

    third = klass.people[2]["id"]
    steps = [
        lambda: klass.instructor.call("session:start", {}),
        lambda: p0.call("attendance:checkin", {}),
        lambda: klass.instructor.call("attendance:mark", {"participant_id": third, "status": "excused"}),
        lambda: klass.instructor.call("ping:launch", {"kind": "poll", "question": "Which?", "options": ["a", "b"]}),
        lambda: klass.instructor.call("platform:status", {"status": "degraded", "message": "Zoom audio is down"}),
        lambda: p0.call("help:open", {"category": "microphone", "text": "no sound"}),
        lambda: p1.call("help:open", {"category": "camera", "text": "black"}),
        lambda: p0.call("chat:send", {"client_id": "snapshot-001", "text": "hello"}),
        lambda: klass.support.call("chat:send", {"client_id": "snapshot-002", "text": "on it"}),
    ]
    for step in steps:
        ack = await step()
        assert ack["ok"] is True, ack
        await _settled(models, staff)

    ping_id = models[0].state["pings"][0]["ping_id"]
    for model, answer in ((models[2], 1), (models[3], 0)):
        assert (await model.client.call("ping:answer", {"ping_id": ping_id, "answer": answer}))["ok"] is True
        for ping in model.state["pings"]:  # a page records its own answer from the ack
            if ping["ping_id"] == ping_id:
                ping["my_answer"] = answer
        await _settled(models, staff)
    tickets = models[0].state["tickets"]
    assert (await klass.support.call("help:claim", {"ticket_id": tickets[0]["ticket_id"]}))["ok"] is True
    await _settled(models, staff)
    assert (await klass.instructor.call("ping:close", {"ping_id": ping_id}))["ok"] is True
    await _settled(models, staff)
    assert (await klass.instructor.call("session:close", {}))["ok"] is True
    await _settled(models, staff)
    assert models[2].state["session"]["status"] == "closed"
    assert models[3].state["ticket"]["state"] == "unresolved"
