"""Reviews across sessions: a series' or an instructor's attendance, punctuality, help waits and feedback (no I/O).

Only closed sessions count in the tables (a cancelled one never took place; a live one is not over);
the sessions list shows every session of the scope with its status. A person is their lower-cased email
(`email_key`) across the sessions' rosters.

- Attendance: `attended` is present + late; an excused absence counts neither way, so
  `rate = attended / (sessions - excused)` (None when nothing counts). A person is `low` when their rate
  is below the threshold once at least `min_sessions` sessions count for them.
- Punctuality: `late_by_s` is the actual start minus the scheduled one (negative: early); an announced
  delay is shown beside it (`delay_minutes`), not taken off.
- Help: a ticket's wait is from its opening to its claim (tickets never claimed have none); the median
  and the 90th percentile interpolate linearly between the nearest waits.
- Feedback: the participants' form, per question of kind rating (1-5) and yesno (the share of yes) its
  mean; none below MIN_RESPONSES responses where the form is anonymous (or no longer known, once purged),
  as the per-session results do.

Each session's figures come from its live rows, or from the counts the retention purge kept
(`session_counts`, persistence.repos.reports) where those rows are gone: both reach this module in the
counts' shape (`Figures`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Literal

from core import csvsafe
from core.feedback import MIN_ANONYMOUS
from core.model import iso

Scope = Literal["series", "instructor"]
Source = Literal["live", "counts"]
STATUSES = ("present", "late", "absent", "excused")
ATTENDED = frozenset({"present", "late"})
NUMERIC = frozenset({"rating", "yesno"})  # the kinds a mean is taken of
MIN_RESPONSES = MIN_ANONYMOUS
DEFAULT_RATE = 0.75
DEFAULT_MIN_SESSIONS = 3
MAX_MIN_SESSIONS = 1000
TABLES = ("sessions", "attendance", "punctuality", "help", "feedback")


# ---------------------------------------------------------------- the threshold (COMPANION_LOW_ATTENDANCE*)


@dataclass(frozen=True, slots=True)
class Threshold:
    """Below `rate` (0-1) is low, once `min_sessions` sessions count; a rate of 0 warns nobody."""

    rate: float = DEFAULT_RATE
    min_sessions: int = DEFAULT_MIN_SESSIONS

    def public(self) -> dict[str, Any]:
        return {"rate": self.rate, "min_sessions": self.min_sessions}


def parse_threshold(rate: str | None, min_sessions: str | None) -> Threshold:
    """COMPANION_LOW_ATTENDANCE (`0.75` or `75%`) and COMPANION_LOW_ATTENDANCE_MIN (a whole number);
    ValueError naming the variable."""
    value = DEFAULT_RATE
    if rate is not None and rate.strip():
        text = rate.strip()
        try:
            value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            raise ValueError(f"COMPANION_LOW_ATTENDANCE: a rate from 0 to 1 (or 0% to 100%), not {rate!r}") from None
        if not math.isfinite(value) or not 0 <= value <= 1:
            raise ValueError(f"COMPANION_LOW_ATTENDANCE: a rate from 0 to 1 (or 0% to 100%), not {rate!r}")
    count = DEFAULT_MIN_SESSIONS
    if min_sessions is not None and min_sessions.strip():
        text = min_sessions.strip()
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_MIN_SESSIONS:
            raise ValueError(
                "COMPANION_LOW_ATTENDANCE_MIN: a whole number of sessions, "
                f"1 to {MAX_MIN_SESSIONS}, not {min_sessions!r}"
            )
        count = int(text)
    return Threshold(rate=round(value, 4), min_sessions=count)


# ---------------------------------------------------------------- what the database gives


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    topic: str
    instructor_email: str
    series_id: str | None
    status: str
    starts_at: datetime
    started_at: datetime | None
    closed_at: datetime | None
    delay_minutes: int = 0

    @property
    def counted(self) -> bool:
        """Only a closed session counts in the tables."""
        return self.status == "closed"


@dataclass(frozen=True, slots=True)
class Mark:
    """One person's attendance in one session, as saved at its close."""

    session_id: str
    person: str  # the lower-cased email
    name: str
    email: str
    status: str


@dataclass(frozen=True, slots=True)
class Question:
    kind: str
    text: str
    n: int = 0
    sum: float = 0.0


