"""core.materials and core.preparation: what is accepted, how names are made safe, readiness and its flag."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import materials as m
from core import preparation as prep
from core.errors import Invalid

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        (b"%PDF-1.4 ...", "a.pdf", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n....", "a.PNG", "image/png"),
        (b"\xff\xd8\xff\xe0....", "photo.jpeg", "image/jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "a.webp", "image/webp"),
        (b"\x00\x00\x00\x18ftypmp42", "clip.mp4", "video/mp4"),
        (b"PK\x03\x04....", "slides.pptx", m.ZIP_KINDS[".pptx"]),
        (b"PK\x03\x04....", "all.zip", "application/zip"),
        ("# Überblick\nText\n".encode(), "notes.md", "text/plain; charset=utf-8"),
        (b"a,b\n1,2\n", "data.csv", "text/plain; charset=utf-8"),
        ("é".encode()[:1], "cut.txt", None),  # a text whose last character was cut by the sniff window
    ],
)
def test_the_type_comes_from_the_content_and_the_name_must_agree(head: bytes, name: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(Invalid):
            m.content_type(name, head)  # one cut byte alone is no text
        assert m.content_type(name, "aé".encode()[:2]) == "text/plain; charset=utf-8"
        return
    assert m.content_type(name, head) == expected


@pytest.mark.parametrize(
    ("head", "name", "says"),
    [
        (b"", "a.pdf", "empty"),
        (b"\x89PNG\r\n\x1a\n", "a.pdf", "the content is a PNG image, but its name ends in .pdf"),
        (b"%PDF-", "a.exe", "the content is a PDF document, but its name ends in .exe"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "setup.txt", "not accepted"),
        (b"text with a NUL\x00", "a.txt", "not accepted"),
        (b"\x1b[31mescape codes", "a.txt", "not accepted"),
    ],
)
def test_what_is_refused_says_why(head: bytes, name: str, says: str) -> None:
    with pytest.raises(Invalid, match=says):
        m.content_type(name, head)


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\me\\notes.md", "notes.md"),
        ("a\x00b\x07c\u202e.pdf", "abc.pdf"),
        ("  spaced   out  .pdf", "spaced out .pdf"),
        ("..hidden.pdf", "hidden.pdf"),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
def test_names_are_made_safe(raw: str, safe: str) -> None:
    assert m.safe_filename(raw) == safe


@pytest.mark.parametrize("raw", ["", "../", "...", "\x00\x01", "a/b/"])
def test_a_name_that_is_nothing_once_safe_is_refused(raw: str) -> None:
    with pytest.raises(Invalid, match="needs a name"):
        m.safe_filename(raw)


@given(st.text(min_size=1, max_size=400))
def test_a_safe_name_has_no_folders_controls_or_excess(raw: str) -> None:
    try:
        name = m.safe_filename(raw)
    except Invalid:
        return
    assert name and "/" not in name and "\\" not in name and len(name) <= m.MAX_FILENAME
    assert not any(unicodedata.category(c).startswith("C") for c in name)
    assert name not in (".", "..") and not name.startswith(".")


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,x",
        "file:///etc/passwd",
        "ftp://x.org/a",
        "https://",
        "//example.org/a",
        "https://u:p@example.org/",
        "https://exa mple.org/",
        "https://e.org/\x00",
    ],
)
def test_only_plain_http_links_are_shared(url: str) -> None:
    with pytest.raises(Invalid, match=r"^url: "):
        m.check_link(url)


def test_a_link_and_a_title() -> None:
    assert m.check_link(" https://example.org/a?b=1#c ") == "https://example.org/a?b=1#c"
    assert m.check_title(" Week\t1\nslides ") == "Week 1 slides"
    assert m.check_title(None, default="a.pdf") == "a.pdf"
    with pytest.raises(Invalid, match="title"):
        m.check_title("x" * 301)


# ---------------------------------------------------------------- the run-through and readiness

ALL_OK = dict.fromkeys(prep.CHECKS, "ok")


def run(**checks: str) -> prep.PlatformCheck:
    return prep.PlatformCheck("c1", "s1", {**ALL_OK, **checks}, None, "Iris", "instructor", NOW)


def facts(**over: object) -> prep.Facts:
    start = NOW + timedelta(days=10)
    base: dict[str, object] = {
        "status": "scheduled",
        "starts_at": start,
        "roster": 12,
        "invited_at": NOW,
        "short_notice_reason": None,
        "invite_by": start - timedelta(days=3),
        "reminders": [{"offset": "24h", "state": "pending"}, {"offset": "1h", "state": "pending"}],
        "materials": 2,
        "platform_check": run(),
    }
    return prep.Facts(**{**base, **over})  # type: ignore[arg-type]


def oks(f: prep.Facts) -> dict[str, bool]:
    return {c.name: c.ok for c in prep.readiness(f)}


def test_a_prepared_session_is_ready_and_each_gap_is_named() -> None:
    assert all(oks(facts()).values())
    assert list(oks(facts())) == list(prep.READINESS)
    assert oks(facts(roster=0))["roster"] is False
    assert oks(facts(invited_at=None))["invitations"] is False
    late = facts(invited_at=NOW + timedelta(days=8))
    assert oks(late)["invitations"] is False
    assert oks(facts(invited_at=NOW + timedelta(days=8), short_notice_reason="room change"))["invitations"] is True
    assert oks(facts(reminders=[{"offset": "24h", "state": "failed"}]))["reminders"] is False
    assert oks(facts(materials=0))["materials"] is False
    assert oks(facts(platform_check=None))["platform_check"] is False
    failed = prep.readiness(facts(platform_check=run(screen_share="failed", recording="n/a")))[4]
    assert (failed.ok, failed.detail) == (False, "screen sharing failed in the run-through by Iris")


def test_the_flag_is_raised_within_a_day_of_the_start_for_a_session_not_ready() -> None:
    start = NOW + timedelta(hours=23)
    assert prep.flagged("scheduled", start, NOW, ready=False) is True
    assert prep.flagged("scheduled", start, NOW, ready=True) is False
    assert prep.flagged("scheduled", NOW + timedelta(hours=25), NOW, ready=False) is False
    assert prep.flagged("live", start, NOW, ready=False) is False
    assert prep.flagged("scheduled", NOW - timedelta(minutes=1), NOW, ready=False) is False
    assert prep.flag_due(start) == start - timedelta(hours=24)


def test_a_run_through_needs_every_feature_with_a_known_result() -> None:
    assert prep.check_run(ALL_OK, "  fine ") == (ALL_OK, "fine")
    assert prep.check_run(ALL_OK, "   ") == (ALL_OK, None)
    for bad in ({**ALL_OK, "audio": "good"}, {k: v for k, v in ALL_OK.items() if k != "video"}, "ok", None):
        with pytest.raises(Invalid, match=r"^checks"):
            prep.check_run(bad, None)
    with pytest.raises(Invalid, match="notes"):
        prep.check_run(ALL_OK, "x" * 2001)


def test_the_storage_settings_are_read_and_checked() -> None:
    from pathlib import Path

    from core.settings import Settings, SettingsError

    base = {"COMPANION_DATA_DIR": "/srv/c", "COMPANION_SECRET_KEY": "k" * 40}
    default = Settings.from_env(base)
    assert default.files_dir == Path("/srv/c/files") and default.max_upload_bytes == 50 * 1024 * 1024
    set_ = Settings.from_env({**base, "COMPANION_STORAGE_DIR": "/data/f", "COMPANION_MAX_UPLOAD_MB": "2.5"})
    assert set_.files_dir == Path("/data/f") and set_.max_upload_bytes == int(2.5 * 1024 * 1024)
    for bad in ("lots", "0", "-1", "20000"):
        with pytest.raises(SettingsError, match="COMPANION_MAX_UPLOAD_MB"):
            Settings.from_env({**base, "COMPANION_MAX_UPLOAD_MB": bad})
