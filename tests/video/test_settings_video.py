"""COMPANION_ZOOM_* and COMPANION_MSGRAPH_*: all credentials or none, URLs that keep a secret safe."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import GraphSettings, Settings, SettingsError, ZoomSettings

ZOOM = {
    "COMPANION_ZOOM_ACCOUNT_ID": "AbCdEfGhIjKlMnOp",
    "COMPANION_ZOOM_CLIENT_ID": "zoom-client-id",
    "COMPANION_ZOOM_CLIENT_SECRET": "zoom-client-secret",
}
GRAPH = {
    "COMPANION_MSGRAPH_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47",
    "COMPANION_MSGRAPH_CLIENT_ID": "5d1b5f4e-0c8b-4b8e-9d1c-6c3a9c2f0a11",
    "COMPANION_MSGRAPH_CLIENT_SECRET": "graph-client-secret",
    "COMPANION_MSGRAPH_ORGANIZER": "550fae72-d251-43ec-868c-373732c2704f",
}


def read(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"COMPANION_DATA_DIR": str(tmp_path), **env})


def test_neither_is_configured_by_default(tmp_path: Path) -> None:
    settings = read(tmp_path)
    assert (settings.zoom, settings.msgraph) == (None, None)


def test_zoom_with_its_three_credentials_and_the_documented_urls(tmp_path: Path) -> None:
    assert read(tmp_path, **ZOOM).zoom == ZoomSettings(
        account_id="AbCdEfGhIjKlMnOp",
        client_id="zoom-client-id",
        client_secret="zoom-client-secret",
        api_url="https://api.zoom.us/v2",
        oauth_url="https://zoom.us/oauth/token",
    )


@pytest.mark.parametrize("missing", sorted(ZOOM))
def test_zoom_with_a_credential_missing_names_it(tmp_path: Path, missing: str) -> None:
    env = {**ZOOM, missing: " "}  # blank counts as unset
    with pytest.raises(SettingsError, match=f"^{missing} is missing: set all of COMPANION_ZOOM_"):
        read(tmp_path, **env)


def test_urls_can_point_at_a_stand_in_on_this_machine(tmp_path: Path) -> None:
    zoom = read(
        tmp_path,
        **ZOOM,
        COMPANION_ZOOM_API_URL="http://127.0.0.1:8123/v2/",
        COMPANION_ZOOM_OAUTH_URL="http://localhost:8123/oauth/token",
    ).zoom
    assert zoom is not None
    assert (zoom.api_url, zoom.oauth_url) == ("http://127.0.0.1:8123/v2", "http://localhost:8123/oauth/token")


@pytest.mark.parametrize("url", ["http://zoom.example.org/v2", "ftp://api.zoom.us/v2", "api.zoom.us/v2", "https://"])
def test_a_secret_goes_over_https_only(tmp_path: Path, url: str) -> None:
    with pytest.raises(SettingsError, match=r"^COMPANION_ZOOM_API_URL must be an https:// URL"):
        read(tmp_path, **ZOOM, COMPANION_ZOOM_API_URL=url)


def test_graph_with_its_four_settings_and_the_documented_urls(tmp_path: Path) -> None:
    assert read(tmp_path, **GRAPH).msgraph == GraphSettings(
        tenant_id="72f988bf-86f1-41af-91ab-2d7cd011db47",
        client_id="5d1b5f4e-0c8b-4b8e-9d1c-6c3a9c2f0a11",
        client_secret="graph-client-secret",
        organizer="550fae72-d251-43ec-868c-373732c2704f",
        api_url="https://graph.microsoft.com/v1.0",
        login_url="https://login.microsoftonline.com",
        capacity=None,
    )


@pytest.mark.parametrize("missing", sorted(GRAPH))
def test_graph_with_a_setting_missing_names_it(tmp_path: Path, missing: str) -> None:
    env = {k: v for k, v in GRAPH.items() if k != missing}
    with pytest.raises(SettingsError, match=f"^{missing} is missing: set all of COMPANION_MSGRAPH_"):
        read(tmp_path, **env)


def test_graph_urls_and_capacity(tmp_path: Path) -> None:
    graph = read(
        tmp_path,
        **GRAPH,
        COMPANION_MSGRAPH_API_URL="http://127.0.0.1:9000/v1.0",
        COMPANION_MSGRAPH_LOGIN_URL="http://127.0.0.1:9000",
        COMPANION_MSGRAPH_CAPACITY="250",
    ).msgraph
    assert graph is not None
    assert (graph.api_url, graph.login_url, graph.capacity) == (
        "http://127.0.0.1:9000/v1.0",
        "http://127.0.0.1:9000",
        250,
    )


@pytest.mark.parametrize("capacity", ["0", "-5", "lots", "2.5", "²", "1000001"])
def test_a_capacity_is_a_whole_number_of_people(tmp_path: Path, capacity: str) -> None:
    with pytest.raises(SettingsError, match=r"^COMPANION_MSGRAPH_CAPACITY: a whole number of people"):
        read(tmp_path, **GRAPH, COMPANION_MSGRAPH_CAPACITY=capacity)


def test_secrets_stay_out_of_the_settings_repr(tmp_path: Path) -> None:
    text = repr(read(tmp_path, **ZOOM, **GRAPH))
    assert "zoom-client-id" in text and "zoom-client-secret" not in text and "graph-client-secret" not in text