@dataclass(frozen=True, slots=True)
class Figures:
    """A session's figures in the shape of `session_counts.counts`; None: nothing known of that kind."""

    statuses: Mapping[str, int] | None = None
    roster: int | None = None
    tickets: int | None = None
    waits_s: Sequence[int] = ()
    responses: int | None = None
    questions: Mapping[str, Question] = field(default_factory=dict)
    anonymous: bool | None = None  # None: the form is no longer known (purged)
    source: Mapping[str, Source] = field(default_factory=dict)  # attendance, help, feedback


def wait_seconds(tickets: Iterable[tuple[datetime, datetime | None]]) -> tuple[int, list[int]]:
    """(tickets, sorted waits in whole seconds) of (opened, claimed) pairs; a ticket never claimed has no wait."""
    count, waits = 0, []
    for created, claimed in tickets:
        count += 1
        if claimed is not None:
            waits.append(max(0, round((claimed - created).total_seconds())))
    return count, sorted(waits)


def question_sums(questions: Iterable[Mapping[str, Any]], answers: Iterable[Mapping[str, Any]]) -> dict[str, Question]:
    """Per question of a form: how many answered, and the sum of the ratings (a yes is 1, a no 0)."""
    qs = [q for q in questions if isinstance(q.get("id"), str)]
    n: dict[str, int] = {str(q["id"]): 0 for q in qs}
    total: dict[str, float] = {str(q["id"]): 0.0 for q in qs}
    kinds = {str(q["id"]): str(q.get("kind", "")) for q in qs}
    for a in answers:
        for qid, value in a.items():
            if qid not in n or value is None or value == "" or value == []:
                continue
            n[qid] += 1
            if kinds[qid] == "rating" and isinstance(value, int | float) and not isinstance(value, bool):
                total[qid] += float(value)
            elif kinds[qid] == "yesno" and value is True:
                total[qid] += 1.0
    return {
        str(q["id"]): Question(
            kind=kinds[str(q["id"])], text=str(q.get("text", "")), n=n[str(q["id"])], sum=total[str(q["id"])]
        )
        for q in qs
    }


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def figures_from_counts(counts: Any) -> Figures:
    """The figures `session_counts.counts` kept; a part missing or malformed is unknown (None), never an error."""
    c = counts if isinstance(counts, dict) else {}
    statuses_raw = c.get("statuses")
    statuses = (
        {str(k): int(v) for k, v in statuses_raw.items() if isinstance(v, int)}
        if isinstance(statuses_raw, dict)
        else None
    )
    roster = c.get("roster") if isinstance(c.get("roster"), int) else None
    help_ = _object(c.get("help"))
    tickets = help_.get("tickets") if isinstance(help_.get("tickets"), int) else None
    waits_raw = help_.get("waits_s")
    waits = sorted(int(w) for w in (waits_raw if isinstance(waits_raw, list) else []) if isinstance(w, int | float))
    fb = _object(c.get("feedback"))
    responses = fb.get("responses") if isinstance(fb.get("responses"), int) else None
    questions: dict[str, Question] = {}
    for qid, raw in _object(fb.get("questions")).items():
        q = _object(raw)
        questions[str(qid)] = Question(
            kind=str(q.get("kind", "")),
            text=str(q.get("text", "")),
            n=q["n"] if isinstance(q.get("n"), int) else 0,
            sum=float(q["sum"]) if isinstance(q.get("sum"), int | float) else 0.0,
        )
    return Figures(
        statuses=statuses,
        roster=roster,
        tickets=tickets,
        waits_s=waits,
        responses=responses,
        questions=questions,
        anonymous=None,
        source={"attendance": "counts", "help": "counts", "feedback": "counts"},
    )


# ---------------------------------------------------------------- the rules


def rate_of(attended: int, counted: int) -> float | None:
    return round(attended / counted, 4) if counted > 0 else None


def is_low(attended: int, counted: int, threshold: Threshold) -> bool:
    rate = rate_of(attended, counted)
    return rate is not None and counted >= threshold.min_sessions and rate < threshold.rate


