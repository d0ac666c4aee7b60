"""video.manual and the choice of provider per platform (video.providers, video.provider_for)."""

from __future__ import annotations

from core.settings import GraphSettings, Settings, ZoomSettings
from core.video import Meeting, Occurrence
from tests.video.support import BERLIN, FIRST, TOPIC, one_session, weekly
from video import MANUAL, provider_for, providers
from video.manual import ManualLink
from video.teams import TeamsProvider
from video.zoom import ZoomProvider

ROOM = "https://meet.example.edu/room/ds-101"


async def test_every_occurrence_gets_the_pasted_link() -> None:
    link = ManualLink()
    assert await link.create(one_session(), join_url=ROOM) == [Meeting("manual", None, None, ROOM)]
    assert await link.create(weekly(count=3), join_url=ROOM) == [Meeting("manual", None, None, ROOM)] * 3
    assert await link.create(weekly(count=2)) == [Meeting("manual", None, None, None)] * 2  # none pasted yet


async def test_moving_or_cancelling_calls_nobody_and_capacity_is_unknown() -> None:
    link = ManualLink()
    meeting = Meeting("manual", None, None, ROOM)
    assert await link.update(meeting, Occurrence(FIRST, 90), topic=TOPIC, timezone=BERLIN, agenda=None) == meeting
    await link.delete(meeting)
    assert await link.capacity() is None


def settings(**fields: object) -> Settings:
    return Settings(
        database_url="sqlite+aiosqlite:///:memory:",
        secret_key="s" * 48,
        public_url="http://localhost:8000",
        **fields,  # type: ignore[arg-type]
    )


def test_only_configured_platforms_get_an_api_provider() -> None:
    assert providers(settings()) == {}
    zoom = ZoomSettings(account_id="acct", client_id="id", client_secret="secret")
    graph = GraphSettings(tenant_id="tenant", client_id="id", client_secret="secret", organizer="user-object-id")

    found = providers(settings(zoom=zoom, msgraph=graph))
    assert set(found) == {"zoom", "teams"}
    assert isinstance(found["zoom"], ZoomProvider) and isinstance(found["teams"], TeamsProvider)
    assert provider_for(found, "zoom") is found["zoom"]
    assert provider_for(found, "teams") is found["teams"]

    only_zoom = providers(settings(zoom=zoom))
    assert set(only_zoom) == {"zoom"}
    for platform in ("teams", "meet", "bbb", "other"):
        assert provider_for(only_zoom, platform) is MANUAL
    assert MANUAL.name == "manual"
