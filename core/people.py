"""A person's data (GDPR articles 15, 17, 20): who a person is across sessions, their pseudonym, and the
redaction of a session record's files when they are erased. Pure: no I/O.

A person is an email address, compared case-insensitively. Erasing them replaces their name and address
with a pseudonym that is stable per person (the same in every session and every record version, so
counts per person still add up) and that only the server key can make from the address: an HMAC, never
a plain digest anyone could compute from a guessed address. Free text they wrote (chat messages, help
requests, feedback answers to text questions) becomes REMOVED, the empty string: the row stays with its
sequence number, time and counts, and nothing reads as a message from them.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from core import record, tokens
from core.errors import Invalid

REMOVED = ""  # what their chat, help and feedback texts become
PSEUDONYM_BYTES = 8  # 64 bits of HMAC: no two people of an institution share one
_QUOTED = frozenset(',";\t\r\n')  # as core.csvsafe quotes
_EMAIL = re.compile(r"^[^@\s]{1,200}@[^@\s]{1,200}\.[^@\s.]{1,63}$")


def email_key(raw: str) -> str:
    """The person an address names (lower-cased); Invalid unless it reads as an email address."""
    value = raw.strip()
    if len(value) > 320 or not value.isprintable() or _EMAIL.fullmatch(value) is None:
        raise Invalid("email: not an email address")
    return value.lower()


@dataclass(frozen=True, slots=True)
class Pseudonym:
    """What an erased person is called from then on, and the id the audit log names them by."""

    id: str  # hex; "person:<id>" in the audit log
    name: str
    email: str


def pseudonym(secret_key: str, key: str) -> Pseudonym:
    """The erased person's stable pseudonym: an HMAC of their lower-cased address with the server key."""
    h = hmac.new(tokens.derive_key("person", secret_key), key.encode(), hashlib.sha256).hexdigest()
    h = h[: PSEUDONYM_BYTES * 2]
    return Pseudonym(id=h, name=f"Erased person {h[:8]}", email=f"erased-{h}@invalid")


def is_pseudonym(email: str) -> bool:
    return email.startswith("erased-") and email.endswith("@invalid")


@dataclass(slots=True)
class Redaction:
    """Everything needed to take one person out of one session's record files."""

    pseudonym: Pseudonym
    email: str  # lower-cased
    names: set[str]  # every name they were known by (roster, invitation, platform reports)
    participant_ids: set[str]
    chat_ids: set[str] = field(default_factory=set)
    ticket_ids: set[str] = field(default_factory=set)
    # Their anonymous feedback responses, as (audience, submitted_at): an anonymous response in the record
    # names nobody, so it is found by when it was first given.
    anonymous: set[tuple[str, str]] = field(default_factory=set)
    # Names their same-named fellow participants have: such a name is replaced only in their own fields.
    shared_names: set[str] = field(default_factory=set)

    def _patterns(self) -> list[tuple[re.Pattern[str], str]]:
        out = [(re.compile(re.escape(self.email), re.IGNORECASE), self.pseudonym.email)]
        for name in sorted(self.names - self.shared_names, key=len, reverse=True):
            if name.strip():
                out.append(
                    (re.compile(r"(?<!\w)" + re.escape(name.strip()) + r"(?!\w)", re.IGNORECASE), self.pseudonym.name)
                )
        return out

    def text(self, value: str) -> str:
        """A free text with their address and (unless a fellow participant shares it) their name replaced."""
        for pattern, by in self._patterns():
            value = pattern.sub(by, value)
        return value


def redact_strings(value: Any, r: Redaction) -> Any:
    """Every string in a JSON value with their address and name replaced (minutes, circulated mails)."""
    if isinstance(value, str):
        return r.text(value)
    if isinstance(value, list):
        return [redact_strings(v, r) for v in value]
    if isinstance(value, dict):
        return {k: redact_strings(v, r) for k, v in value.items()}
    return value


def _theirs(d: dict[str, Any], r: Redaction) -> bool:
    return d.get("participant_id") in r.participant_ids or str(d.get("email", "")).lower() == r.email


def _own_fields(d: dict[str, Any], r: Redaction) -> None:
    """A row about them (a participant id of theirs, or their address): name and address replaced."""
    for k in ("name", "author"):
        if isinstance(d.get(k), str):
            d[k] = r.pseudonym.name
    if isinstance(d.get("email"), str):
        d["email"] = r.pseudonym.email


def _walk(value: Any, r: Redaction) -> Any:
    if isinstance(value, list):
        return [_walk(v, r) for v in value]
    if isinstance(value, dict):
        d = {k: _walk(v, r) for k, v in value.items()}
        if _theirs(d, r):
            _own_fields(d, r)
        if d.get("id") in r.chat_ids and "seq" in d:
            d["author"], d["text"] = r.pseudonym.name, REMOVED
        return d
    if isinstance(value, str):
        return r.text(value)
    return value


def _text_questions(form: dict[str, Any]) -> set[str]:
    return {str(q.get("id")) for q in form.get("questions", []) if q.get("kind") == "text"}


