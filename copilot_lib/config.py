"""Settings and the environment variables that set them.

Each environment variable name is defined here once. A value passed as an argument wins
over the environment, which wins over the default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

# Data sources for the dashboard and the command line.
ENV_DATA_DIR = "COPILOT_DATA_DIR"
ENV_STORE = "COPILOT_STORE"
ENV_THEME = "COPILOT_THEME"

# GitHub connection.
ENV_ORG = "GITHUB_ORG"
ENV_ENTERPRISE = "GITHUB_ENTERPRISE"
ENV_APP_CLIENT_ID = "GITHUB_APP_CLIENT_ID"
ENV_APP_ID = "GITHUB_APP_ID"
ENV_APP_PRIVATE_KEY = "GITHUB_APP_PRIVATE_KEY"
ENV_APP_PRIVATE_KEY_PATH = "GITHUB_APP_PRIVATE_KEY_PATH"
ENV_APP_PRIVATE_KEY_SECRET = "GITHUB_APP_PRIVATE_KEY_SECRET"  # noqa: S105 (a variable name)
ENV_APP_INSTALLATION_ID = "GITHUB_APP_INSTALLATION_ID"
ENV_TOKEN = "GITHUB_TOKEN"  # noqa: S105 (a variable name)
ENV_API_URL = "GITHUB_API_URL"

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_STORE = Path("~/.local/share/copilot-dashboard")
DEFAULT_PORT = 8866


def setting(
    value: str | None, name: str, default: str | None = None, environ: Mapping[str, str] | None = None
) -> str | None:
    """Return ``value`` when given, else the environment variable ``name``, else ``default``.

    An empty environment variable counts as unset, so that ``VAR= make run`` clears it.
    """
    if value is not None and value != "":
        return value
    env = os.environ if environ is None else environ
    from_env = env.get(name, "")
    if from_env.strip():
        return from_env.strip()
    return default


def data_dir(value: str | os.PathLike[str] | None = None) -> Path | None:
    """Return the folder of report files to show, or None to show demo data."""
    chosen = setting(os.fspath(value) if value is not None else None, ENV_DATA_DIR)
    return Path(chosen).expanduser() if chosen else None
