"""The server's log: lines for people, or one JSON object per line (`COMPANION_LOG_FORMAT=json`).

A record may carry `extra={"fields": {...}}` (the hub's session and connection ids, an HTTP request's
route and status): text lines end with them as `key=value`, JSON lines hold them as members. Every
HTTP request and every refused or failed Socket.IO event is one line at INFO (docs/deploy.md).
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

FORMATS = ("text", "json")
_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def parse_format(value: str | None) -> str:
    """`COMPANION_LOG_FORMAT`: text (the default) or json; ValueError naming what it was."""
    text = (value or "text").strip().lower()
    if text not in FORMATS:
        raise ValueError(f"COMPANION_LOG_FORMAT must be text or json, not {value!r}")
    return text


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(_TEXT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if not fields:
            return line
        return line + " " + " ".join(f"{k}={_text(v)}" for k, v in fields.items() if v is not None)


def _text(value: Any) -> str:
    text = str(value)
    return json.dumps(text) if not text or any(c.isspace() or c in '"=' for c in text) else text


class JsonFormatter(logging.Formatter):
    """One object per line: time (RFC 3339, UTC, milliseconds), level, logger, message, the fields, any error."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update({k: v for k, v in fields.items() if k not in out})
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def configure(log_format: str) -> None:
    """Send the log to stderr in this format, at INFO (what `companion serve` and its workers do)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