def _feedback(doc: dict[str, Any], r: Redaction) -> dict[str, Any]:
    """feedback.json: their responses' text answers removed, and those texts out of the results."""
    for audience, entry in (doc.get("forms") or {}).items():
        form = entry.get("form") or {}
        texts = _text_questions(form)
        removed: dict[str, list[str]] = {}
        for resp in entry.get("responses", []):
            mine = resp.get("participant_id") in r.participant_ids or (
                form.get("anonymous") and (audience, resp.get("submitted_at")) in r.anonymous
            )
            if not mine:
                continue
            answers = resp.get("answers") or {}
            for qid in texts & set(answers):
                if answers[qid]:
                    removed.setdefault(qid, []).append(answers[qid])
                    answers[qid] = REMOVED
        for q in (entry.get("results") or {}).get("per_question", []):
            gone = removed.get(str(q.get("id")), [])
            kept = []
            for t in q.get("texts", []):
                if t.get("participant_id") in r.participant_ids:
                    continue
                if "participant_id" not in t and t.get("text") in gone:
                    gone.remove(t["text"])
                    continue
                kept.append(t)
            if "texts" in q:
                q["texts"] = kept
    return doc


def _json_bytes(value: Any) -> bytes:
    """As core.record writes its JSON files, so an untouched file comes out byte for byte the same."""
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def _csv(data: bytes, r: Redaction, name: str) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    if not rows:
        return data
    header, body = rows[0], rows[1:]
    col = {c: i for i, c in enumerate(header)}
    out_rows = []
    for row in body:
        cells = list(row)
        pid = cells[col["participant_id"]] if "participant_id" in col and col["participant_id"] < len(cells) else None
        email = cells[col["email"]].lower() if "email" in col and col["email"] < len(cells) else ""
        if pid in r.participant_ids or email.lstrip("'") == r.email:
            if "name" in col:
                cells[col["name"]] = r.pseudonym.name
            if "email" in col:
                cells[col["email"]] = r.pseudonym.email
        if name == "help.csv" and "ticket_id" in col and cells[col["ticket_id"]] in r.ticket_ids and "text" in col:
            cells[col["text"]] = REMOVED
        out_rows.append([r.text(c) for c in cells])
    # The cells are as written already (neutralised where needed): written back quoted where they must be.
    lines = [",".join(_cell(c) for c in header)] + [",".join(_cell(c) for c in row) for row in out_rows]
    return "".join(line + "\r\n" for line in lines).encode()


def _cell(text: str) -> str:
    """A cell read back from a record's CSV, written as core.csvsafe wrote it (never neutralised twice:
    a neutralised cell starts with its quote already, and a negative number stays a number)."""
    if text.startswith("'") or any(c in _QUOTED for c in text):
        return '"' + text.replace('"', '""') + '"'
    return text


def redact_file(name: str, data: bytes, r: Redaction) -> bytes:
    """One of a record's own files (not a material, not the manifest) with the person taken out."""
    if name.endswith(".json"):
        doc = json.loads(data)
        if name == "feedback.json" and isinstance(doc, dict):
            doc = _feedback(doc, r)
        return _json_bytes(_walk(doc, r))
    if name.endswith(".csv"):
        return _csv(data, r, name)
    return data


def is_own_file(name: str) -> bool:
    """Whether a zip entry is one of the record's own files (redacted), not a material's bytes nor the manifest."""
    return not name.startswith(record.MATERIALS_DIR) and name != record.MANIFEST


def redacted_manifest(manifest: dict[str, Any], changed: dict[str, bytes]) -> tuple[bytes, list[dict[str, Any]], str]:
    """The manifest with the changed files' sums: its bytes, its entries, the version's new digest."""
    entries = [
        record.entry(e["name"], changed[e["name"]]) if e["name"] in changed else dict(e) for e in manifest["files"]
    ]
    digest = record.digest(entries)
    return _json_bytes({**manifest, "files": entries, "digest": digest}), entries, digest


def summary(counts: dict[str, int]) -> list[str]:
    """The counts as a person reads them (the page's confirmation says the same from the dry run)."""
    labels = [
        ("participants", "roster entries renamed"),
        ("invitations", "invitations renamed"),
        ("chat_messages", "chat messages emptied"),
        ("help_tickets", "help requests emptied"),
        ("feedback_texts", "feedback texts removed"),
        ("platform_rows", "platform attendance rows renamed"),
        ("mails", "mails redacted"),
        ("jobs", "queued mails redacted or cancelled"),
        ("record_versions", "record versions redacted"),
    ]
    return [f"{counts[k]} {label}" for k, label in labels if counts.get(k)]


def sessions_of(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The export's sessions: each once, earliest first, with every role the person had in it."""
    by_id: dict[str, dict[str, Any]] = {}
    for row in rows:
        s = by_id.setdefault(row["id"], {**row, "roles": []})
        if row["role"] not in s["roles"]:
            s["roles"].append(row["role"])
    out = sorted(by_id.values(), key=lambda s: (str(s.get("starts_at")), s["id"]))
    for s in out:
        s.pop("role", None)
    return out
