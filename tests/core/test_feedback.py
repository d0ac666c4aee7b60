"""The feedback rules: forms, answers, results, the personal link, the open window, the mails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core import feedback as fb
from core.errors import Invalid

NOW = datetime(2027, 3, 16, 10, 0, tzinfo=UTC)
KEY = "a-key-for-tests-that-is-long-enough-0123456789"


def form(**kw: Any) -> dict[str, Any]:
    return {
        "anonymous": kw.pop("anonymous", False),
        "questions": kw.pop(
            "questions",
            [
                {"id": "r", "kind": "rating", "text": "Rate it", "required": True},
                {"id": "c", "kind": "choice", "text": "Pace?", "options": ["slow", "right", "fast"]},
                {"id": "m", "kind": "multi", "text": "Which parts?", "options": ["a", "b", "c"]},
                {"id": "t", "kind": "text", "text": "Anything else?"},
                {"id": "y", "kind": "yesno", "text": "Problems?"},
            ],
        ),
    }


def test_a_form_round_trips_through_its_public_shape() -> None:
    f = fb.parse_form(form())
    assert fb.parse_form(f.public()) == f
    assert [q.kind for q in f.questions] == ["rating", "choice", "multi", "text", "yesno"]
    assert "options" not in f.public()["questions"][0]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ([], "body"),
        ({"anonymous": "yes", "questions": []}, "anonymous"),
        ({"questions": {}}, "questions"),
        ({"questions": []}, "questions"),
        ({"questions": [{"id": "a", "kind": "yesno", "text": "q"}] * 31}, "at most 30"),
        ({"questions": [{"id": "a", "kind": "yesno", "text": "q"}] * 2}, "questions[1].id"),
        ({"questions": [{"id": "a b", "kind": "yesno", "text": "q"}]}, "questions[0].id"),
        ({"questions": [{"id": "a", "kind": "scale", "text": "q"}]}, "questions[0].kind"),
        ({"questions": [{"id": "a", "kind": "yesno", "text": " "}]}, "questions[0].text"),
        ({"questions": [{"id": "a", "kind": "yesno", "text": "x" * 501}]}, "questions[0].text"),
        ({"questions": [{"id": "a", "kind": "yesno", "text": "q", "required": 1}]}, "questions[0].required"),
        ({"questions": [{"id": "a", "kind": "choice", "text": "q", "options": ["x"]}]}, "questions[0].options"),
        ({"questions": [{"id": "a", "kind": "choice", "text": "q", "options": ["x", "x"]}]}, "each option once"),
        ({"questions": [{"id": "a", "kind": "multi", "text": "q", "options": ["x", 2]}]}, "questions[0].options[1]"),
        ({"questions": [{"id": "a", "kind": "rating", "text": "q", "options": ["x", "y"]}]}, "questions[0].options"),
    ],
)
def test_a_bad_form_is_refused_naming_the_field(raw: object, field: str) -> None:
    with pytest.raises(Invalid) as e:
        fb.parse_form(raw)
    assert field in e.value.message


def test_answers_are_checked_against_the_form() -> None:
    f = fb.parse_form(form())
    kept = fb.check_answers(f, {"r": 4, "c": "right", "m": ["c", "a"], "t": "  fine  ", "y": False})
    assert kept == {"r": 4, "c": "right", "m": ["a", "c"], "t": "fine", "y": False}
    assert fb.check_answers(f, {"r": 1, "t": None, "m": []}) == {"r": 1}


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({}, "answers.r"),
        ({"r": 6}, "answers.r"),
        ({"r": 0}, "answers.r"),
        ({"r": True}, "answers.r"),
        ({"r": "5"}, "answers.r"),
        ({"r": 3, "c": "medium"}, "answers.c"),
        ({"r": 3, "m": "a"}, "answers.m"),
        ({"r": 3, "m": ["a", "a"]}, "answers.m"),
        ({"r": 3, "t": "x" * 2001}, "answers.t"),
        ({"r": 3, "t": "bell\x07"}, "answers.t"),
        ({"r": 3, "y": "yes"}, "answers.y"),
        ({"r": 3, "nope": 1}, "answers.nope"),
    ],
)
def test_a_bad_answer_is_refused_naming_the_question(answers: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as e:
        fb.check_answers(fb.parse_form(form()), answers)
    assert field in e.value.message


def test_a_text_answer_of_two_thousand_characters_is_taken() -> None:
    assert fb.check_answers(fb.parse_form(form()), {"r": 2, "t": "é" * 2000})["t"] == "é" * 2000


def responses(f: fb.Form, n: int) -> list[fb.Response]:
    return [
        fb.Response(
            answers={"r": 1 + i % 5, "c": "right", "m": ["a", "b"], "t": f"note {n - i}", "y": i % 2 == 0},
            submitted_at=NOW + timedelta(minutes=i),
            name=None if f.anonymous else f"Person {i}",
            participant_id=None if f.anonymous else f"p{i}",
        )
        for i in range(n)
    ]


def test_results_count_each_kind() -> None:
    f = fb.parse_form(form())
    got = fb.results(f, responses(f, 4))
    assert got["responses"] == 4 and got["hidden"] is False
    by = {q["id"]: q for q in got["per_question"]}
    assert by["r"]["counts"] == [
        {"value": str(v), "count": c} for v, c in zip(range(1, 6), [1, 1, 1, 1, 0], strict=True)
    ]
    assert by["r"]["average"] == 2.5
    assert by["c"]["counts"] == [
        {"value": "slow", "count": 0},
        {"value": "right", "count": 4},
        {"value": "fast", "count": 0},
    ]
    assert by["m"]["counts"][:2] == [{"value": "a", "count": 4}, {"value": "b", "count": 4}]
    assert by["y"]["counts"] == [{"value": "yes", "count": 2}, {"value": "no", "count": 2}]
    assert by["t"]["texts"][0] == {"text": "note 4", "name": "Person 0", "participant_id": "p0"}


def test_an_anonymous_form_shows_nothing_below_three_and_never_a_name() -> None:
    f = fb.parse_form(form(anonymous=True))
    assert fb.results(f, responses(f, 2)) == {"responses": 2, "anonymous": True, "hidden": True, "per_question": []}
    shown = fb.results(f, responses(f, 3))
    assert shown["hidden"] is False
    texts = next(q for q in shown["per_question"] if q["id"] == "t")["texts"]
    assert texts == [{"text": "note 1"}, {"text": "note 2"}, {"text": "note 3"}]  # sorted, not in answer order
    assert "Person" not in repr(shown)


def test_a_token_names_its_session_and_recipient_and_is_signed_for_feedback_alone() -> None:
    t = fb.make_token(KEY, "s1", "p1")
    assert fb.parse_token(t, KEY) == ("s1", "p1")
    assert fb.parse_token(fb.make_token(KEY, "s1", fb.INSTRUCTOR), KEY) == ("s1", "instructor")
    assert fb.parse_token(t, KEY + "x") is None
    assert fb.parse_token(t.replace(".p1.", ".p2."), KEY) is None
    assert fb.parse_token(t[:-2], KEY) is None
    assert fb.parse_token("cpt_s1.p1_abc", KEY) is None
    assert fb.parse_token("fbk.s1.p1.é", KEY) is None


def test_the_form_is_open_from_the_close_for_fourteen_days() -> None:
    assert not fb.is_open("live", None, NOW)
    assert fb.is_open("closed", NOW, NOW)
    assert fb.is_open("closed", NOW, NOW + fb.OPEN_FOR - timedelta(seconds=1))
    assert not fb.is_open("closed", NOW, NOW + fb.OPEN_FOR)


def test_defaults_come_from_one_form_or_a_pair() -> None:
    one = fb.parse_defaults('{"anonymous": false, "questions": [{"id": "a", "kind": "yesno", "text": "Good?"}]}')
    assert one.participants.questions[0].text == "Good?" and one.instructor == fb.DEFAULT_INSTRUCTOR
    pair = fb.parse_defaults('{"instructor": {"questions": [{"id": "a", "kind": "text", "text": "Notes"}]}}')
    assert pair.participants == fb.DEFAULT_PARTICIPANTS and pair.instructor.questions[0].kind == "text"
    with pytest.raises(Invalid, match=r"instructor\.questions"):
        fb.parse_defaults('{"instructor": {"questions": 3}}')
    with pytest.raises(Invalid, match="not JSON"):
        fb.parse_defaults("{")


def test_the_default_form_asks_the_short_sensible_questions() -> None:
    kinds = [q.kind for q in fb.DEFAULT_PARTICIPANTS.questions]
    assert kinds == ["rating", "text", "text", "yesno"] and fb.DEFAULT_PARTICIPANTS.anonymous


def test_the_mail_carries_the_link_and_the_deadline() -> None:
    m = fb.form_mail(
        topic="Distributed\n systems",
        name="Ana",
        to="ana@example.org",
        link="http://x/feedback/t",
        audience="participants",
        reminder=True,
        until=NOW + fb.OPEN_FOR,
        sender="Companion <c@localhost>",
        message_id="<1@x>",
        now=NOW,
    )
    assert m["Subject"] == "Reminder: your feedback on “Distributed systems”"
    body = str(m.get_content())
    assert "http://x/feedback/t" in body and "30 March 2027, 10:00 UTC" in body and "only reminder" in body


def test_companion_feedback_form_is_read_and_checked_at_start_up(tmp_path: Any) -> None:
    from core.settings import Settings, SettingsError

    env = {"COMPANION_DATA_DIR": str(tmp_path), "COMPANION_SECRET_KEY": KEY}
    assert Settings.from_env(env).feedback_defaults == fb.Defaults()
    assert Settings.from_env(env).feedback_reminder.length == timedelta(hours=48)
    good = tmp_path / "form.json"
    good.write_text('{"anonymous": false, "questions": [{"id": "a", "kind": "yesno", "text": "Good?"}]}')
    got = Settings.from_env({**env, "COMPANION_FEEDBACK_FORM": str(good), "COMPANION_FEEDBACK_REMINDER": "3d"})
    assert got.feedback_defaults.participants.questions[0].text == "Good?"
    assert got.feedback_reminder.length == timedelta(days=3)
    bad = tmp_path / "bad.json"
    bad.write_text('{"questions": [{"id": "a", "kind": "choice", "text": "Pick", "options": ["x"]}]}')
    with pytest.raises(SettingsError, match=r"COMPANION_FEEDBACK_FORM \(.*bad\.json\): questions\[0\]\.options"):
        Settings.from_env({**env, "COMPANION_FEEDBACK_FORM": str(bad)})
    with pytest.raises(SettingsError, match="COMPANION_FEEDBACK_FORM: cannot read"):
        Settings.from_env({**env, "COMPANION_FEEDBACK_FORM": str(tmp_path / "missing.json")})
    with pytest.raises(SettingsError, match="COMPANION_FEEDBACK_REMINDER"):
        Settings.from_env({**env, "COMPANION_FEEDBACK_REMINDER": "soon"})
