"""Every way a platform can fail, for both adapters: a ProviderError (an `unavailable` error) saying which
platform failed and how, in words for people, logged once, with no secret in it or in any log line."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest

from core.video import ProviderError, VideoProvider
from tests.fakes.base import FakeApi
from tests.fakes.graph import FakeGraph
from tests.fakes.zoom import FakeZoom
from tests.support import free_port
from tests.video.support import one_session
from video.teams import TeamsProvider
from video.zoom import ZoomProvider


@dataclass
class Platform:
    """One adapter with its fake, and what the tests below need to know of them."""

    id: str
    name: str
    fake: FakeApi
    secret: str
    create: str  # the request line that creates a meeting
    token: str  # the request line that fetches a token
    url_fields: tuple[str, str]  # the settings' API and authorization server URLs
    build: Callable[..., VideoProvider]  # (timeout_s, **settings changes) -> provider
    caplog: pytest.LogCaptureFixture

    async def refusal(self, timeout_s: float = 10.0, **changes: Any) -> ProviderError:
        """The ProviderError that booking one session raises, checked for what every such error shares."""
        with pytest.raises(ProviderError) as caught:
            await self.build(timeout_s, **changes).create(one_session())
        error = caught.value
        message = str(error)
        assert (error.code, error.status, error.platform) == ("unavailable", 503, self.id)
        assert error.body() == {"error": {"code": "unavailable", "message": message, "platform": self.id}}
        assert message.startswith(f"{self.name} could not create the meeting: ")
        assert [r.getMessage() for r in self.caplog.records if r.name == "companion.video"] == [message]
        for text in (message, self.caplog.text):  # httpx's request lines included
            assert self.secret not in text and "access-token" not in text
        return error


@pytest.fixture(params=["zoom", "teams"])
async def platform(request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Platform]:
    caplog.set_level(logging.DEBUG)
    if request.param == "zoom":
        async with FakeZoom().running() as zoom:

            def zoom_provider(timeout_s: float, **changes: Any) -> VideoProvider:
                return ZoomProvider(replace(zoom.settings(), **changes), timeout_s=timeout_s)

            create, token = "POST /v2/users/me/meetings", "POST /oauth/token"
            urls = ("api_url", "oauth_url")
            yield Platform("zoom", "Zoom", zoom, zoom.CLIENT_SECRET, create, token, urls, zoom_provider, caplog)
    else:
        async with FakeGraph().running() as graph:

            def teams_provider(timeout_s: float, **changes: Any) -> VideoProvider:
                return TeamsProvider(replace(graph.settings(), **changes), timeout_s=timeout_s)

            create = f"POST /v1.0/users/{graph.ORGANIZER}/onlineMeetings"
            token = f"POST /{graph.TENANT_ID}/oauth2/v2.0/token"
            urls = ("api_url", "login_url")
            name = "Microsoft Teams"
            yield Platform("teams", name, graph, graph.CLIENT_SECRET, create, token, urls, teams_provider, caplog)


async def test_a_server_error(platform: Platform) -> None:
    platform.fake.fail(500, match=platform.create)
    message = str(await platform.refusal())
    assert "it failed (HTTP 500: " in message and message.endswith("; try again later")


async def test_a_rate_limit_with_the_wait_it_asks_for(platform: Platform) -> None:
    platform.fake.fail(429, match=platform.create, headers={"Retry-After": "7"})
    message = str(await platform.refusal())
    assert "it is limiting this app's requests (HTTP 429: " in message and message.endswith("; try again in 7 s")


async def test_a_rate_limit_without_a_wait(platform: Platform) -> None:
    platform.fake.fail(429, match=platform.create)
    assert str(await platform.refusal()).endswith("; try again later")


async def test_no_answer_within_the_timeout(platform: Platform) -> None:
    platform.fake.fail(match=platform.create, hang=True)
    message = str(await platform.refusal(timeout_s=0.3))
    assert message.endswith(" could not create the meeting: it did not answer within 0.3 s; try again later")


async def test_a_platform_that_cannot_be_reached(platform: Platform) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    message = str(await platform.refusal(10.0, **dict.fromkeys(platform.url_fields, nowhere)))
    assert message.endswith(" could not create the meeting: it could not be reached (ConnectError); try again later")
    assert platform.fake.requests == []


async def test_credentials_the_authorization_server_refuses(platform: Platform) -> None:
    message = str(await platform.refusal(client_secret="a-wrong-secret"))
    assert "it refused the app's credentials (HTTP 40" in message and "invalid_client" in message
    assert "check the app and its permissions (COMPANION_" in message
    assert "a-wrong-secret" not in message
    assert "Trace ID" not in message  # Microsoft's trace lines are cut off
    assert platform.fake.of(platform.create) == []


async def test_an_authorization_server_that_fails(platform: Platform) -> None:
    platform.fake.fail(503, match=platform.token)
    assert "it failed (HTTP 503: " in str(await platform.refusal())


async def test_a_token_refused_again_after_a_fresh_one(platform: Platform) -> None:
    platform.fake.fail(401, match=platform.create, times=2)
    assert "it refused the app's access token (HTTP 401: " in str(await platform.refusal())
    assert len(platform.fake.of(platform.create)) == 2  # one retry, no more
    assert len(platform.fake.of(platform.token)) == 2


async def test_a_forbidden_request_says_what_the_app_lacks(platform: Platform) -> None:
    platform.fake.fail(403, match=platform.create)
    message = str(await platform.refusal())
    assert "it refused the request (HTTP 403: " in message
    assert ("an application access policy" if platform.id == "teams" else "meeting:write") in message


async def test_a_request_the_platform_rejects_quotes_its_reason(platform: Platform) -> None:
    bodies = {
        "zoom": {"code": 300, "message": "Validation Failed.", "errors": [{"field": "topic", "message": "Too long."}]},
        "teams": {"error": {"code": "BadRequest", "message": "The subject is too long."}},
    }
    reasons = {"zoom": "300: Validation Failed.; topic: Too long.", "teams": "BadRequest: The subject is too long."}
    platform.fake.fail(400, match=platform.create, body=bodies[platform.id])
    assert str(await platform.refusal()).endswith(f": it did not accept the request (HTTP 400: {reasons[platform.id]})")


async def test_an_answer_that_is_not_json(platform: Platform) -> None:
    platform.fake.fail(201, match=platform.create, body=b"<html>a proxy's page</html>")
    assert str(await platform.refusal()).endswith(": it answered HTTP 201 with something that is not JSON")


async def test_an_answer_without_a_meeting(platform: Platform) -> None:
    platform.fake.fail(201, match=platform.create, body={"status": "waiting"})
    assert str(await platform.refusal()).endswith(": it answered without a meeting id")


async def test_a_secret_the_platform_echoes_back_is_blanked_out(platform: Platform) -> None:
    echo = {
        "zoom": {"code": 300, "message": f"Invalid client secret {platform.secret}"},
        "teams": {"error": {"code": "BadRequest", "message": f"Invalid client secret {platform.secret}"}},
    }
    platform.fake.fail(400, match=platform.create, body=echo[platform.id])
    assert str(await platform.refusal()).endswith("Invalid client secret [redacted])")


async def test_a_meeting_created_but_answered_without_a_join_url_is_deleted_again(platform: Platform) -> None:
    created = {"zoom": {"id": 85000000777, "topic": "x"}, "teams": {"id": "MSoxMjM0NTY3OA==", "subject": "x"}}
    platform.fake.fail(201, match=platform.create, body=created[platform.id])
    assert str(await platform.refusal()).endswith(
        ": it answered without a join URL" + (" (joinWebUrl)" if platform.id == "teams" else "")
    )
    (delete,) = [r for r in platform.fake.requests if r.method == "DELETE"]
    assert delete.path.endswith("/" + str(created[platform.id]["id"]))
