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


class AppError(Exception):
    """A refusal the client is told about; `extra` fields travel beside `error` in an ack."""

    code = "invalid"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    @property
    def status(self) -> int:
        return HTTP_STATUS[self.code]

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}

    def ack(self) -> dict[str, Any]:
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
