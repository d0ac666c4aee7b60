"""GET /api/platforms: the catalogue staff pick a session's platform from, built in or from a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core import platforms
from tests.support import Server, ok, refused, running_server


async def test_staff_read_the_built_in_catalogue(server: Server) -> None:
    support = await server.token("support", "Sam", "support@example.org")
    instructor = await server.token("instructor", "Iris", "teacher@example.org")
    for token in (server.admin_token, support, instructor):
        answer = ok(await server.api("GET", "/api/platforms", token=token))
        assert [p["id"] for p in answer["platforms"]] == ["zoom", "teams", "meet", "bbb", "other"]
    other = answer["platforms"][-1]
    assert other == {"id": "other", "name": "Other", "capacity": None, "features": []}
    session = await server.session()
    (person,) = await server.participants(session["id"], 1)
    refused(await server.api("GET", "/api/platforms", token=person["token"]), "forbidden")
    refused(await server.http.get("/api/platforms"), "unauthorized")


async def test_a_catalogue_file_replaces_the_built_in_one(tmp_path: Path, backing: dict[str, Any]) -> None:
    catalogue = platforms.parse('[platforms.jitsi]\nname = "Jitsi Meet"\ncapacity = 75\nfeatures = ["screen_share"]\n')
    async with running_server(tmp_path, platforms=catalogue, **backing) as srv:
        answer = ok(await srv.api("GET", "/api/platforms"))
    assert answer == {
        "platforms": [{"id": "jitsi", "name": "Jitsi Meet", "capacity": 75, "features": ["screen_share"]}]
    }
