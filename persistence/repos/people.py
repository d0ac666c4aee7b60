"""A person's data across sessions: found by email (case-insensitive), exported whole, erased in one transaction.

A person is every row that names their address: roster entries (`participants.email_key`), invitations
(`invitations.email_key`), their staff record, mails to them, platform attendance rows and Zoom events
matched to them. What they did hangs off their participant ids: chat (`author_key` "p:<id>", as
core.model.Actor.author_key makes it), help tickets, ping and consent answers, feedback (a named
response by participant id; an anonymous one by the digest of their personal link's token, which the
server key makes again: core.feedback.make_token).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession as DbSession

from core import feedback as feedback_rules
from core import people as rules
from core import tokens
from core.feedback import AUDIENCES, Defaults
from core.model import iso
from persistence.models import (
    ApiToken,
    AttendanceRecord,
    ChatRecord,
    Connection,
    ConsentAnswer,
    ConsentRequest,
    FeedbackFormRecord,
    FeedbackResponseRecord,
    HelpTicket,
    InvitationRecord,
    JobRecord,
    LiveSession,
    MinutesCirculationRecord,
    MinutesRecord,
    NotesRecord,
    OutboxMail,
    Participant,
    Passkey,
    PingAnswer,
    PingRecord,
    PlatformImport,
    PlatformRow,
    SessionRecordVersion,
    StaffMember,
    ZoomEventRecord,
)


@dataclass(slots=True)
class Person:
    """The rows a person is found by: their roster entries and the ids of what they did."""

    key: str
    participants: list[Participant]
    respondents: dict[str, str]  # feedback respondent digest -> participant id (named and anonymous)
    staff: StaffMember | None
    instructs: list[str] = field(default_factory=list)  # sessions whose instructor they are

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.participants]

    @property
    def session_ids(self) -> list[str]:
        return sorted({p.session_id for p in self.participants})


def _their_chat(person: Person) -> ColumnElement[bool]:
    """Their chat messages, by session and author: through the (session_id, author_key, client_id) index,
    where the author alone would read every message of every session."""
    return and_(
        ChatRecord.session_id.in_(person.session_ids), ChatRecord.author_key.in_([f"p:{i}" for i in person.ids])
    )


async def find(db: DbSession, *, key: str, secret_key: str) -> Person:
    """Who the lower-cased address `key` is (an erased participant's address is their pseudonym: not found)."""
    rows = list(
        await db.scalars(
            select(Participant).where(Participant.email_key == key).order_by(Participant.created_at, Participant.id)
        )
    )
    respondents = {tokens.digest(feedback_rules.make_token(secret_key, p.session_id, p.id)): p.id for p in rows}
    instructs = list(
        await db.scalars(
            select(LiveSession.id).where(LiveSession.instructor_key == key).order_by(LiveSession.starts_at)
        )
    )
    return Person(key, rows, respondents, await db.get(StaffMember, key), instructs)


def _sessions_query(ids: Sequence[str]) -> Any:
    return select(LiveSession).where(LiveSession.id.in_(list(ids)))


def _session_view(s: LiveSession, role: str) -> dict[str, Any]:
    return {
        "id": s.id,
        "topic": s.topic,
        "starts_at": iso(s.starts_at),
        "status": s.status,
        "started_at": iso(s.started_at),
        "closed_at": iso(s.closed_at),
        "role": role,
    }


def _answers_with_text(answers: dict[str, Any], texts: set[str]) -> set[str]:
    return {q for q in texts & set(answers) if isinstance(answers[q], str) and answers[q]}


async def _text_questions(
    db: DbSession, defaults: Defaults, session_ids: Sequence[str]
) -> dict[tuple[str, str], set[str]]:
    """The ids of the text questions of each (session, audience) form: stored, else the default in force."""
    out: dict[tuple[str, str], set[str]] = {}
    for sid in session_ids:
        for audience in AUDIENCES:
            out[(sid, audience)] = {q.id for q in defaults.of(audience).questions if q.kind == "text"}
    if session_ids:
        for row in await db.scalars(
            select(FeedbackFormRecord).where(FeedbackFormRecord.session_id.in_(list(session_ids)))
        ):
            out[(row.session_id, row.audience)] = {str(q.get("id")) for q in row.questions if q.get("kind") == "text"}
    return out


async def _feedback_rows(db: DbSession, person: Person) -> list[FeedbackResponseRecord]:
    if not person.participants:
        return []
    return list(
        await db.scalars(
            select(FeedbackResponseRecord)
            .where(
                FeedbackResponseRecord.session_id.in_(person.session_ids),
                or_(
                    FeedbackResponseRecord.participant_id.in_(person.ids),
                    FeedbackResponseRecord.respondent.in_(list(person.respondents)),
                ),
            )
            .order_by(FeedbackResponseRecord.submitted_at, FeedbackResponseRecord.id)
        )
    )


def _platform_match(person: Person) -> Any:
    return or_(PlatformRow.participant_id.in_(person.ids), func.lower(PlatformRow.email) == person.key)


# ---------------------------------------------------------------- export (article 15 and 20)


async def export(db: DbSession, *, person: Person, now: datetime) -> dict[str, Any]:
    """Everything kept about the person, as JSON, and nobody else's data."""
    ids, sids = person.ids, person.session_ids
    sessions: list[dict[str, Any]] = []
    by_id = {s.id: s for s in await db.scalars(_sessions_query([*sids, *person.instructs]))}
    sessions += [_session_view(by_id[p.session_id], "participant") for p in person.participants]
    sessions += [_session_view(by_id[sid], "instructor") for sid in person.instructs if sid in by_id]
    out: dict[str, Any] = {
        "email": person.key,
        "exported_at": iso(now),
        "sessions": rules.sessions_of(sessions),
        "roster": [
            {
                "participant_id": p.id,
                "session_id": p.session_id,
                "name": p.name,
                "email": p.email,
                "timezone": p.timezone,
                "added_at": iso(p.created_at),
                "checked_in_at": iso(p.checked_in_at),
                "checkin_status": p.checkin_status,
                "mark": p.mark,
            }
            for p in person.participants
        ],
    }
    out["attendance"] = [
        {"session_id": r.session_id, **r.row}
        for r in await db.scalars(select(AttendanceRecord).where(AttendanceRecord.participant_id.in_(ids)))
    ]
    out["connections"] = [
        {
            "session_id": c.session_id,
            "participant_id": c.participant_id,
            "connected_at": iso(c.connected_at),
            "ended_at": iso(c.ended_at),
        }
        for c in await db.scalars(
            select(Connection).where(Connection.participant_id.in_(ids)).order_by(Connection.connected_at)
        )
    ]
    out["chat"] = [
        {
            "session_id": m.session_id,
            "id": m.id,
            "seq": m.seq,
            "author": m.author,
            "text": m.text,
            "sent_at": iso(m.sent_at),
        }
        for m in await db.scalars(
            select(ChatRecord).where(_their_chat(person)).order_by(ChatRecord.sent_at, ChatRecord.seq)
        )
    ]
    out["help_tickets"] = [
        {
            "session_id": t.session_id,
            "ticket_id": t.id,
            "category": t.category,
            "text": t.text,
            "state": t.state,
            "created_at": iso(t.created_at),
            "claimed_at": iso(t.claimed_at),
            "resolved_at": iso(t.resolved_at),
        }
        for t in await db.scalars(
            select(HelpTicket).where(HelpTicket.participant_id.in_(ids)).order_by(HelpTicket.created_at)
        )
    ]
    out["ping_answers"] = [
        {
            "session_id": ping.session_id,
            "ping_id": ping.id,
            "kind": ping.kind,
            "question": ping.question,
            "answer": a.answer,
            "answered_at": iso(a.answered_at),
        }
        for a, ping in await db.execute(
            select(PingAnswer, PingRecord)
            .join(PingRecord, PingRecord.id == PingAnswer.ping_id)
            .where(PingAnswer.participant_id.in_(ids))
            .order_by(PingAnswer.answered_at)
        )
    ]
    out["feedback"] = [
        {
            "session_id": r.session_id,
            "for": r.audience,
            "named": r.participant_id is not None,
            "answers": r.answers,
            "submitted_at": iso(r.submitted_at),
            "updated_at": iso(r.updated_at),
        }
        for r in await _feedback_rows(db, person)
    ]
    out["consent"] = [
        {
            "session_id": req.session_id,
            "request_id": req.id,
            "purpose": req.purpose,
            "text": req.text,
            "consent": a.consent,
            "answered_at": iso(a.answered_at),
        }
        for a, req in await db.execute(
            select(ConsentAnswer, ConsentRequest)
            .join(ConsentRequest, ConsentRequest.id == ConsentAnswer.request_id)
            .where(ConsentAnswer.participant_id.in_(ids))
            .order_by(ConsentAnswer.answered_at, ConsentAnswer.id)
        )
    ]
    out["invitations"] = [
        {
            "session_id": i.session_id,
            "role": i.role,
            "name": i.name,
            "email": i.email,
            "timezone": i.timezone,
            "sent_at": iso(i.sent_at),
            "rsvp": i.rsvp,
            "rsvp_at": iso(i.rsvp_at),
            "removed_at": iso(i.removed_at),
        }
        for i in await db.scalars(
            select(InvitationRecord)
            .where(or_(InvitationRecord.email_key == person.key, InvitationRecord.participant_id.in_(ids)))
            .order_by(InvitationRecord.sent_at)
        )
    ]
    out["platform_attendance"] = [
        {
            "session_id": imp.session_id,
            "platform": imp.platform,
            "name": r.name,
            "email": r.email,
            "joined_at": iso(r.joined_at),
            "left_at": iso(r.left_at),
            "matched_by": r.matched_by,
        }
        for r, imp in await db.execute(
            select(PlatformRow, PlatformImport)
            .join(PlatformImport, PlatformImport.id == PlatformRow.import_id)
            .where(_platform_match(person))
            .order_by(PlatformRow.joined_at)
        )
    ]
    out["platform_events"] = [
        {"session_id": e.session_id, "kind": e.kind, "name": e.name, "email": e.email, "at": iso(e.at)}
        for e in await db.scalars(
            select(ZoomEventRecord).where(func.lower(ZoomEventRecord.email) == person.key).order_by(ZoomEventRecord.at)
        )
    ]
    out["mails"] = [
        {
            "to": m.recipient,
            "subject": m.subject,
            "body": m.body,
            "created_at": iso(m.created_at),
            "sent_at": iso(m.sent_at),
        }
        for m in await db.scalars(
            select(OutboxMail).where(func.lower(OutboxMail.recipient) == person.key).order_by(OutboxMail.created_at)
        )
    ]
    out["staff"] = await _staff(db, person.staff)
    return out


async def _staff(db: DbSession, member: StaffMember | None) -> dict[str, Any] | None:
    """Their staff record: who they are and their sign-in means, never a secret (no key, no token digest)."""
    if member is None:
        return None
    keys = await db.scalars(select(Passkey).where(Passkey.email == member.email).order_by(Passkey.created_at))
    api = await db.scalars(select(ApiToken).where(ApiToken.email == member.email).order_by(ApiToken.created_at))
    return {
        "id": member.id,
        "name": member.name,
        "email": member.email,
        "role": member.role,
        "timezone": member.timezone,
        "created_at": iso(member.created_at),
        "disabled_at": iso(member.disabled_at),
        "passkeys": [
            {"label": k.label, "created_at": iso(k.created_at), "last_used_at": iso(k.last_used_at)} for k in keys
        ],
        "api_tokens": [
            {"id": t.id, "role": t.role, "created_at": iso(t.created_at), "revoked_at": iso(t.revoked_at)} for t in api
        ],
    }


def counts_of(export: dict[str, Any]) -> dict[str, int]:
    """What is kept, by kind: the page's summary."""
    return {k: len(v) for k, v in export.items() if isinstance(v, list)}


# ---------------------------------------------------------------- erase (article 17)


@dataclass(slots=True)
class RecordRewrite:
    """A session record version rewritten without the person: the row moves to the new zip."""

    version_id: str
    old_sha256: str
    sha256: str
    size: int
    digest: str
    files: list[dict[str, Any]]


async def redactions(db: DbSession, *, person: Person, pseudonym: rules.Pseudonym) -> dict[str, rules.Redaction]:
    """Per session the person is on: what to take out of its record files."""
    out: dict[str, rules.Redaction] = {}
    ids = person.ids
    for p in person.participants:
        out[p.session_id] = rules.Redaction(
            pseudonym=pseudonym, email=person.key, names={p.name}, participant_ids={p.id}
        )
    if not out:
        return out
    for sid, name in await db.execute(
        select(InvitationRecord.session_id, InvitationRecord.name).where(
            or_(InvitationRecord.email_key == person.key, InvitationRecord.participant_id.in_(ids))
        )
    ):
        if sid in out:
            out[sid].names.add(name)
    for sid, name in await db.execute(
        select(PlatformImport.session_id, PlatformRow.name)
        .join(PlatformImport, PlatformImport.id == PlatformRow.import_id)
        .where(_platform_match(person))
    ):
        if sid in out:
            out[sid].names.add(name)
    for sid, mid in await db.execute(select(ChatRecord.session_id, ChatRecord.id).where(_their_chat(person))):
        out[sid].chat_ids.add(mid)
    for sid, tid in await db.execute(
        select(HelpTicket.session_id, HelpTicket.id).where(HelpTicket.participant_id.in_(ids))
    ):
        out[sid].ticket_ids.add(tid)
    for r in await _feedback_rows(db, person):
        out[r.session_id].anonymous.add((r.audience, str(iso(r.submitted_at))))
    # A fellow participant with the same name keeps theirs: the name is replaced only in the person's own fields.
    for sid, name in await db.execute(
        select(Participant.session_id, Participant.name).where(
            Participant.session_id.in_(list(out)), Participant.email_key != person.key
        )
    ):
        out[sid].shared_names |= {n for n in out[sid].names if n.casefold() == name.casefold()}
    return out


async def record_versions(db: DbSession, *, session_ids: Sequence[str]) -> list[SessionRecordVersion]:
    if not session_ids:
        return []
    return list(
        await db.scalars(
            select(SessionRecordVersion)
            .where(SessionRecordVersion.session_id.in_(list(session_ids)))
            .order_by(SessionRecordVersion.session_id, SessionRecordVersion.version)
        )
    )


async def erase(
    db: DbSession,
    *,
    person: Person,
    pseudonym: rules.Pseudonym,
    defaults: Defaults,
    rewrites: Sequence[RecordRewrite],
    reds: dict[str, rules.Redaction],
    now: datetime,
    dry_run: bool = False,
) -> dict[str, int]:
    """Pseudonymise the person everywhere and remove their free text, in the caller's transaction; the counts.

    With `dry_run` nothing is changed (nor flushed: a read transaction will do) and the counts are the same.
    """
    write = not dry_run
    ids, key = person.ids, person.key
    name, email = pseudonym.name, pseudonym.email
    counts: dict[str, int] = {}

    for p in person.participants if write else ():
        p.name, p.email, p.email_key, p.erased_at = name, email, email, now
    counts["participants"] = len(person.participants)
    counts["sessions"] = len(person.session_ids)

    invitations = list(
        await db.scalars(
            select(InvitationRecord).where(
                or_(InvitationRecord.email_key == key, InvitationRecord.participant_id.in_(ids))
            )
        )
    )
    for i in invitations if write else ():
        i.name, i.email, i.email_key, i.erased_at = name, email, email, now
        i.removed_at = i.removed_at or now  # no more mail, and the RSVP link answers as for one taken off
    counts["invitations"] = len(invitations)

    theirs = _their_chat(person)
    counts["chat_messages"] = await db.scalar(select(func.count()).select_from(ChatRecord).where(theirs)) or 0
    if write:
        await db.execute(
            update(ChatRecord)
            .where(theirs)
            .values(author=name, text=rules.REMOVED)
            .execution_options(synchronize_session=False)
        )

    tickets = list(await db.scalars(select(HelpTicket).where(HelpTicket.participant_id.in_(ids))))
    for t in tickets if write else ():
        t.text = rules.REMOVED
        if t.note:
            red = reds.get(t.session_id)
            t.note = red.text(t.note) if red else t.note
    counts["help_tickets"] = len(tickets)

    texts = await _text_questions(db, defaults, person.session_ids)
    removed = 0
    for r in await _feedback_rows(db, person):
        mine = _answers_with_text(r.answers, texts.get((r.session_id, r.audience), set()))
        if mine and write:
            r.answers = {q: (rules.REMOVED if q in mine else v) for q, v in r.answers.items()}
        removed += bool(mine)
    counts["feedback_texts"] = removed

    sheets = list(await db.scalars(select(AttendanceRecord).where(AttendanceRecord.participant_id.in_(ids))))
    for a in sheets if write else ():
        a.row = {**a.row, "name": name, "email": email}
    counts["attendance_rows"] = len(sheets)

    platform = list(await db.scalars(select(PlatformRow).where(_platform_match(person))))
    for row in platform if write else ():
        row.name, row.email = name, email
    events = list(await db.scalars(select(ZoomEventRecord).where(func.lower(ZoomEventRecord.email) == key)))
    for e in events if write else ():
        e.name, e.email, e.who = name, email, pseudonym.id  # who: Zoom's id of them
    counts["platform_rows"] = len(platform) + len(events)

    mails = list(await db.scalars(select(OutboxMail).where(func.lower(OutboxMail.recipient) == key)))
    red_any = next(iter(reds.values()), None) or rules.Redaction(pseudonym, key, set(), set())
    for m in mails if write else ():
        # The body named them and held their personal links: nothing of it is worth keeping.
        m.recipient, m.body, m.subject = email, rules.REMOVED, red_any.text(m.subject)
    counts["mails"] = len(mails)
    counts["jobs"] = await _jobs(db, person=person, reds=reds, now=now, write=write)
    counts["record_versions"] = len(rewrites)
    if not write:
        return counts

    for mins in await db.scalars(select(MinutesRecord).where(MinutesRecord.session_id.in_(list(reds)))):
        red = reds[mins.session_id]
        mins.summary = red.text(mins.summary)
        mins.key_points = rules.redact_strings(mins.key_points, red)
        mins.action_items = rules.redact_strings(mins.action_items, red)
    for circ in await db.scalars(
        select(MinutesCirculationRecord).where(MinutesCirculationRecord.session_id.in_(list(reds)))
    ):
        circ.content = rules.redact_strings(circ.content, reds[circ.session_id])
    for notes in await db.scalars(select(NotesRecord).where(NotesRecord.session_id.in_(list(reds)))):
        notes.text = reds[notes.session_id].text(notes.text)

    for rw in rewrites:
        if rw.sha256 != rw.old_sha256:
            await move_version(db, rewrite=rw)
    await db.flush()
    return counts


async def _jobs(db: DbSession, *, person: Person, reds: dict[str, rules.Redaction], now: datetime, write: bool) -> int:
    """Jobs of their sessions that name them (a reminder or minutes mail to them, a warning about them): their
    payloads and errors redacted, and a mail still to go to them cancelled (it would go to the pseudonym)."""
    if not reds:
        return 0
    found = 0
    for job in await db.scalars(select(JobRecord).where(JobRecord.session_id.in_(list(reds)))):
        red = reds[str(job.session_id)]
        payload = rules.redact_strings(job.payload, red)
        error = red.text(job.last_error) if job.last_error else job.last_error
        to_them = job.payload.get("recipient") in red.participant_ids
        if payload == job.payload and error == job.last_error and not to_them:
            continue
        found += 1
        if write:
            job.payload, job.last_error = payload, error
            if to_them and job.state == "pending":
                job.state, job.updated_at = "cancelled", now
    return found


async def move_version(db: DbSession, *, rewrite: RecordRewrite) -> None:
    """A record version now kept in its rewritten zip (unless it moved meanwhile)."""
    rw = rewrite
    await db.execute(
        update(SessionRecordVersion)
        .where(SessionRecordVersion.id == rw.version_id, SessionRecordVersion.sha256 == rw.old_sha256)
        .values(sha256=rw.sha256, size=rw.size, digest=rw.digest, files=rw.files)
        .execution_options(synchronize_session=False)
    )


async def blob_uses(db: DbSession, *, sha256: str) -> int:
    """How many record versions keep these bytes (a material's are counted by repos.preparation.uses_of)."""
    return await db.scalar(select(func.count()).where(SessionRecordVersion.sha256 == sha256)) or 0


async def is_erased(db: DbSession, *, pseudonym_email: str) -> bool:
    """Whether someone was erased under this pseudonym (the calendar feed of their old address is gone)."""
    found = await db.scalar(select(Participant.id).where(Participant.email_key == pseudonym_email).limit(1))
    return found is not None
