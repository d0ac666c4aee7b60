"""What the Zoom and Microsoft Graph adapters share: calling an API with an app's OAuth token.

Both platforms hand a server app a bearer token for its client credentials (OAuth 2.0, RFC 6749
4.4) that lives about an hour. The token is kept until shortly before it expires and fetched again
once when the API answers 401 anyway (revoked, or expired early). Every request has a timeout, and
every failure (a refusal, a rate limit, a server error, no answer) becomes a ProviderError whose
message says which platform failed and how, for people: never a secret or a token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from core.video import ProviderError

log = logging.getLogger("companion.video")

# A platform that has not answered in this long is treated as down: the admin waiting on the form
# is told so instead of watching it spin.
TIMEOUT_S = 10.0
# A token is fetched again this long before it expires, so that a request sent with it does not
# arrive after it lapsed (Zoom's own SDK, rivet-javascript, keeps the same 60 s margin).
EXPIRY_MARGIN_S = 60.0
# The platform's own explanation is quoted in messages, cut to this length.
_DETAIL_CHARS = 200
# What a path segment may hold as it is (RFC 3986 pchar): an id goes into the path as the platform
# writes it (Graph's ids hold "=", older ones ":" and "@"), and "/", "?", "#" or "%" percent-encoded.
_PCHAR = "!$&'()*+,;=:@"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """How to ask the platform's authorization server for an app token (client credentials)."""

    url: str
    form: Mapping[str, str]
    secret: str  # the client secret: kept out of every message
    basic_auth: tuple[str, str] | None = None  # Zoom takes client id and secret as HTTP Basic auth


class Api:
    """One platform's API as this app reaches it: base URL, token, timeout and how failures read."""

    def __init__(
        self,
        *,
        platform: str,
        name: str,
        base_url: str,
        token: TokenRequest,
        settings_hint: str,
        forbidden_hint: str = "",
        timeout_s: float = TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.platform = platform  # the id in ProviderError.platform: "zoom", "teams"
        self.name = name  # the name people know it by: "Zoom", "Microsoft Teams"
        self.base_url = base_url
        self.timeout_s = timeout_s
        self._token_request = token
        self._settings_hint = settings_hint
        self._forbidden_hint = forbidden_hint
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        # Concurrent calls with no valid token fetch one between them, not one each.
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        """Connections for one operation: a series books its meetings over the same ones."""
        async with httpx.AsyncClient(base_url=self.base_url + "/", timeout=self.timeout_s) as client:
            yield Session(self, client)

    def error(self, what: str, reason: str) -> ProviderError:
        """The error for a failed `what` ("create the meeting"), logged once, secrets blanked out."""
        message = f"{self.name} could not {what}: {reason}"
        for secret in (self._token_request.secret, self._token):
            if secret:
                message = message.replace(secret, "[redacted]")
        log.warning("%s", message)
        return ProviderError(message, platform=self.platform)

    async def token(self, client: httpx.AsyncClient, what: str) -> str:
        """A bearer token valid for a while yet: the kept one, or a fresh one from the authorization server."""
        async with self._lock:
            if self._token is not None and self._clock() < self._expires_at - EXPIRY_MARGIN_S:
                return self._token
            req = self._token_request
            auth = httpx.BasicAuth(*req.basic_auth) if req.basic_auth else None
            response = await self.send(client, "POST", req.url, what, data=dict(req.form), auth=auth)
            if response.status_code in (400, 401):
                # RFC 6749 5.2: invalid_client, unauthorized_client, invalid_grant, invalid_scope...
                raise self.error(what, f"it refused the app's credentials ({_status(response)}); {self._check()}")
            body = self.answer(response, what)
            access = body.get("access_token") if isinstance(body, dict) else None
            lifetime = body.get("expires_in") if isinstance(body, dict) else None
            if not isinstance(access, str) or not access or not isinstance(lifetime, int | float):
                raise self.error(what, "its authorization server answered without an access token and its lifetime")
            self._token, self._expires_at = access, self._clock() + lifetime
            return access

    def forget(self, token: str) -> None:
        """Drop `token` (the API refused it), unless another call has already replaced it."""
        if self._token == token:
            self._token = None

    async def send(self, client: httpx.AsyncClient, method: str, url: str, what: str, **kw: Any) -> httpx.Response:
        """The response to one request, whatever its status; ProviderError when none came."""
        try:
            return await client.request(method, url, **kw)
        except httpx.TimeoutException:
            raise self.error(what, f"it did not answer within {self.timeout_s:g} s; try again later") from None
        except httpx.TransportError as e:  # refused, DNS, TLS, a connection dropped mid-answer
            raise self.error(what, f"it could not be reached ({type(e).__name__}); try again later") from None

    def answer(self, response: httpx.Response, what: str) -> Any:
        """The JSON of a 2xx answer (None when it has no body); ProviderError saying what went wrong otherwise."""
        status = response.status_code
        if 200 <= status < 300:
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise self.error(what, f"it answered HTTP {status} with something that is not JSON") from None
        if status == 429:
            wait = response.headers.get("retry-after", "")
            again = f"try again in {wait} s" if wait.isdigit() else "try again later"
            raise self.error(what, f"it is limiting this app's requests ({_status(response)}); {again}")
        if status >= 500:
            raise self.error(what, f"it failed ({_status(response)}); try again later")
        if status == 401:
            raise self.error(what, f"it refused the app's access token ({_status(response)}); {self._check()}")
        if status == 403:
            hint = f"; {self._forbidden_hint}" if self._forbidden_hint else ""
            raise self.error(what, f"it refused the request ({_status(response)}){hint}")
        raise self.error(what, f"it did not accept the request ({_status(response)})")

    def _check(self) -> str:
        return f"check the app and its permissions ({self._settings_hint})"


class Session:
    """Calls to one platform's API over one operation's connections."""

    def __init__(self, api: Api, client: httpx.AsyncClient) -> None:
        self._api = api
        self._client = client

    async def call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        missing_ok: bool = False,
    ) -> Any:
        """The JSON answer to an API call (None when empty, or when missing_ok and the resource is gone)."""
        api = self._api
        token = await api.token(self._client, what)
        response = await self._request(method, path, what, token, params, json)
        if response.status_code == 401:
            # Revoked or expired early (or another process fetched a newer one): one more try, with a fresh token.
            api.forget(token)
            token = await api.token(self._client, what)
            response = await self._request(method, path, what, token, params, json)
        if missing_ok and response.status_code == 404:
            return None
        return api.answer(response, what)

    async def _request(
        self, method: str, path: str, what: str, token: str, params: Mapping[str, str] | None, json: Any
    ) -> httpx.Response:
        headers = {"authorization": f"Bearer {token}"}
        return await self._api.send(self._client, method, path, what, params=params, json=json, headers=headers)


