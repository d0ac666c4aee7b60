"""Errors with a stable code, turned into an ack, an HTTP answer or a refused connection in one place."""

from __future__ import annotations

from typing import Any

HTTP_STATUS = {
    "invalid": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "too_large": 413,
    "rate_limited": 429,
    "unavailable": 503,
}


# Names an error's extra fields may not take: they would overwrite the error's own, or the ack's.
_RESERVED = frozenset({"code", "message", "ok", "error"})


class AppError(Exception):
    """A refusal the client is told about, with a stable code and a message for people.

    `extra` fields (the open ticket's `ticket_id`, when check-in `opens_at`, `retry_at`) travel inside
    `error`, where the contract puts what an error carries. In an ack they also travel beside `error`,
    where clients written before they moved in read them; the two copies are always equal.
    """

    code = "invalid"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        if reserved := _RESERVED & extra.keys():
            raise TypeError(f"an error's extra fields may not be named {sorted(reserved)}")
        self.message = message
        self.extra = extra

    @property
    def status(self) -> int:
        return HTTP_STATUS[self.code]

    def body(self) -> dict[str, Any]:
        """The HTTP answer: `{"error": {"code", "message", ...extra}}`."""
        return {"error": {"code": self.code, "message": self.message, **self.extra}}

    def ack(self) -> dict[str, Any]:
        """The Socket.IO acknowledgement: `{"ok": false, "error": {...}}`, the extra fields beside `error` too."""
        return {"ok": False, **self.body(), **self.extra}


class Invalid(AppError):
    code = "invalid"


class Unauthorized(AppError):
    code = "unauthorized"


class Forbidden(AppError):
    code = "forbidden"


class NotFound(AppError):
    code = "not_found"


class Conflict(AppError):
    code = "conflict"


class TooLarge(AppError):
    code = "too_large"


class RateLimited(AppError):
    code = "rate_limited"


class Unavailable(AppError):
    code = "unavailable"
