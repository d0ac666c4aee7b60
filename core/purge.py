"""The retention purge's rules (no I/O): what each kind deletes, whose kinds go at a moment, in what batches,
and the counts of a session that survive it (docs/records.md, "Retention and the purge").

A session's kinds are counted from its end: its close, or for a cancelled session its cancellation (it
will never close, and what it gathered, a roster and invitations, must not be kept for ever). A held
session, or one not ended, loses nothing. The roster (participants) goes only with the last of the
session's kinds: every other kind's rows refer to the participants and go with them (ON DELETE CASCADE).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.model import Actor
from core.retention import BY_ENTRY_TIME, KINDS, Retention

SESSION_KINDS = tuple(k for k in KINDS if k not in BY_ENTRY_TIME)  # chat, attendance, feedback, records, materials
ROSTER = "roster"  # not a kind of its own: the participants, once every kind of their session has gone
CHECKIN = "participants.checkin"  # attendance kept on the roster (check-in and mark), cleared while it stays
# What each kind deletes, children before their parents (so each count is of that table's own rows).
TABLES: Mapping[str, tuple[str, ...]] = {
    "chat": ("chat_messages",),
    "attendance": ("attendance_records", "connections", "platform_rows", "platform_imports", "zoom_events", CHECKIN),
    "feedback": ("feedback_responses", "feedback_forms"),
    "records": (
        "session_records",  # the versions' zips go from the file store too, once nothing else refers to them
        "help_tickets",
        "ping_answers",
        "pings",
        "consent_answers",
        "consent_requests",
        "recordings",
        "invitations",  # and their RSVPs
        "minutes_circulations",
        "minutes",
        "session_notes",
        "platform_checks",
    ),
    "materials": ("materials",),  # and their bytes, as a deleted material's
    ROSTER: ("participants",),
    "mail": ("mail_outbox",),
    "audit": ("audit_log",),
}
# The kinds in a report, in the order it lists them.
REPORTED = (*SESSION_KINDS, ROSTER, "mail", "audit")
# Who a purge's audit entry names: the server itself, whether the daily job or `companion purge` ran it.
SYSTEM = Actor(role="admin", name="retention purge", token_id="system")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A session as the purge sees it: when it ended (None: not yet), held or not, what has gone already."""

    id: str
    ended_at: datetime | None
    held: bool
    purged: frozenset[str] = frozenset()
    counted: bool = False  # its counts are kept already (written before its first deletion)


@dataclass(frozen=True, slots=True)
class SessionPurge:
    """What one session loses in a run: these kinds, the roster too when they are its last."""

    session_id: str
    kinds: tuple[str, ...]
    roster: bool
    count_first: bool  # write its counts before anything of it is deleted

    def tables(self, kind: str) -> tuple[str, ...]:
        """The tables `kind` deletes from here (the check-in is not cleared from a roster that goes too)."""
        return tuple(t for t in TABLES[kind] if not (t == CHECKIN and self.roster))

    def all_kinds(self) -> tuple[str, ...]:
        return (*self.kinds, ROSTER) if self.roster else self.kinds


def latest_end(retention: Retention, now: datetime) -> datetime:
    """A session that ended after this keeps every kind at `now`: the purge looks at none of them."""
    return max(retention.cutoff(k, now) for k in SESSION_KINDS)


def plan(retention: Retention, candidates: Iterable[Candidate], now: datetime) -> list[SessionPurge]:
    """For each session, the kinds past keeping at `now` that it still has (none of a held or open one)."""
    out = []
    for c in candidates:
        kinds = tuple(k for k in SESSION_KINDS if k not in c.purged and retention.past(k, c.ended_at, now, held=c.held))
        if kinds:
            last = set(SESSION_KINDS) <= set(c.purged) | set(kinds)
            out.append(SessionPurge(c.id, kinds, roster=last, count_first=not c.counted))
    return out


def batches(
    plans: Sequence[SessionPurge], rows: Mapping[str, int], *, max_rows: int, max_sessions: int
) -> list[list[SessionPurge]]:
    """The plans in transactions of at most `max_sessions` sessions and about `max_rows` rows (`rows`: each
    session's rows to delete). A session is never split: one larger than the bound has a batch of its own."""
    out: list[list[SessionPurge]] = []
    current: list[SessionPurge] = []
    size = 0
    for p in plans:
        n = rows.get(p.session_id, 0)
        if current and (size + n > max_rows or len(current) >= max_sessions):
            out.append(current)
            current, size = [], 0
        current.append(p)
        size += n
    if current:
        out.append(current)
    return out