def quantile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile of sorted values, interpolating linearly between the nearest two; None for none."""
    if not values:
        return None
    pos = (len(values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return round(values[lo] + (values[hi] - values[lo]) * (pos - lo), 1)


def attendance(
    sessions: Sequence[Session],
    marks: Iterable[Mark],
    threshold: Threshold,
    warned: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """One row per person of the closed sessions' rosters, in name order; the name and email of their latest session."""
    order = {s.id: (s.starts_at, i) for i, s in enumerate(sessions) if s.counted}
    people: dict[str, dict[str, Any]] = {}
    latest: dict[str, tuple[datetime, int]] = {}
    for m in marks:
        if m.session_id not in order:
            continue
        row = people.setdefault(
            m.person,
            {"participant": m.person, "name": m.name, "email": m.email, "sessions": 0, **{k: 0 for k in STATUSES}},
        )
        row["sessions"] += 1
        row[m.status if m.status in STATUSES else "absent"] += 1
        when = order[m.session_id]
        if m.person not in latest or when > latest[m.person]:
            latest[m.person] = when
            row["name"], row["email"] = m.name, m.email
    out = []
    for row in people.values():
        attended = row["present"] + row["late"]
        counted = row["sessions"] - row["excused"]
        warning = (warned or {}).get(row["participant"])
        out.append(
            {
                **row,
                "attended": attended,
                "rate": rate_of(attended, counted),
                "low": is_low(attended, counted, threshold),
                "warned_at": warning.get("at") if warning else None,
                "warning": warning.get("state") if warning else None,
            }
        )
    return sorted(out, key=lambda r: (r["name"].casefold(), r["participant"]))


def session_attendance(figures: Figures) -> dict[str, Any] | None:
    if figures.statuses is None:
        return None
    counts = {k: int(figures.statuses.get(k, 0)) for k in STATUSES}
    roster = figures.roster if figures.roster is not None else sum(counts.values())
    attended = counts["present"] + counts["late"]
    return {"roster": roster, **counts, "rate": rate_of(attended, roster - counts["excused"])}


def punctuality(sessions: Sequence[Session]) -> list[dict[str, Any]]:
    return [
        {
            "session_id": s.id,
            "topic": s.topic,
            "scheduled": iso(s.starts_at),
            "started_at": iso(s.started_at),
            "late_by_s": round((s.started_at - s.starts_at).total_seconds()) if s.started_at is not None else None,
            "delay_minutes": s.delay_minutes,
        }
        for s in sessions
        if s.counted
    ]


def help_waits(sessions: Sequence[Session], figures: Mapping[str, Figures]) -> list[dict[str, Any]]:
    out = []
    for s in sessions:
        if not s.counted:
            continue
        f = figures.get(s.id, Figures())
        waits = list(f.waits_s)
        out.append(
            {
                "session_id": s.id,
                "starts_at": iso(s.starts_at),
                "tickets": f.tickets or 0,
                "claimed": len(waits),
                "median_wait_s": quantile(waits, 0.5),
                "p90_wait_s": quantile(waits, 0.9),
                "max_wait_s": max(waits) if waits else None,
            }
        )
    return out


def feedback(sessions: Sequence[Session], figures: Mapping[str, Figures]) -> list[dict[str, Any]]:
    out = []
    for s in sessions:
        if not s.counted:
            continue
        f = figures.get(s.id, Figures())
        responses = f.responses or 0
        hidden = f.anonymous is not False and 0 < responses < MIN_RESPONSES
        questions = {
            qid: {
                "text": q.text,
                "kind": q.kind,
                "mean": None if hidden or q.n == 0 else round(q.sum / q.n, 2),
                "n": None if hidden else q.n,
            }
            for qid, q in f.questions.items()
            if q.kind in NUMERIC
        }
        out.append(
            {
                "session_id": s.id,
                "starts_at": iso(s.starts_at),
                "responses": responses,
                "hidden": hidden,
                "questions": questions,
            }
        )
    return out


def session_rows(sessions: Sequence[Session], figures: Mapping[str, Figures]) -> list[dict[str, Any]]:
    out = []
    for s in sessions:
        f = figures.get(s.id, Figures())
        out.append(
            {
                "id": s.id,
                "topic": s.topic,
                "starts_at": iso(s.starts_at),
                "started_at": iso(s.started_at),
                "closed_at": iso(s.closed_at),
                "status": s.status,
                "counted": s.counted,
                "attendance": session_attendance(f) if s.counted else None,
                "source": dict(f.source) if s.counted else {},
            }
        )
    return out


