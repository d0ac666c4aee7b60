"""Booking sessions' meetings on their video platforms: one provider per configured platform.

A platform with an API configured (Zoom: COMPANION_ZOOM_*, Microsoft Teams: COMPANION_MSGRAPH_*)
gets its adapter; every other platform, and these two when unconfigured, uses the manual link
(the admin pastes the join URL). docs/video-platforms.md says what each one sends.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.settings import Settings
from core.video import VideoProvider
from video.manual import ManualLink
from video.teams import TeamsProvider
from video.zoom import ZoomProvider

# Stateless: one is enough for every platform without an API.
MANUAL = ManualLink()


def providers(settings: Settings) -> dict[str, VideoProvider]:
    """The API-backed providers the settings configure, keyed by platform id ("zoom", "teams")."""
    found: dict[str, VideoProvider] = {}
    if settings.zoom is not None:
        found["zoom"] = ZoomProvider(settings.zoom)
    if settings.msgraph is not None:
        found["teams"] = TeamsProvider(settings.msgraph)
    return found


def provider_for(providers: Mapping[str, VideoProvider], platform_id: str) -> VideoProvider:
    """The provider that books meetings on `platform_id`: its API adapter, or the manual link."""
    return providers.get(platform_id, MANUAL)
