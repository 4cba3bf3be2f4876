"""The organisation's name, logo and colours, read from the file ``COPILOT_THEME`` names.

The file is JSON, for example::

    {"name": "Acme Ltd", "logo": "acme.svg", "colors": ["#0072B2", "#E69F00"]}

Every key is optional. ``logo`` is a PNG, JPEG or SVG file, relative to the theme file; it is
embedded in the page, so the page loads nothing from elsewhere. ``colors`` replace the start
of the chart palette; the default is the Okabe-Ito palette, which stays readable for
colour-blind viewers, so a replacement should be checked for that too.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from copilot_lib import config
from copilot_lib.charts import PALETTE
from copilot_lib.errors import ConfigError

DEFAULT_NAME = "GitHub Copilot usage"
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
LOGO_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
}
MAX_LOGO_BYTES = 512 * 1024


@dataclass(frozen=True)
class Theme:
    """The dashboard's title, logo and chart colours."""

    name: str = DEFAULT_NAME
    logo_data_uri: str | None = None
    colors: tuple[str, ...] = PALETTE


def load_theme(environ: Mapping[str, str] | None = None) -> Theme:
    """Read the theme file ``COPILOT_THEME`` names, or return the neutral default."""
    env = os.environ if environ is None else environ
    chosen = config.setting(None, config.ENV_THEME, environ=env)
    if not chosen:
        return Theme()
    path = Path(chosen).expanduser()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"theme file {str(path)!r} not found: fix {config.ENV_THEME} or unset it") from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"theme file {str(path)!r} is not valid JSON ({exc}): fix it or unset {config.ENV_THEME}"
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"theme file {str(path)!r} must hold a JSON object with name, logo and colors")
    return Theme(
        name=str(data.get("name") or DEFAULT_NAME),
        logo_data_uri=_logo(path.parent, data.get("logo")),
        colors=_colors(path, data.get("colors")),
    )


def _colors(path: Path, value: object) -> tuple[str, ...]:
    if value is None:
        return PALETTE
    if not isinstance(value, list) or not all(isinstance(item, str) and COLOR.match(item) for item in value):
        raise ConfigError(f"theme file {str(path)!r}: colors must be a list of '#rrggbb' strings, not {value!r}")
    return tuple(value) + PALETTE[len(value) :]


def _logo(folder: Path, value: object) -> str | None:
    if value is None or value == "":
        return None
    logo = (folder / str(value)).expanduser()
    media_type = LOGO_TYPES.get(logo.suffix.lower())
    if media_type is None:
        raise ConfigError(f"theme logo {str(logo)!r} must be a .png, .jpg or .svg file")
    try:
        payload = logo.read_bytes()
    except OSError as exc:
        raise ConfigError(f"theme logo {str(logo)!r} cannot be read ({exc}): fix the path in the theme file") from exc
    if len(payload) > MAX_LOGO_BYTES:
        raise ConfigError(f"theme logo {str(logo)!r} is larger than {MAX_LOGO_BYTES // 1024} KiB: use a smaller file")
    return f"data:{media_type};base64,{base64.b64encode(payload).decode('ascii')}"
