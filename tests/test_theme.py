"""The COPILOT_THEME file: name, logo and colours, with a neutral default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot_lib import charts, theme
from copilot_lib.errors import ConfigError

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'


def test_default_theme_without_setting() -> None:
    chosen = theme.load_theme({})

    assert chosen.name == theme.DEFAULT_NAME
    assert chosen.logo_data_uri is None
    assert chosen.colors == charts.PALETTE


def test_theme_file_sets_name_logo_and_colors(tmp_path: Path) -> None:
    (tmp_path / "logo.svg").write_bytes(SVG)
    path = tmp_path / "theme.json"
    path.write_text(json.dumps({"name": "Acme Ltd", "logo": "logo.svg", "colors": ["#123456"]}))

    chosen = theme.load_theme({"COPILOT_THEME": str(path)})

    assert chosen.name == "Acme Ltd"
    assert chosen.logo_data_uri is not None
    assert chosen.logo_data_uri.startswith("data:image/svg+xml;base64,")
    assert chosen.colors[0] == "#123456"
    assert chosen.colors[1:] == charts.PALETTE[1:]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"colors": ["red"]}', "#rrggbb"),
        ('{"logo": "logo.gif"}', ".png, .jpg or .svg"),
        ('{"logo": "absent.png"}', "cannot be read"),
    ],
)
def test_invalid_theme_file_is_rejected(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "theme.json"
    path.write_text(content)

    with pytest.raises(ConfigError, match=message):
        theme.load_theme({"COPILOT_THEME": str(path)})


def test_missing_theme_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        theme.load_theme({"COPILOT_THEME": str(tmp_path / "absent.json")})
