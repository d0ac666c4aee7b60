"""Scheduling: book, change and cancel sessions and series, with their checks, their meetings and the audit log.

Every booking is checked before anything is written (core.scheduling says what refuses it), under
the instructor's lock, so that two admins booking the same instructor at once cannot both pass the
conflict check. The meeting is booked on the video platform next, and the sessions (with the audit
entry of an override) are written last, in one transaction; when that write fails, the meetings
just booked are deleted again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from datetime import datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core import lifecycle, scheduling, suggest
from core.errors import Conflict, Forbidden, Invalid, NotFound, Unavailable
from core.invitations import agenda_text
from core.model import Actor, Emit, SessionState, iso, room_token
from core.platforms import Platform
from core.schedule import Recurrence, conflicts, self_overlaps, series, zone
from core.video import Meeting, MeetingSpec, Occurrence, ProviderError, VideoProvider
from persistence.identity import new_id
from persistence.repos import audit, roster, sessions
from service.invitations import Invitations
from service.unit import Unit

log = logging.getLogger("companion.scheduling")

# GET /api/sessions answers at most this many (in start order); `more` says when there are others.
LIST_LIMIT_MAX = 5000


class Scheduling:
    def __init__(
        self,
        unit: Unit,
        catalogue: tuple[Platform, ...],
        video: Callable[[str | None], VideoProvider],
        invitations: Invitations,
    ) -> None:
        self._u = unit
        self._invitations = invitations  # what a change mails, and the reminders, written in the same transaction
        self._catalogue = catalogue
        self._video = video  # the provider that books meetings on a platform (the manual link by default)

    # ------------------------------------------------------------ booking

    async def create(
        self, actor: Actor, template: SessionState, rec: Recurrence | None, override_reason: str | None
    ) -> list[SessionState]:
        """Book one session, or every occurrence of a weekly series; Conflict naming every reason, or Invalid."""
        platform = scheduling.platform_of(self._catalogue, template.platform)
        zone(template.timezone)
        starts = (
            series(template.starts_at, template.timezone, rec, template.duration_minutes)
            if rec
            else [template.starts_at]
        )
        series_id = new_id() if rec else None
        planned = [
            replace(template, id=new_id(), starts_at=s, series_id=series_id, override_reason=override_reason)
            for s in starts
        ]
        provider = self._video(template.platform)
        async with self._instructor(template.instructor_email):
            clashes = await self._clashes(template.instructor_email, planned, exclude=())
            needed = scheduling.people_needed(template.expected_participants, 0)
            problems = scheduling.platform_problems(platform, template.required_features, needed)
            problems += await self._account_problems(provider, needed)
            refused = scheduling.refusal(clashes, problems, override_reason=override_reason)
            if refused is not None:
                raise refused
            meetings = await self._book(provider, planned, rec, template.join_url)
            planned = [_with_meeting(s, m) for s, m in zip(planned, meetings, strict=True)]
            now = self._u.now()
            overridden = scheduling.overridden(clashes, problems)

            async def op(db: DbSession) -> None:
                await sessions.create_sessions(db, states=planned, now=now)
                await self._invitations.on_created(db, planned, now)
                if overridden:
                    await _audit_each(
                        db, actor, "override", planned, now, {"reason": override_reason, "overridden": overridden}
                    )

            try:
                await self._u.submit(op)
            except BaseException:
                await self._unbook(provider, meetings)
                raise
        return planned

    async def patch(
        self, actor: Actor, session_id: str, changes: dict[str, Any], *, following: bool, override_reason: str | None
    ) -> SessionState:
        """Change a session, or it and the rest of its series; answers the session named in the path."""
        first = await self._u.read(sessions.get_session, session_id=session_id)
        if first is None:
            raise NotFound("no such session")
        async with self._group(first, following) as whole:
            target = whole[0]
            scheduling.check_patch(target, set(changes))
            # Later occurrences already cancelled stay as they are.
            group = [target, *(s for s in whole[1:] if s.status == "scheduled")]
            if "platform" in changes:
                scheduling.platform_of(self._catalogue, changes["platform"])
            if "timezone" in changes:
                zone(changes["timezone"])
            changed = self._changed(group, changes, override_reason, new_series=following and len(group) > 1)
            timing = bool(scheduling.TIMING & changes.keys())
            if timing and len(changed) > 1:
                clash = self_overlaps([s.starts_at for s in changed], changed[0].duration_minutes)
                if clash:
                    raise Invalid(
                        f"duration_minutes: the occurrences at {iso(clash[0][0])} and {iso(clash[0][1])} would overlap"
                    )
            clashes = (
                await self._clashes(target.instructor_email, changed, exclude={s.id for s in group}) if timing else []
            )
            problems: list[scheduling.Problem] = []
            if scheduling.PLATFORM_BOUND & changes.keys():
                new = changed[0]
                needed = scheduling.people_needed(
                    new.expected_participants, await self._u.read(sessions.roster_size, session_id=new.id)
                )
                platform = scheduling.platform_of(self._catalogue, new.platform)
                problems = scheduling.platform_problems(platform, new.required_features, needed)
            refused = scheduling.refusal(clashes, problems, override_reason=override_reason)
            if refused is not None:
                raise refused
            if timing or {"topic", "agenda"} & changes.keys():
                changed = await self._update_meetings(group, changed)
            now = self._u.now()
            overridden = scheduling.overridden(clashes, problems)

            async def op(db: DbSession) -> None:
                await sessions.save_sessions(db, states=changed)
                await self._invitations.on_changed(
                    db, list(zip(group, changed, strict=True)), now, new_series=following and len(group) > 1
                )
                if overridden:
                    detail = {"reason": override_reason, "overridden": overridden, "changed": sorted(changes)}
                    await _audit_each(db, actor, "override", changed, now, detail)

            await self._u.submit(op)
            await self._publish(changed)
        return changed[0]

    async def cancel(self, actor: Actor, session_id: str, reason: str, *, following: bool) -> SessionState:
        """Cancel a scheduled session (and the rest of its series): its meeting is deleted, it never goes live.

        When the platform fails part-way through a series, the sessions whose meetings were deleted
        are cancelled (the platform and the schedule agree) and the answer is `unavailable`, naming
        how many are left: cancelling again with scope=following finishes the work.
        """
        first = await self._u.read(sessions.get_session, session_id=session_id)
        if first is None:
            raise NotFound("no such session")
        async with self._group(first, following) as group:
            now = self._u.now()
            target, _ = lifecycle.cancel(group[0], now, reason)  # the one named must be cancellable
            cancelled: list[SessionState] = []
            failure: ProviderError | None = None
            for s in group:
                if s.status != "scheduled":
                    continue  # a later occurrence already cancelled (or, impossibly, begun) stays as it is
                try:
                    await self._delete_meeting(s)
                except ProviderError as e:
                    failure = e
                    break
                cancelled.append(lifecycle.cancel(s, now, reason)[0])

            async def op(db: DbSession) -> None:
                await sessions.save_sessions(db, states=cancelled)
                await self._invitations.on_cancelled(db, cancelled, now, following=following)
                await _audit_each(db, actor, "cancel", cancelled, now, {"reason": reason})

            if cancelled:
                await self._u.submit(op)
                await self._publish(cancelled)
            if failure is not None:
                left = len([s for s in group if s.status == "scheduled"]) - len(cancelled)
                raise Unavailable(
                    f"the video platform did not delete the meeting: {failure}; "
                    f"{len(cancelled)} cancelled, {left} not (try again)",
                    cancelled=[s.id for s in cancelled],
                )
        return cancelled[0] if cancelled and cancelled[0].id == target.id else target

    # ------------------------------------------------------------ reading

    async def listing(
        self, actor: Actor, *, start: datetime | None, end: datetime | None, instructor_email: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """Sessions in start order, each with its roster size (instructors: their own); and whether there are more."""
        if actor.role == "instructor":
            own = (actor.email or "").lower()
            if instructor_email is not None and instructor_email.lower() != own:
                raise Forbidden("an instructor sees their own sessions only")
            instructor_email = own
        rows = await self._u.read(
            sessions.list_sessions, start=start, end=end, instructor_email=instructor_email, limit=limit + 1
        )
        shown = rows[:limit]
        summaries = await self._invitations.summaries([s for s, _ in shown])
        return [{**s.public(), "participants": n, **summaries[s.id]} for s, n in shown], len(rows) > limit

    async def warnings(self, session: SessionState) -> dict[str, list[dict[str, Any]]]:
        """For each email on the roster (lower-cased), the other sessions of theirs this one overlaps."""
        found = await self._u.read(
            roster.others_overlapping,
            session_id=session.id,
            starts_at=session.starts_at,
            ends_at=scheduling.session_end(session.starts_at, session.duration_minutes),
        )
        return {
            key: [
                {"kind": "overlap", "session_id": sid, "topic": topic, "starts_at": iso(at)}
                for sid, topic, at in sorted(hits, key=lambda h: h[2])
            ]
            for key, hits in found.items()
        }

    async def remove_participant(self, actor: Actor, session_id: str, participant_id: str) -> None:
        """Take someone off the roster: their link stops working and their sockets close."""
        store = self._u.store
        async with self._u.session(session_id) as s:
            if s.status == "closed":
                raise Conflict("the session is closed: its attendance sheet is kept as it was")
            now = self._u.now()

            async def op(db: DbSession) -> Any:
                gone = await roster.remove_participant(db, session_id=session_id, participant_id=participant_id)
                if gone is not None:
                    await self._invitations.on_removed(db, session_id, participant_id, now)
                return gone

            removed = await self._u.write_now(session_id, op)
            if removed is None:
                raise NotFound("no such participant in this session")
            await store.remove_member(session_id, participant_id)
        await self._u.publisher.disconnect(room_token(participant_id))
        self._u.publisher.presence_changed(session_id)

    async def suggest(
        self,
        *,
        instructor_email: str,
        emails: list[str],
        session_id: str | None,
        window_start: datetime,
        window_end: datetime,
        duration_minutes: int,
        working_hours: tuple[time, time],
        step_minutes: int,
        limit: int,
        default_tz: str,
    ) -> list[dict[str, Any]]:
        """The best times for the instructor and these people (or a session's roster), each in their own zone."""
        people: dict[str, str | None] = {e.lower(): None for e in emails}
        if session_id is not None:
            for m in await self._u.read(roster.members, session_id=session_id):
                people.setdefault(m.email.lower(), m.name)
        people.pop(instructor_email.lower(), None)  # the instructor is counted once, as the one required
        keys = [instructor_email.lower(), *people]
        zones = await self._u.read(roster.timezones, emails=keys)
        busy = await self._u.read(roster.busy_of, emails=keys, start=window_start, end=window_end)

        def person(key: str, name: str | None, required: bool) -> suggest.Person:
            own = tuple(
                suggest.Busy(sid, topic, at, scheduling.session_end(at, minutes))
                for sid, topic, at, minutes in busy.get(key, [])
            )
            return suggest.Person(key, zones.get(key, default_tz), own, required=required, name=name)

        everyone = [person(keys[0], None, True), *(person(k, n, False) for k, n in people.items())]
        now = self._u.now()
        # Pure and quick (65 ms for 5,000 people over a month), but not nothing: off the event loop.
        slots = await asyncio.to_thread(
            suggest.suggest,
            everyone,
            duration_minutes=duration_minutes,
            window_start=window_start,
            window_end=window_end,
            now=now,
            working_hours=working_hours,
            step_minutes=step_minutes,
            limit=limit,
        )
        return [slot.view() for slot in slots]

    # ------------------------------------------------------------ the parts

    @asynccontextmanager
    async def _instructor(self, email: str) -> AsyncIterator[None]:
        """One booking at a time per instructor, in every process (the live store's lock)."""
        async with self._u.store.lock(f"instructor:{email.lower()}"):
            yield

    @asynccontextmanager
    async def _group(self, first: SessionState, following: bool) -> AsyncIterator[list[SessionState]]:
        """The session (and, with `following`, the later ones of its series), each under its own lock, as they
        stand now (the live state when loaded), the one named first; under the instructor's lock too."""
        ids = [first.id]
        if following and first.series_id is not None:
            later = await self._u.read(sessions.series_from, series_id=first.series_id, starts_at=first.starts_at)
            ids += [s.id for s in later if s.id != first.id]
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(self._instructor(first.instructor_email))
            for sid in sorted(ids):  # one order for every taker: no deadlock
                await stack.enter_async_context(self._u.store.lock(sid))
            group = []
            for sid in ids:
                state = await self._u.store.session(sid) or await self._u.read(sessions.get_session, session_id=sid)
                if state is None:
                    raise NotFound("no such session")
                group.append(state)
            yield group

    def _changed(
        self, group: list[SessionState], changes: dict[str, Any], override_reason: str | None, *, new_series: bool
    ) -> list[SessionState]:
        """Each session of the group with the change applied: later ones move by the same change of local time."""
        target = group[0]
        plain = {k: v for k, v in changes.items() if k not in ("starts_at", "timezone")}
        if override_reason:
            plain["override_reason"] = override_reason
        new_tz = changes.get("timezone", target.timezone)
        new_first = changes.get("starts_at", target.starts_at)
        starts = [s.starts_at for s in group]
        if "starts_at" in changes or "timezone" in changes:
            starts = [new_first, *scheduling.shifted(starts[1:], target.timezone, new_tz, target.starts_at, new_first)]
        series_id = new_id() if new_series else None
        return [
            replace(
                s,
                **plain,
                starts_at=start,
                timezone=new_tz if ("timezone" in changes or s is target) else s.timezone,
                series_id=series_id if series_id else s.series_id,
            )
            for s, start in zip(group, starts, strict=True)
        ]

    async def _clashes(
        self, instructor_email: str, planned: Sequence[SessionState], *, exclude: set[str] | tuple[()]
    ) -> list[Any]:
        first = min(s.starts_at for s in planned)
        last_end = max(scheduling.session_end(s.starts_at, s.duration_minutes) for s in planned)
        bookings = await self._u.read(
            sessions.instructor_bookings, instructor_email=instructor_email, start=first, end=last_end, exclude=exclude
        )
        return conflicts([(s.starts_at, s.duration_minutes) for s in planned], bookings)

    async def _account_problems(self, provider: VideoProvider, needed: int) -> list[scheduling.Problem]:
        """The host account's own limit, which may be below the catalogue's (a smaller plan)."""
        try:
            allowed = await provider.capacity()
        except ProviderError as e:
            raise Unavailable(f"the video platform did not answer: {e}") from None
        if allowed is not None and needed > allowed:
            return [scheduling.Problem("capacity", f"the host's {provider.name} account allows {allowed} people")]
        return []

    async def _book(
        self, provider: VideoProvider, planned: list[SessionState], rec: Recurrence | None, join_url: str | None
    ) -> list[Meeting]:
        first = planned[0]
        spec = MeetingSpec(
            topic=first.topic,
            timezone=first.timezone,
            occurrences=tuple(Occurrence(s.starts_at, s.duration_minutes) for s in planned),
            agenda=agenda_text(first.agenda),
            weekly_days=rec.byday if rec else (),
        )
        try:
            meetings = await provider.create(spec, join_url=join_url)
        except ProviderError as e:
            raise Unavailable(f"the video platform did not book the meeting: {e}") from None
        if len(meetings) != len(planned):
            await self._unbook(provider, meetings)
            raise Unavailable(f"{provider.name} booked {len(meetings)} meetings for {len(planned)} sessions")
        return meetings

    async def _unbook(self, provider: VideoProvider, meetings: list[Meeting]) -> None:
        for m in meetings:
            try:
                await provider.delete(m)
            except ProviderError as e:  # logged: the operator deletes it by hand
                log.warning("a meeting booked for sessions that were not written is left on %s: %s", provider.name, e)

    async def _update_meetings(self, group: list[SessionState], changed: list[SessionState]) -> list[SessionState]:
        """Move each booked meeting with its session; on a failure, put back those already moved."""
        done: list[tuple[VideoProvider, SessionState]] = []
        out = []
        for old, new in zip(group, changed, strict=True):
            meeting = _meeting_of(old)
            if meeting is None or meeting.meeting_id is None:
                out.append(new)
                continue
            provider = self._video(old.platform)
            try:
                moved = await provider.update(
                    meeting,
                    Occurrence(new.starts_at, new.duration_minutes),
                    topic=new.topic,
                    timezone=new.timezone,
                    agenda=agenda_text(new.agenda),
                )
            except ProviderError as e:
                for p, s in reversed(done):
                    try:
                        await p.update(
                            _meeting_of(s),  # type: ignore[arg-type]
                            Occurrence(s.starts_at, s.duration_minutes),
                            topic=s.topic,
                            timezone=s.timezone,
                            agenda=agenda_text(s.agenda),
                        )
                    except ProviderError as undo:
                        log.warning("a meeting moved for a change that was refused is left moved: %s", undo)
                raise Unavailable(f"the video platform did not move the meeting: {e}; nothing was changed") from None
            done.append((provider, old))
            out.append(_with_meeting(new, moved) if moved.join_url else new)
        return out

    async def _delete_meeting(self, s: SessionState) -> None:
        meeting = _meeting_of(s)
        if meeting is not None and meeting.meeting_id is not None:
            await self._video(s.platform).delete(meeting)

    async def _publish(self, changed: list[SessionState]) -> None:
        """Put the new states where live actions read them, and tell every tab of each session."""
        for s in changed:
            if await self._u.store.session(s.id) is not None:
                await self._u.store.set_session(s)
        events: list[Emit] = [lifecycle.session_event(s) for s in changed]
        await self._u.publisher.committed(events)  # committed: the emitter sends them in commit order


async def _audit_each(
    db: DbSession, actor: Actor, action: str, affected: list[SessionState], at: datetime, detail: dict[str, Any]
) -> None:
    """One audit entry per session the action touched, in the action's transaction."""
    for s in affected:
        await audit.record(
            db,
            actor=actor,
            action=action,
            target=f"session:{s.id}",
            session_id=s.id,
            at=at,
            detail={**detail, "series_id": s.series_id},
        )


def _with_meeting(s: SessionState, m: Meeting) -> SessionState:
    return replace(
        s,
        join_url=m.join_url or s.join_url,
        meeting_provider=m.provider,
        meeting_id=m.meeting_id,
        meeting_occurrence_id=m.occurrence_id,
    )


def _meeting_of(s: SessionState) -> Meeting | None:
    if s.meeting_provider is None:
        return None
    return Meeting(s.meeting_provider, s.meeting_id, s.meeting_occurrence_id, s.join_url)
