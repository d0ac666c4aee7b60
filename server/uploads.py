"""A material's upload: `multipart/form-data` with a `file` part (and optionally `title`), streamed.

The file's bytes go to the file store as they arrive (python-multipart's push parser, fed from the
request stream), so an upload is never held whole in memory. A body whose Content-Length is over the
limit is refused before anything is read; one that grows past it while streaming is refused there,
and the partial file is removed. The type is checked from the first bytes as soon as they are in,
so a 50 MB file of the wrong type is refused after its first few kilobytes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import python_multipart
from python_multipart.multipart import parse_options_header
from starlette.requests import Request

from core.errors import Invalid, TooLarge
from core.materials import SNIFF_BYTES, content_type, safe_filename
from persistence.files import Writing

MAX_FIELD_BYTES = 4096  # a title, not a document
MAX_PARTS = 8  # file, title, and a little slack for clients that send empty extras
ENVELOPE = 64 * 1024  # room for boundaries and part headers around the file in Content-Length


@dataclass
class Upload:
    """What an upload carried: its file's name and bytes (in the store, uncommitted) and its title."""

    filename: str | None = None
    writing: Writing | None = None
    title: str | None = None
    fields: dict[str, bytearray] = field(default_factory=dict)


class _Parts:
    """python-multipart's callbacks: text fields gathered (small), the `file` part handed on as it comes."""

    def __init__(self) -> None:
        self.upload = Upload()
        self.parts = 0
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._name = ""
        self._is_file = False
        self.pending: list[bytes] = []  # file bytes parsed from the last chunk, to write before the next

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise Invalid(f"body: at most {MAX_PARTS} parts")
        self._disposition = b""
        self._name = ""
        self._is_file = False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if self._name == "file":
            if b"filename" not in options:
                raise Invalid("file: the part must be a file (with a filename)")
            if self.upload.filename is not None:
                raise Invalid("file: one file per upload")
            self._is_file = True
            self.upload.filename = options[b"filename"].decode("utf-8", "replace")
        else:
            self.upload.fields.setdefault(self._name, bytearray())

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file:
            self.pending.append(data[start:end])
            return
        value = self.upload.fields[self._name]
        value += data[start:end]
        if len(value) > MAX_FIELD_BYTES:
            raise Invalid(f"{self._name or 'field'}: at most {MAX_FIELD_BYTES} bytes")

    def on_part_end(self) -> None:
        self._is_file = False

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
        }


async def receive(request: Request, begin: Callable[[], Awaitable[Writing]], limit: int) -> Upload:
    """Read a multipart upload into a store write begun by `begin()`; the caller commits or aborts it.

    Refused (and nothing kept): not multipart, no file part, Content-Length or streamed size past `limit`,
    a type the first bytes do not show as accepted, or one the name disagrees with.
    """
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or b"boundary" not in options:
        raise Invalid("body: multipart/form-data with a file part, or JSON {title, url} for a link")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + ENVELOPE:
        raise TooLarge(f"file: larger than the {limit // (1024 * 1024)} MB allowed")
    parts = _Parts()
    parser = python_multipart.MultipartParser(options[b"boundary"], parts.callbacks())  # type: ignore[arg-type]
    writing: Writing | None = None
    checked = False
    try:
        async for chunk in request.stream():
            try:
                parser.write(chunk)
            except python_multipart.exceptions.MultipartParseError as e:
                raise Invalid(f"body: not a well-formed multipart body ({e})") from None
            for data in parts.pending:
                if writing is None:
                    writing = await begin()
                await writing.write(data)
            parts.pending.clear()
            if writing is not None and not checked and writing.size >= SNIFF_BYTES:
                content_type(safe_filename(parts.upload.filename or ""), writing.head)  # refuse a wrong type early
                checked = True
        parser.finalize()
        if parts.upload.filename is None:
            raise Invalid("file: the upload has no file part")
        if writing is None:
            raise Invalid("file: the file is empty")
    except BaseException:
        if writing is not None:
            await writing.abort()
        raise
    upload = parts.upload
    upload.writing = writing
    title = upload.fields.get("title")
    upload.title = title.decode("utf-8", "replace") if title else None
    return upload