# ---------------------------------------------------------------- reports


def empty_report() -> dict[str, dict[str, Any]]:
    """`{kind: {sessions: [ids], rows: {table: n}}}` with nothing in it, every kind listed."""
    return {k: {"sessions": [], "rows": {}} for k in REPORTED}


def add_rows(report: dict[str, dict[str, Any]], kind: str, rows: Mapping[str, int]) -> None:
    """Add a batch's row counts of `kind` (a table with none is left out)."""
    into = report[kind]["rows"]
    for table, n in rows.items():
        if n:
            into[table] = into.get(table, 0) + n


def merge(report: dict[str, dict[str, Any]], part: Mapping[str, Any]) -> None:
    """Add another report's (a batch's) sessions and rows. Linear in the part: a run of 10,000 sessions merges
    50 batches and more, and sorting all it has at each would hold the event loop for seconds (`settled`
    sorts once, at the end)."""
    for kind, got in part.items():
        if kind not in report:
            continue
        if got.get("sessions"):
            report[kind]["sessions"].extend(got["sessions"])
        add_rows(report, kind, got.get("rows", {}))


def settled(report: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The report as answered and audited: each kind's sessions sorted, each once."""
    for got in report.values():
        got["sessions"] = sorted(set(got["sessions"]))
    return report


def total(report: Mapping[str, Mapping[str, Any]]) -> int:
    """Rows in the report, every kind's."""
    return sum(sum(k["rows"].values()) for k in report.values())


def lines(report: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The report as `companion purge` prints it: a line per kind, then the total."""
    out = []
    for kind in REPORTED:
        got = report[kind]
        rows = sum(got["rows"].values())
        tables = ", ".join(f"{t} {n:,}" for t, n in sorted(got["rows"].items()))
        n = len(got["sessions"])
        where = f"{n:,} session{'' if n == 1 else 's'}, " if kind not in BY_ENTRY_TIME else ""
        out.append(f"{kind}: {where}{rows:,} rows" + (f" ({tables})" if tables else ""))
    out.append(f"total: {total(report):,} rows")
    return out


# ---------------------------------------------------------------- the counts that survive


@dataclass(slots=True)
class Gathered:
    """A session's rows as the counts need them (persistence reads them, `counts` sums them up)."""

    statuses: list[str] = field(default_factory=list)  # each participant's: mark, else check-in, else absent
    chat_messages: int = 0
    tickets: list[tuple[datetime, datetime | None]] = field(default_factory=list)  # (created_at, claimed_at)
    questions: list[Mapping[str, Any]] = field(default_factory=list)  # the participants' form as asked
    answers: list[Mapping[str, Any]] = field(default_factory=list)  # each participant response's answers


def counts(g: Gathered) -> dict[str, Any]:
    """The `session_counts.counts` shape (docs/records.md): roster, statuses, chat, help waits, feedback sums."""
    waits = sorted(int((claimed - created).total_seconds()) for created, claimed in g.tickets if claimed is not None)
    return {
        "roster": len(g.statuses),
        "statuses": dict(sorted(Counter(g.statuses).items())),
        "chat_messages": g.chat_messages,
        "help": {"tickets": len(g.tickets), "waits_s": waits},
        "feedback": {"responses": len(g.answers), "questions": feedback_sums(g.questions, g.answers)},
    }


def feedback_sums(questions: Iterable[Mapping[str, Any]], answers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Per question: its kind and text, how many answered it, and the sum of a rating's (1-5) or yes/no's (1/0)."""
    given = list(answers)
    out: dict[str, Any] = {}
    for q in questions:
        qid, kind = str(q.get("id")), str(q.get("kind"))
        values = [a[qid] for a in given if a.get(qid) is not None]
        total_ = 0.0
        if kind == "rating":
            total_ = float(sum(v for v in values if isinstance(v, int | float) and not isinstance(v, bool)))
        elif kind == "yesno":
            total_ = float(sum(1 for v in values if v is True))
        out[qid] = {"kind": kind, "text": str(q.get("text", "")), "n": len(values), "sum": total_}
    return out
