"""Materials shared ahead of a class (contract part 2, Preparation): the rules, pure.

A file's type is read from its first bytes, never taken from its name, and the name must agree with
it; names are made safe to show and to offer as a download (no folders, no control characters); a
link is http(s) only. Materials are kept by SHA-256 (persistence/files.py); these rules decide what
is accepted.
"""

from __future__ import annotations

import posixpath
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from core.errors import Invalid

# How many first bytes the type is read from (the longest signature below, with room for text).
SNIFF_BYTES = 4096
MAX_FILENAME = 200
MAX_TITLE = 300
MAX_URL = 2000
MAX_MATERIALS = 200  # per session: a reading list, not an archive


@dataclass(frozen=True, slots=True)
class Kind:
    """A type of file accepted: its name for people, its content type, the names' endings it may have."""

    name: str
    content_type: str
    extensions: tuple[str, ...]


PDF = Kind("a PDF document", "application/pdf", (".pdf",))
PNG = Kind("a PNG image", "image/png", (".png",))
JPEG = Kind("a JPEG image", "image/jpeg", (".jpg", ".jpeg"))
GIF = Kind("a GIF image", "image/gif", (".gif",))
WEBP = Kind("a WebP image", "image/webp", (".webp",))
MP4 = Kind("an MP4 video", "video/mp4", (".mp4", ".m4v"))
MP3 = Kind("an MP3 recording", "audio/mpeg", (".mp3",))
TEXT = Kind("a text file", "text/plain; charset=utf-8", (".txt", ".md", ".csv"))
# Office documents are ZIP archives; which one is told by the name (the archive's inside is not opened).
ZIP_KINDS = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".zip": "application/zip",
}
ZIP = Kind("a ZIP archive or an office document", "application/zip", tuple(ZIP_KINDS))
ACCEPTED = (PDF, PNG, JPEG, GIF, WEBP, MP4, MP3, ZIP, TEXT)


def sniff(head: bytes) -> Kind | None:
    """The kind of file these first bytes begin, or None for one not accepted."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp":
        return MP4
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return MP3
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ZIP
    if _is_text(head):
        return TEXT
    return None


def _is_text(head: bytes) -> bool:
    """UTF-8 without NUL or other control characters than tab and line ends (a cut last character is fine)."""
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 3:
            return False
        text = head[: e.start].decode("utf-8")
    return bool(text) and all(c in "\t\r\n\f" or unicodedata.category(c) != "Cc" for c in text)


def content_type(filename: str, head: bytes) -> str:
    """The content type of a file named `filename` that begins with `head`; Invalid when either is not accepted
    or they disagree (a PNG called notes.pdf)."""
    if not head:
        raise Invalid("file: the file is empty")
    kind = sniff(head)
    ext = posixpath.splitext(filename.lower())[1]
    if kind is None:
        named = ", ".join(k.name for k in ACCEPTED)
        raise Invalid(f"file: this type of file is not accepted (accepted: {named})")
    if ext not in kind.extensions:
        said = f"its name ends in {ext}" if ext else "its name has no ending"
        raise Invalid(
            f"file: the content is {kind.name}, but {said}; name it {kind.extensions[0]} or upload the right file"
        )
    return ZIP_KINDS[ext] if kind is ZIP else kind.content_type


def safe_filename(raw: str) -> str:
    """The name a file is shown and downloaded as: its last path part, without control characters, at most
    MAX_FILENAME characters (its ending kept); Invalid when nothing is left."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in unicodedata.normalize("NFC", name) if not unicodedata.category(c).startswith("C"))
    name = " ".join(name.split()).strip(". ")
    if not name:
        raise Invalid("file: the file needs a name")
    if len(name) > MAX_FILENAME:
        stem, ext = posixpath.splitext(name)
        ext = ext if len(ext) <= 10 else ""
        name = stem[: MAX_FILENAME - len(ext)].rstrip() + ext
    return name


def check_title(raw: object, *, default: str | None = None) -> str:
    """A material's title: text of at most MAX_TITLE characters, one line; `default` when none is given."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if default is None:
            raise Invalid("title: give the link a title")
        raw = default
    if not isinstance(raw, str):
        raise Invalid("title: must be text")
    title = " ".join("".join(" " if unicodedata.category(c).startswith("C") else c for c in raw).split())
    if not title:
        raise Invalid("title: give the link a title")
    if len(title) > MAX_TITLE:
        raise Invalid(f"title: at most {MAX_TITLE} characters")
    return title


def check_link(raw: object) -> str:
    """A shared link: an absolute http(s) URL with a host (no javascript:, data: or file: links)."""
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid("url: a link is required")
    url = raw.strip()
    if len(url) > MAX_URL:
        raise Invalid(f"url: at most {MAX_URL} characters")
    if any(unicodedata.category(c).startswith("C") or c.isspace() for c in url):
        raise Invalid("url: a link has no spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise Invalid("url: only http and https links can be shared")
    if not parts.hostname:
        raise Invalid("url: the link names no host")
    if parts.username or parts.password:
        raise Invalid("url: a link with a user name or password in it cannot be shared")
    return url


@dataclass(frozen=True, slots=True)
class Material:
    """A file or a link shared with a session's participants."""

    id: str
    session_id: str
    title: str
    created_at: datetime
    created_by: str
    filename: str | None = None  # a file's safe name
    url: str | None = None  # a link's address
    size: int | None = None
    sha256: str | None = None
    content_type: str | None = None

    @property
    def is_file(self) -> bool:
        return self.sha256 is not None