async def all_or_none(steps: Sequence[Callable[[], Awaitable[T]]], undo: Callable[[T], Awaitable[None]]) -> list[T]:
    """Every step's result, in order; when one fails, the ones done are undone (latest first) and its error raised.

    A series is booked as several meetings: half a series on the platform, unknown to the session,
    would be meetings nobody cancels.
    """
    done: list[T] = []
    try:
        for step in steps:
            done.append(await step())
    except ProviderError:
        for result in reversed(done):
            try:
                await undo(result)
            except ProviderError:
                log.error("a meeting of a series that failed to book is left on the platform: %r", result)
        raise
    return done


def segment(text: str) -> str:
    """`text` as one segment of a URL path."""
    return quote(text, safe=_PCHAR)


def _status(response: httpx.Response) -> str:
    """'HTTP 400: 300: Validation Failed.': the status and the platform's own code and message, if it gave them."""
    detail = _detail(response)
    return f"HTTP {response.status_code}: {detail}" if detail else f"HTTP {response.status_code}"


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    extra: list[str] = []
    if isinstance(error, dict):  # Microsoft Graph: {"error": {"code", "message", "innerError"}}
        code, message = error.get("code"), error.get("message")
    elif isinstance(error, str):  # OAuth 2.0 (RFC 6749 5.2); Zoom's token endpoint says "reason"
        code, message = error, body.get("error_description") or body.get("reason")
    else:  # Zoom: {"code", "message", "errors": [{"field", "message"}]}
        code, message = body.get("code"), body.get("message")
        fields = body.get("errors")
        if isinstance(fields, list):
            extra = [f"{f.get('field')}: {f.get('message')}" for f in fields[:3] if isinstance(f, dict)]
    parts = [str(p) for p in (code, message) if p not in (None, "")]
    # Microsoft's error_description goes on with trace and correlation ids on later lines.
    text = "; ".join([": ".join(parts).splitlines()[0] if parts else "", *extra]).strip("; ")
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"
