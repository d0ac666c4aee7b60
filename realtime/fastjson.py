"""The JSON module handed to Socket.IO: orjson, encoding each broadcast once, fast."""

from __future__ import annotations

from typing import Any

import orjson


def dumps(obj: Any, **_kwargs: Any) -> str:
    return orjson.dumps(obj).decode()


def loads(s: str | bytes, **_kwargs: Any) -> Any:
    return orjson.loads(s)


JSONDecodeError = orjson.JSONDecodeError
