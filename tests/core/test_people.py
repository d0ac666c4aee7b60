"""core.people: a person's address read strictly, their pseudonym, and a record's files redacted without them."""

from __future__ import annotations

import csv
import io
import json

import pytest

from core import csvsafe, people, record
from core.errors import Invalid

KEY = "test-secret-key-that-is-long-enough-0123456789"


def red(**kw: object) -> people.Redaction:
    p = people.pseudonym(KEY, "ada@example.org")
    base: dict[str, object] = {
        "pseudonym": p,
        "email": "ada@example.org",
        "names": {"Ada Lovelace"},
        "participant_ids": {"p1"},
    }
    return people.Redaction(**{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "raw", ["", "ada", "a@b", "two@@example.org", "a b@example.org", "x" * 400 + "@example.org", "a\x00@example.org"]
)
def test_an_address_that_is_not_one_is_refused_naming_the_email(raw: str) -> None:
    with pytest.raises(Invalid, match="email"):
        people.email_key(raw)


def test_an_address_is_compared_lower_cased() -> None:
    assert people.email_key("  Ada.Lovelace@Example.ORG ") == "ada.lovelace@example.org"


def test_the_pseudonym_is_stable_per_person_and_needs_the_server_key() -> None:
    a = people.pseudonym(KEY, "ada@example.org")
    assert a == people.pseudonym(KEY, "ada@example.org")
    assert a != people.pseudonym(KEY, "bob@example.org")
    assert a != people.pseudonym("another-key-that-is-long-enough-000000000", "ada@example.org")
    assert a.name == f"Erased person {a.id[:8]}" and a.email == f"erased-{a.id}@invalid" and len(a.id) == 16
    assert people.is_pseudonym(a.email) and "ada" not in a.email


def test_a_json_file_loses_their_name_address_and_chat_text_but_keeps_the_others_and_the_sequence() -> None:
    r = red(chat_ids={"m1"})
    doc = {
        "messages": [
            {"id": "m1", "seq": 1, "author": "Ada Lovelace", "text": "Call me at 555", "role": "participant"},
            {
                "id": "m2",
                "seq": 2,
                "author": "Bob",
                "text": "Thanks ada lovelace, mail ADA@example.org",
                "role": "participant",
            },
        ]
    }
    out = json.loads(people.redact_file("chat.json", json.dumps(doc).encode(), r))
    m1, m2 = out["messages"]
    assert (m1["seq"], m1["author"], m1["text"]) == (1, r.pseudonym.name, people.REMOVED)
    assert m2["author"] == "Bob" and m2["text"] == f"Thanks {r.pseudonym.name}, mail {r.pseudonym.email}"


def test_a_name_a_fellow_participant_shares_is_replaced_only_in_their_own_rows() -> None:
    r = red(shared_names={"Ada Lovelace"})
    rows = [
        {"participant_id": "p1", "name": "Ada Lovelace", "email": "ada@example.org"},
        {"participant_id": "p2", "name": "Ada Lovelace", "email": "ada2@example.org"},
    ]
    out = json.loads(people.redact_file("attendance.json", json.dumps({"rows": rows}).encode(), r))["rows"]
    assert out[0]["name"] == r.pseudonym.name and out[0]["email"] == r.pseudonym.email
    assert out[1] == rows[1]
    # A short name is replaced as a word, never inside another one.
    assert red(names={"Al"}).text("Al asked Alice") == f"{red().pseudonym.name} asked Alice"


def test_feedback_loses_their_text_answers_and_those_texts_in_the_results_but_keeps_the_ratings() -> None:
    r = red(anonymous={("participants", "2026-12-04T10:00:00.000Z")})
    form = {"anonymous": True, "questions": [{"id": "overall", "kind": "rating"}, {"id": "worked", "kind": "text"}]}
    doc = {
        "forms": {
            "participants": {
                "form": form,
                "responses": [
                    {"answers": {"overall": 4, "worked": "Ada liked it"}, "submitted_at": "2026-12-04T10:00:00.000Z"},
                    {"answers": {"overall": 2, "worked": "More examples"}, "submitted_at": "2026-12-04T10:01:00.000Z"},
                ],
                "results": {
                    "per_question": [
                        {"id": "overall", "counts": [{"value": "4", "count": 1}]},
                        {"id": "worked", "answered": 2, "texts": [{"text": "Ada liked it"}, {"text": "More examples"}]},
                    ]
                },
            }
        }
    }
    out = json.loads(people.redact_file("feedback.json", json.dumps(doc).encode(), r))["forms"]["participants"]
    assert [x["answers"] for x in out["responses"]] == [
        {"overall": 4, "worked": people.REMOVED},
        {"overall": 2, "worked": "More examples"},
    ]
    overall, worked = out["results"]["per_question"]
    assert overall["counts"] == [{"value": "4", "count": 1}]
    assert worked["texts"] == [{"text": "More examples"}] and worked["answered"] == 2


def test_a_csv_keeps_its_shape_its_neutralised_cells_and_others_rows() -> None:
    columns = ("ticket_id", "participant_id", "name", "text", "wait_seconds")
    rows = [
        {
            "ticket_id": "t1",
            "participant_id": "p1",
            "name": "Ada Lovelace",
            "text": "No sound, =1+1",
            "wait_seconds": 5,
        },
        {"ticket_id": "t2", "participant_id": "p2", "name": "=HYPERLINK(x)", "text": "Mine", "wait_seconds": -1},
    ]
    data = csvsafe.table(columns, rows).encode()
    out = people.redact_file("help.csv", data, red(ticket_ids={"t1"})).decode()
    parsed = list(csv.DictReader(io.StringIO(out, newline="")))
    assert parsed[0]["name"] == red().pseudonym.name and parsed[0]["text"] == ""
    assert parsed[1] == {
        "ticket_id": "t2",
        "participant_id": "p2",
        "name": "'=HYPERLINK(x)",
        "text": "Mine",
        "wait_seconds": "-1",
    }
    assert out.endswith("\r\n") and out.splitlines()[2] == csvsafe.table(columns, rows[1:]).splitlines()[1]
    # Nothing of theirs: the file comes out byte for byte the same.
    assert (
        people.redact_file("help.csv", csvsafe.table(columns, rows[1:]).encode(), red())
        == csvsafe.table(columns, rows[1:]).encode()
    )


def test_the_manifest_gets_the_new_sums_and_digest() -> None:
    files = {"chat.json": b"old\n", "pings.json": b"same\n"}
    entries = [record.entry(n, d) for n, d in files.items()]
    manifest = {"session_id": "s1", "version": 2, "built_at": "x", "digest": record.digest(entries), "files": entries}
    raw, new_entries, digest = people.redacted_manifest(manifest, {"chat.json": b"new\n"})
    assert new_entries == [record.entry("chat.json", b"new\n"), record.entry("pings.json", b"same\n")]
    assert digest == record.digest(new_entries) != manifest["digest"]
    assert json.loads(raw) == {**manifest, "files": new_entries, "digest": digest}


def test_the_summary_names_what_goes_and_skips_what_is_zero() -> None:
    assert people.summary({"participants": 3, "chat_messages": 12, "feedback_texts": 0, "record_versions": 4}) == [
        "3 roster entries renamed",
        "12 chat messages emptied",
        "4 record versions redacted",
    ]
