"""core/reports.py: the rules of the reviews across sessions, with fixed times (no clock is read)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import reports as rules
from core.reports import Figures, Mark, Question, Session, Threshold

T0 = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
NOW = datetime(2030, 4, 1, 12, 0, tzinfo=UTC)


def session(n: int, status: str = "closed", late_s: int | None = 0, delay: int = 0) -> Session:
    starts = T0 + timedelta(days=7 * n)
    return Session(
        id=f"s{n}",
        topic="Lab",
        instructor_email="t@example.org",
        series_id="ser",
        status=status,
        starts_at=starts,
        started_at=None if late_s is None else starts + timedelta(seconds=late_s),
        closed_at=starts + timedelta(hours=1) if status == "closed" else None,
        delay_minutes=delay,
    )


def mark(n: int, person: str, status: str, name: str | None = None) -> Mark:
    return Mark(f"s{n}", person, name or person.split("@")[0].title(), person, status)


def test_the_threshold_reads_a_rate_or_a_percentage_and_a_minimum_and_refuses_the_rest() -> None:
    assert rules.parse_threshold(None, None) == Threshold(0.75, 3)
    assert rules.parse_threshold("0.6", "5") == Threshold(0.6, 5)
    assert rules.parse_threshold(" 80% ", "") == Threshold(0.8, 3)
    assert rules.parse_threshold("0", None) == Threshold(0.0, 3)  # warns nobody
    for rate in ("high", "1.01", "-0.5", "nan", "inf", "120%"):
        with pytest.raises(ValueError, match="COMPANION_LOW_ATTENDANCE:"):
            rules.parse_threshold(rate, None)
    for count in ("0", "1.5", "x", "1001", "-2", "٣"):
        with pytest.raises(ValueError, match="COMPANION_LOW_ATTENDANCE_MIN:"):
            rules.parse_threshold(None, count)


def test_attendance_counts_closed_sessions_only_and_an_excused_absence_neither_way() -> None:
    sessions = [session(0), session(1), session(2, "cancelled", None), session(3, "live"), session(4)]
    marks = [
        mark(0, "a@x.org", "present"),
        mark(1, "a@x.org", "late"),
        mark(4, "a@x.org", "absent"),
        mark(2, "a@x.org", "absent"),  # a cancelled session never counts
        mark(3, "a@x.org", "absent"),  # nor one not closed yet
        mark(0, "b@x.org", "excused"),
        mark(1, "b@x.org", "excused"),
        mark(4, "b@x.org", "present", name="Bea Later"),
    ]
    rows = {r["participant"]: r for r in rules.attendance(sessions, marks, Threshold(0.75, 3))}
    a, b = rows["a@x.org"], rows["b@x.org"]
    assert (a["sessions"], a["attended"], a["late"], a["absent"], a["rate"], a["low"]) == (3, 2, 1, 1, 0.6667, True)
    assert (b["sessions"], b["attended"], b["excused"], b["rate"], b["low"]) == (3, 1, 2, 1.0, False)
    assert b["name"] == "Bea Later", "a person's name is the one of their latest session"


def test_low_needs_the_minimum_of_sessions_that_count() -> None:
    t = Threshold(0.75, 3)
    assert not rules.is_low(0, 2, t), "two sessions counted are too few to judge"
    assert rules.is_low(2, 3, t) and not rules.is_low(3, 4, t)  # 0.67 is low, 0.75 is not
    assert not rules.is_low(0, 0, t)  # nothing counts: no rate at all
    assert not rules.is_low(0, 10, Threshold(0.0, 1)), "a threshold of 0 warns nobody"
    assert rules.rate_of(0, 0) is None


def test_low_picks_the_people_asked_about_and_the_warnings_show_in_the_rows() -> None:
    sessions = [session(0), session(1), session(2)]
    marks = [mark(n, "a@x.org", "absent") for n in range(3)] + [mark(n, "b@x.org", "absent") for n in range(3)]
    assert [r["participant"] for r in rules.low(sessions, marks, Threshold(), ["b@x.org"])] == ["b@x.org"]
    warned = {"a@x.org": {"at": "2030-03-19T10:00:00.000Z", "state": "done"}}
    rows = rules.attendance(sessions, marks, Threshold(), warned)
    assert [(r["warned_at"], r["warning"]) for r in rows] == [("2030-03-19T10:00:00.000Z", "done"), (None, None)]


def test_punctuality_is_actual_minus_scheduled_with_the_announced_delay_beside_it() -> None:
    rows = rules.punctuality([session(0, late_s=125), session(1, late_s=-60, delay=10), session(2, late_s=None)])
    assert [(r["late_by_s"], r["delay_minutes"]) for r in rows] == [(125, 0), (-60, 10), (None, 0)]
    assert rows[0]["scheduled"] == "2030-03-04T09:00:00.000Z"
    assert rules.punctuality([session(0, "cancelled", None)]) == []


def test_waits_are_from_opening_to_claim_and_the_quantiles_interpolate() -> None:
    t = T0
    tickets, waits = rules.wait_seconds(
        [(t, t + timedelta(seconds=30)), (t, None), (t, t + timedelta(seconds=180.4)), (t, t + timedelta(seconds=60))]
    )
    assert (tickets, waits) == (4, [30, 60, 180])
    assert rules.quantile(waits, 0.5) == 60 and rules.quantile(waits, 0.9) == 156.0
    assert rules.quantile([10, 20], 0.5) == 15.0 and rules.quantile([7], 0.9) == 7 and rules.quantile([], 0.5) is None
    row = rules.help_waits([session(0)], {"s0": Figures(tickets=4, waits_s=waits)})[0]
    assert (row["tickets"], row["claimed"], row["median_wait_s"], row["p90_wait_s"], row["max_wait_s"]) == (
        4,
        3,
        60.0,
        156.0,
        180,
    )


def test_feedback_means_of_ratings_and_yes_shares_none_below_three_when_anonymous_or_unknown() -> None:
    questions = [
        {"id": "overall", "kind": "rating", "text": "Overall?"},
        {"id": "again", "kind": "yesno", "text": "Again?"},
        {"id": "notes", "kind": "text", "text": "Notes?"},
    ]
    sums = rules.question_sums(
        questions, [{"overall": 4, "again": True, "notes": "x"}, {"overall": 5, "again": False}, {"overall": 3}]
    )
    assert sums["overall"] == Question("rating", "Overall?", 3, 12.0) and sums["again"] == Question(
        "yesno", "Again?", 2, 1.0
    )
    figures = {
        "s0": Figures(responses=3, questions=sums, anonymous=True),
        "s1": Figures(responses=2, questions=sums, anonymous=True),
        "s2": Figures(responses=2, questions=sums, anonymous=False),
        "s3": Figures(responses=2, questions=sums, anonymous=None),  # purged: the form is no longer known
    }
    rows = {r["session_id"]: r for r in rules.feedback([session(n) for n in range(4)], figures)}
    assert rows["s0"]["questions"] == {
        "overall": {"text": "Overall?", "kind": "rating", "mean": 4.0, "n": 3},
        "again": {"text": "Again?", "kind": "yesno", "mean": 0.5, "n": 2},
    }
    assert rows["s1"]["hidden"] and rows["s1"]["questions"]["overall"] == {
        "text": "Overall?",
        "kind": "rating",
        "mean": None,
        "n": None,
    }
    assert not rows["s2"]["hidden"] and rows["s2"]["questions"]["overall"]["mean"] == 4.0
    assert rows["s3"]["hidden"]


def test_the_counts_a_purge_kept_read_as_figures_and_bad_parts_as_unknown() -> None:
    f = rules.figures_from_counts(
        {
            "roster": 4,
            "statuses": {"present": 2, "late": 1, "absent": 1},
            "chat_messages": 9,
            "help": {"tickets": 3, "waits_s": [180, 30, 60]},
            "feedback": {
                "responses": 3,
                "questions": {"overall": {"kind": "rating", "text": "Overall?", "n": 3, "sum": 12}},
            },
        }
    )
    assert (f.roster, f.tickets, list(f.waits_s), f.responses, f.anonymous) == (4, 3, [30, 60, 180], 3, None)
    assert f.questions["overall"] == Question("rating", "Overall?", 3, 12.0)
    assert rules.session_attendance(f) == {
        "roster": 4,
        "present": 2,
        "late": 1,
        "absent": 1,
        "excused": 0,
        "rate": 0.75,
    }
    broken = rules.figures_from_counts({"statuses": "x", "help": [1], "feedback": {"questions": {"q": 3}}})
    assert (broken.statuses, broken.tickets, broken.responses) == (None, None, None)
    assert broken.questions["q"] == Question("", "", 0, 0.0)
    assert rules.figures_from_counts(None).statuses is None


def test_the_report_and_its_csv_tables_neutralise_formulas() -> None:
    sessions = [session(1), session(0, late_s=90)]
    marks = [
        mark(0, "e@x.org", "present", name='=HYPERLINK("x")'),
        mark(1, "e@x.org", "absent", name='=HYPERLINK("x")'),
    ]
    figures = {"s0": Figures(statuses={"present": 1}, roster=1, tickets=1, waits_s=[12], source={"help": "live"})}
    built = rules.report({"kind": "series", "series_id": "ser"}, sessions, marks, figures, Threshold(), {}, NOW)
    assert [s["id"] for s in built["sessions"]] == ["s0", "s1"], "in start order"
    assert built["generated_at"] == "2030-04-01T12:00:00.000Z" and built["threshold"] == {
        "rate": 0.75,
        "min_sessions": 3,
    }
    text = rules.csv_text(built, "attendance")
    assert text.splitlines()[1].startswith('e@x.org,"\'=HYPERLINK(""x"")",e@x.org,2,1,1,0,1,0,0.5,false')
    assert text.endswith("\r\n")
    assert rules.csv_text(built, "sessions").splitlines()[1].startswith("s0,Lab,2030-03-04T09:00:00.000Z")
    assert rules.csv_text(built, "help").splitlines()[1] == "s0,2030-03-04T09:00:00.000Z,1,1,12.0,12.0,12"
    assert (
        rules.csv_text(built, "punctuality").splitlines()[1]
        == "s0,Lab,2030-03-04T09:00:00.000Z,2030-03-04T09:01:30.000Z,90,0"
    )
    assert (
        rules.csv_name({"kind": "instructor", "instructor_email": "Ann O'Neil@x.org"}, "help")
        == "instructor-Ann-O-Neil-x.org-help.csv"
    )


def test_the_warning_mail_names_the_person_their_figures_and_the_report() -> None:
    row = {"name": "Cy  Sometimes", "email": "cy@x.org", "sessions": 4, "attended": 1, "excused": 1, "rate": 0.3333}
    m = rules.warning_mail(
        instructor_name="Iris",
        to="t@example.org",
        topic="Weekly\nlab",
        row=row,
        threshold=Threshold(0.75, 3),
        link="https://companion.example/reports?series=ser",
        sender="Companion <c@example.org>",
        message_id="<id@example.org>",
        now=NOW,
    )
    assert m["Subject"] == "Low attendance: Cy Sometimes in “Weekly lab”"
    body = str(m.get_content())
    assert "Cy Sometimes <cy@x.org> has attended 1 of 3 sessions of “Weekly lab” (33%), below the 75%" in body
    assert "1 excused absence(s) are not counted." in body and "https://companion.example/reports?series=ser" in body
    assert m["Date"] == "Mon, 01 Apr 2030 12:00:00 +0000"