def report(
    scope: Mapping[str, Any],
    sessions: Sequence[Session],
    marks: Iterable[Mark],
    figures: Mapping[str, Figures],
    threshold: Threshold,
    warned: Mapping[str, Mapping[str, Any]],
    now: datetime,
) -> dict[str, Any]:
    """The whole report: its scope, the sessions and the four tables (in start order; attendance by name)."""
    ordered = sorted(sessions, key=lambda s: (s.starts_at, s.id))
    return {
        "scope": dict(scope),
        "generated_at": iso(now),
        "threshold": threshold.public(),
        "sessions": session_rows(ordered, figures),
        "attendance": attendance(ordered, marks, threshold, warned),
        "punctuality": punctuality(ordered),
        "help": help_waits(ordered, figures),
        "feedback": feedback(ordered, figures),
    }


def low(
    sessions: Sequence[Session], marks: Sequence[Mark], threshold: Threshold, people: Iterable[str]
) -> list[dict[str, Any]]:
    """The attendance rows of these people that are low (whom to warn about)."""
    wanted = set(people)
    return [r for r in attendance(sessions, marks, threshold) if r["low"] and r["participant"] in wanted]


# ---------------------------------------------------------------- CSV


COLUMNS: dict[str, tuple[str, ...]] = {
    "sessions": (
        "id",
        "topic",
        "starts_at",
        "started_at",
        "closed_at",
        "status",
        "roster",
        "present",
        "late",
        "absent",
        "excused",
        "rate",
    ),
    "attendance": (
        "participant",
        "name",
        "email",
        "sessions",
        "attended",
        "present",
        "late",
        "absent",
        "excused",
        "rate",
        "low",
        "warned_at",
    ),
    "punctuality": ("session_id", "topic", "scheduled", "started_at", "late_by_s", "delay_minutes"),
    "help": ("session_id", "starts_at", "tickets", "claimed", "median_wait_s", "p90_wait_s", "max_wait_s"),
    "feedback": ("session_id", "starts_at", "responses", "hidden", "question_id", "question", "kind", "mean", "n"),
}


def csv_text(built: Mapping[str, Any], table: str) -> str:
    """One table of a report as CSV (core/csvsafe.py: safe to open in a spreadsheet); feedback a row per question."""
    if table == "sessions":
        rows = [{**r, **(r["attendance"] or {})} for r in built["sessions"]]
    elif table == "feedback":
        rows = []
        for r in built["feedback"]:
            base = {k: r[k] for k in ("session_id", "starts_at", "responses", "hidden")}
            if not r["questions"]:
                rows.append(base)
            for qid, q in r["questions"].items():
                rows.append(
                    {
                        **base,
                        "question_id": qid,
                        "question": q["text"],
                        "kind": q["kind"],
                        "mean": q["mean"],
                        "n": q["n"],
                    }
                )
    else:
        rows = list(built[table])
    return csvsafe.table(COLUMNS[table], rows)


def csv_name(scope: Mapping[str, Any], table: str) -> str:
    """The download's file name: `series-<id>-attendance.csv`, `instructor-<n>-help.csv` (ASCII, no path)."""
    who = scope.get("series_id") if scope.get("kind") == "series" else scope.get("instructor_email")
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "-" for c in str(who or ""))[:80]
    return f"{scope.get('kind', 'report')}-{safe}-{table}.csv"


# ---------------------------------------------------------------- the warning mail


def warning_mail(
    *,
    instructor_name: str,
    to: str,
    topic: str,
    row: Mapping[str, Any],
    threshold: Threshold,
    link: str,
    sender: str,
    message_id: str,
    now: datetime,
) -> EmailMessage:
    """The one mail to the instructor about a person whose attendance of a series fell below the threshold."""
    title = " ".join(topic.split())
    name = " ".join(str(row["name"]).split())
    counted = int(row["sessions"]) - int(row["excused"])
    message = EmailMessage()
    message["Subject"] = f"Low attendance: {name} in “{title}”"
    message["From"] = sender
    message["To"] = to
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(now)
    rate = row["rate"] if isinstance(row["rate"], int | float) else 0
    lines = [
        f"Hello {' '.join(instructor_name.split())},",
        "",
        f"{name} <{row['email']}> has attended {row['attended']} of {counted} sessions of “{title}” "
        f"({round(rate * 100)}%), below the {round(threshold.rate * 100)}% at which Companion warns.",
    ]
    if row["excused"]:
        lines.append(f"{row['excused']} excused absence(s) are not counted.")
    lines += [
        "",
        "The series' report:",
        link,
        "",
        f"This is the only warning about {name} for this series.",
    ]
    message.set_content("\n".join(lines) + "\n")
    return message
