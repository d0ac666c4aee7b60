"""Recording consent: ask, answer, start and stop the recording, and end both when the session closes.

Where the state lives: the database. The open request, every answer and the recording stretch are
rows (persistence/repos/consent.py) that every process reads, so a request made through one process
is answered through another, and a late joiner's `session:state` finds it. A request and a recording
change commit under the session's lock (`write_now`) before the lock is let go, so the next action
reads what they wrote (an answer to a replaced request is refused; two starts make one stretch).

Answers go through the writer like ping answers (`write`, grouped into shared commits; acknowledged
once committed) and only mark the session: the counts staff see are read from what has committed,
every BATCH_SECONDS, like ping results. `pending` counts connected participants who have not
answered, so it also moves as tabs come and go: every SCAN_EVERY batches, each session with an open
request is looked at, and `consent:results` goes out where the counts differ from what this process
last sent.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core import consent, payloads
from core.model import Actor, SessionState
from persistence.identity import new_id
from persistence.repos import audit
from persistence.repos import consent as repo
from service.unit import Unit

log = logging.getLogger("companion.consent")

# Staff see answers counted within 100 ms of their commit (a class answering at once costs a few
# count queries, not one per answer), and pending move within about a second of a tab connecting or
# leaving: one query a second per process for the sessions asking is cheap.
BATCH_SECONDS = 0.1
SCAN_EVERY = 10
AUDIT_ACTION = "recording"


class Consent:
    def __init__(self, unit: Unit, default_text: str) -> None:
        self._u = unit
        self._default_text = default_text
        self._sent: dict[str, dict[str, Any]] = {}  # session id -> the counts this process last sent
        self._closed_recording: set[str] = set()  # sessions whose close stopped a recording (to announce)
        self._answered: set[str] = set()  # sessions with answers committed since their counts were last sent
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ the actions

    async def request(self, actor: Actor, session_id: str, p: payloads.ConsentRequest) -> consent.Request:
        """A new request replacing the open one; every participant tab is asked."""
        now = self._u.now()
        async with self._u.session(session_id) as s:
            req = consent.new_request(
                s,
                request_id=new_id(),
                purpose=p.purpose,
                text=p.text,
                default_text=self._default_text,
                requested_by=actor.name,
                now=now,
            )
            await self._u.write_now(session_id, lambda db: repo.open_request(db, request=req))
            counts = consent.results(req.id, {}, await self._u.store.connected(session_id))
            self._sent[session_id] = counts
            pending = await self._u.write(session_id, None, consent.request_events(req, counts))
        await pending
        return req

    async def answer(self, actor: Actor, session_id: str, p: payloads.ConsentAnswer) -> None:
        """A participant's answer to the open request; acknowledged once committed."""
        assert actor.participant_id is not None
        pid = actor.participant_id
        now = self._u.now()
        async with self._u.session(session_id):
            req = consent.check_answer(await self._u.read(repo.get_request, request_id=p.request_id), session_id)
            pending = await self._u.write(
                session_id,
                lambda db: repo.add_answer(db, request_id=req.id, participant_id=pid, consent=p.consent, now=now),
                [consent.answer_event(req, pid, p.consent)],
            )
        await pending
        self._answered.add(session_id)  # staff get the counts with the next batch

    async def recording(self, actor: Actor, session_id: str, p: payloads.RecordingStatus) -> None:
        """Start or stop the recording; starting while a connected participant declined needs a reason."""
        now = self._u.now()
        async with self._u.session(session_id) as s:
            going = await self._u.read(repo.current_recording, session_id=session_id) is not None
            if not p.recording:
                if not consent.check_stop(s, recording=going):
                    return

                async def stop(db: DbSession) -> None:
                    await repo.stop_recording(db, session_id=session_id, now=now, by=actor.name)

                await self._u.write_now(session_id, stop)
            else:
                req = await self._u.read(repo.current_request, session_id=session_id)
                answers = await self._u.read(repo.latest_answers, request_id=req.id) if req else {}
                connected = await self._u.store.connected(session_id)
                declined = consent.declined(answers, connected)
                if not consent.check_start(s, recording=going, declined_by=declined, override_reason=p.override_reason):
                    return
                counts = consent.results(req.id, answers, connected) if req else None
                started = consent.Recording(
                    id=new_id(),
                    session_id=session_id,
                    started_at=now,
                    started_by=actor.name,
                    override_reason=p.override_reason,
                )
                detail = {
                    "recording": True,
                    "request_id": req.id if req else None,
                    "yes": counts["yes"] if counts else 0,
                    "no": counts["no"] if counts else 0,
                    "pending": counts["pending"] if counts else len(connected),
                    "declined_connected": len(declined),
                    "override_reason": p.override_reason,
                }

                async def start(db: DbSession) -> None:
                    await repo.start_recording(db, recording=started, counts=detail)
                    await audit.record(
                        db,
                        actor=actor,
                        action=AUDIT_ACTION,
                        target=f"session:{session_id}",
                        at=now,
                        session_id=session_id,
                        detail=detail,
                    )

                await self._u.write_now(session_id, start)
            pending = await self._u.write(session_id, None, [consent.recording_event(session_id, p.recording)])
        await pending

    # ------------------------------------------------------------ what tabs are shown

    async def snapshot(self, actor: Actor, state: SessionState) -> dict[str, Any]:
        """`session:state`'s `consent` (the open request, with my answer or the counts) and `recording`."""
        sid = state.id
        async with self._u.sessions() as db:
            req = await repo.current_request(db, session_id=sid)
            recording = await repo.current_recording(db, session_id=sid) is not None
            view: dict[str, Any] | None = None
            if req is not None:
                view = req.view()
                if actor.participant_id is not None:
                    view["mine"] = await repo.my_answer(db, request_id=req.id, participant_id=actor.participant_id)
                else:
                    answers = await repo.latest_answers(db, request_id=req.id)
                    view["results"] = consent.results(req.id, answers, await self._u.store.connected(sid))
        return {"consent": view, "recording": recording and state.status == "live"}

    async def _counts(self, session_id: str, request_id: str) -> dict[str, Any]:
        answers = await self._u.read(repo.latest_answers, request_id=request_id)
        counts = consent.results(request_id, answers, await self._u.store.connected(session_id))
        self._sent[session_id] = counts
        return counts

    # ------------------------------------------------------------ pending moves with presence

    async def refresh(self) -> None:
        """Send `consent:results` again where tabs came or went since this process last sent them."""
        asking = set(await self._u.read(repo.sessions_asking))
        for gone in set(self._sent) - asking:
            del self._sent[gone]
        for sid in asking:
            try:
                await self._refresh_one(sid)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("consent counts of session %s could not be refreshed", sid)

    async def _refresh_one(self, session_id: str) -> None:
        if not await self._u.store.loaded(session_id):
            return  # no tab is served (a tab's connect loads the session): no staff to tell
        req = await self._u.read(repo.current_request, session_id=session_id)
        if req is None:
            return
        answers = await self._u.read(repo.latest_answers, request_id=req.id)
        if consent.results(req.id, answers, await self._u.store.connected(session_id)) == self._sent.get(session_id):
            return
        async with self._u.session(session_id):  # in the session's order with the answers
            req = await self._u.read(repo.current_request, session_id=session_id)
            if req is None:
                return
            counts = await self._counts(session_id, req.id)
            pending = await self._u.write(session_id, None, [consent.results_event(session_id, counts)])
        await pending

    async def flush(self) -> None:
        """Send the counts of the sessions answered since the last batch."""
        answered, self._answered = self._answered, set()
        for sid in answered:
            try:
                await self._refresh_one(sid)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("consent counts of session %s could not be sent", sid)

    async def refresh_forever(self) -> None:
        tick = 0
        while True:
            await asyncio.sleep(BATCH_SECONDS)
            tick += 1
            await (self.refresh() if tick % SCAN_EVERY == 0 else self.flush())

    # ------------------------------------------------------------ the session closes

    async def on_close(self, db: DbSession, closed: SessionState, now: datetime) -> None:
        """In the close's transaction: the open request ends and the recording stops (noted to announce)."""
        if await repo.end_at_close(db, session_id=closed.id, now=now):
            self._closed_recording.add(closed.id)

    def after_close(self) -> None:
        """Once a close committed: tell every tab the recording stopped (`recording {recording: false}`)."""
        task = asyncio.get_running_loop().create_task(self._announce_stopped())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _announce_stopped(self) -> None:
        for sid in list(self._closed_recording):
            self._closed_recording.discard(sid)
            try:
                async with self._u.session(sid):
                    # A close whose transaction failed stopped nothing: announce only what the database says.
                    if await self._u.read(repo.current_recording, session_id=sid) is not None:
                        continue
                    pending = await self._u.write(sid, None, [consent.recording_event(sid, False)])
                await pending
            except Exception:
                log.exception("could not announce that the recording of %s stopped", sid)
