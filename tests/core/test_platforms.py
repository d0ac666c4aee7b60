"""core.platforms: the built-in catalogue, and a TOML file replacing it, checked key by key."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import platforms
from core.settings import Settings, SettingsError

GOOD = """
[platforms.zoom]
name = "Zoom (our licence)"
capacity = 1000
features = ["screen_share", "recording"]

[platforms.jitsi]
name = "Jitsi"
"""


def test_the_built_in_catalogue_has_the_contracts_ids_and_only_known_features() -> None:
    assert [p.id for p in platforms.BUILT_IN] == ["zoom", "teams", "meet", "bbb", "other"]
    for p in platforms.BUILT_IN:
        assert set(p.features) <= set(platforms.FEATURES)
        assert p.capacity is None or p.capacity > 0
    assert platforms.BUILT_IN[0].view() == {
        "id": "zoom",
        "name": "Zoom",
        "capacity": 300,
        "features": list(platforms.FEATURES),
    }


def test_a_file_replaces_the_catalogue_in_its_order() -> None:
    zoom, jitsi = platforms.parse(GOOD)
    assert (zoom.id, zoom.name, zoom.capacity, zoom.features) == (
        "zoom",
        "Zoom (our licence)",
        1000,
        ("screen_share", "recording"),
    )
    assert (jitsi.capacity, jitsi.features) == (None, ())  # left out: not known, nothing offered


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[platforms.zoom\nname = 1", "not valid TOML"),
        ("title = 'x'\n[platforms.zoom]\nname = 'Z'", "title: unknown key"),
        ("", "platforms: at least one"),
        ("platforms = 3", "platforms: at least one"),
        ("[platforms.Zoom]\nname = 'Z'", "platforms.Zoom: an id"),
        ("[platforms]\nzoom = 3", "platforms.zoom: must be a table"),
        ("[platforms.zoom]\nname = 'Z'\ncapcity = 3", "platforms.zoom.capcity: unknown key"),
        ("[platforms.zoom]\ncapacity = 3", "platforms.zoom.name"),
        ("[platforms.zoom]\nname = ' '", "platforms.zoom.name"),
        ("[platforms.zoom]\nname = 'Z'\ncapacity = '300'", "platforms.zoom.capacity"),
        ("[platforms.zoom]\nname = 'Z'\ncapacity = 0", "platforms.zoom.capacity"),
        ("[platforms.zoom]\nname = 'Z'\ncapacity = 2.5", "platforms.zoom.capacity"),
        ("[platforms.zoom]\nname = 'Z'\ncapacity = true", "platforms.zoom.capacity"),
        ("[platforms.zoom]\nname = 'Z'\nfeatures = 'polls'", "platforms.zoom.features: a list"),
        ("[platforms.zoom]\nname = 'Z'\nfeatures = ['polls', 'telepathy']", "platforms.zoom.features[1]: 'telepathy'"),
        ("[platforms.zoom]\nname = 'Z'\nfeatures = ['polls', 'polls']", "listed twice"),
    ],
)
def test_a_bad_file_is_refused_naming_the_bad_key(text: str, names: str) -> None:
    with pytest.raises(platforms.CatalogueError) as e:
        platforms.parse(text)
    assert names in str(e.value)


def test_settings_read_the_file_and_refuse_a_bad_or_missing_one(tmp_path: Path) -> None:
    env = {"COMPANION_DATA_DIR": str(tmp_path / "var")}
    assert Settings.from_env(env).platforms == platforms.BUILT_IN
    good = tmp_path / "platforms.toml"
    good.write_text(GOOD, encoding="utf-8")
    assert [p.id for p in Settings.from_env({**env, "COMPANION_PLATFORMS": str(good)}).platforms] == ["zoom", "jitsi"]
    bad = tmp_path / "bad.toml"
    bad.write_text("[platforms.zoom]\nname = 'Z'\ncapacity = -1\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"COMPANION_PLATFORMS \(.*bad.toml\): platforms.zoom.capacity"):
        Settings.from_env({**env, "COMPANION_PLATFORMS": str(bad)})
    with pytest.raises(SettingsError, match="COMPANION_PLATFORMS: cannot read"):
        Settings.from_env({**env, "COMPANION_PLATFORMS": str(tmp_path / "missing.toml")})
