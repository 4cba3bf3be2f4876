"""Settings and the environment variables that set them.

Each environment variable name is defined here once. A value passed as an argument wins
over the environment, which wins over the default.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from copilot_lib.errors import ConfigError
from copilot_lib.secrets import Secret

# Data sources for the dashboard and the command line.
ENV_DATA_DIR = "COPILOT_DATA_DIR"
ENV_STORE = "COPILOT_STORE"
ENV_CACHE_DIR = "COPILOT_CACHE_DIR"
ENV_THEME = "COPILOT_THEME"
# Size of the generated demo data the dashboard shows when no data source is set.
ENV_DEMO_USERS = "COPILOT_DEMO_USERS"
ENV_DEMO_DAYS = "COPILOT_DEMO_DAYS"
# Secret key of the dashboard's pseudonyms; without it a random one is kept in a file.
ENV_PSEUDONYM_SALT = "COPILOT_PSEUDONYM_SALT"  # noqa: S105 (a variable name)

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

# The archiver (the Lambda function and `copilot-dashboard archive`).
ENV_ARCHIVE_BUCKET = "COPILOT_ARCHIVE_BUCKET"
ENV_ARCHIVE_PREFIX = "COPILOT_ARCHIVE_PREFIX"
ENV_ARCHIVE_START = "COPILOT_ARCHIVE_START"
ENV_ARCHIVE_DAY_BUDGET = "COPILOT_ARCHIVE_DAY_BUDGET"
ENV_S3_ENDPOINT_URL = "AWS_ENDPOINT_URL_S3"  # read by boto3 itself; named here to document it

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_STORE = Path("~/.local/share/copilot-dashboard")
# Local copies of the table files of a history store on S3, reused while they are unchanged.
DEFAULT_CACHE_DIR = Path("~/.cache/copilot-dashboard")
DEFAULT_PORT = 8866
# The most days one archive run fetches, so that a run ends within Lambda's 15-minute timeout
# (an estimate: about 8 GitHub requests per day, at 8 days in flight).
DEFAULT_ARCHIVE_DAY_BUDGET = 120
DEFAULT_ARCHIVE_CONCURRENCY = 8
# A report day is settled, and GitHub no longer changes it, once this many full UTC days have
# passed since it ended: day D is final from D+4. GitHub's docs say data is usually complete
# within two full days and, on another page, three; the larger figure is used.
SETTLING_DAYS = 3


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


@dataclass(frozen=True)
class GitHubSettings:
    """Where to fetch data from and how to authenticate, after argument > environment > default.

    Exactly one of ``org`` and ``enterprise`` is set. App authentication needs ``app_issuer``
    and one private key source; token authentication needs ``token``. Secrets are held as
    :class:`Secret` so that printing the settings shows no key or token.
    """

    org: str | None
    enterprise: str | None
    api_url: str
    app_issuer: str | None
    private_key: Secret | None
    private_key_path: Path | None
    private_key_secret: str | None
    installation_id: int | None
    token: Secret | None

    @property
    def uses_app(self) -> bool:
        """Whether to authenticate as a GitHub App rather than with a token."""
        return self.app_issuer is not None


def github_settings(
    *,
    org: str | None = None,
    enterprise: str | None = None,
    api_url: str | None = None,
    app_client_id: str | None = None,
    app_id: str | None = None,
    private_key: str | None = None,
    private_key_path: str | None = None,
    private_key_secret: str | None = None,
    installation_id: str | None = None,
    token: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> GitHubSettings:
    """Collect the GitHub settings from arguments and the environment, and check they fit.

    An explicit ``org`` or ``enterprise`` argument replaces both environment variables, so
    ``--enterprise`` on the command line is not contradicted by ``GITHUB_ORG`` in the
    environment. App settings win over ``GITHUB_TOKEN`` when both are present.
    """
    if org or enterprise:
        org_name, enterprise_name = org or None, enterprise or None
    else:
        org_name = setting(None, ENV_ORG, environ=environ)
        enterprise_name = setting(None, ENV_ENTERPRISE, environ=environ)
    if org_name and enterprise_name:
        raise ConfigError(
            f"both {ENV_ORG}={org_name!r} and {ENV_ENTERPRISE}={enterprise_name!r} are set: "
            "set only one, or pass --org or --enterprise"
        )
    if not org_name and not enterprise_name:
        raise ConfigError(f"no organisation or enterprise given: set {ENV_ORG} or {ENV_ENTERPRISE}")

    issuer = setting(app_client_id, ENV_APP_CLIENT_ID, environ=environ) or setting(app_id, ENV_APP_ID, environ=environ)
    key_text = setting(private_key, ENV_APP_PRIVATE_KEY, environ=environ)
    key_path = setting(private_key_path, ENV_APP_PRIVATE_KEY_PATH, environ=environ)
    key_secret = setting(private_key_secret, ENV_APP_PRIVATE_KEY_SECRET, environ=environ)
    token_text = setting(token, ENV_TOKEN, environ=environ)
    if issuer and not (key_text or key_path or key_secret):
        raise ConfigError(
            f"GitHub App {issuer} has no private key: set {ENV_APP_PRIVATE_KEY}, "
            f"{ENV_APP_PRIVATE_KEY_PATH} or {ENV_APP_PRIVATE_KEY_SECRET}"
        )
    if not issuer and not token_text:
        raise ConfigError(
            f"no GitHub credentials: set {ENV_APP_CLIENT_ID} (or {ENV_APP_ID}) with a private key "
            f"for a GitHub App, or {ENV_TOKEN} for a personal access token"
        )
    return GitHubSettings(
        org=org_name,
        enterprise=enterprise_name,
        api_url=_api_url(api_url, environ),
        app_issuer=issuer,
        private_key=Secret(key_text) if key_text else None,
        private_key_path=Path(key_path).expanduser() if key_path else None,
        private_key_secret=key_secret,
        installation_id=_installation_id(setting(installation_id, ENV_APP_INSTALLATION_ID, environ=environ)),
        token=Secret(token_text) if token_text else None,
    )


def _api_url(value: str | None, environ: Mapping[str, str] | None) -> str:
    """Return the GitHub API URL without a trailing slash, after checking it is http(s) with a host."""
    url = setting(value, ENV_API_URL, DEFAULT_API_URL, environ=environ) or DEFAULT_API_URL
    source = "--api-url" if value else ENV_API_URL
    try:
        parts = urllib.parse.urlsplit(url)
        has_host = bool(parts.hostname)
    except ValueError:
        has_host = False
        parts = urllib.parse.SplitResult("", "", "", "", "")
    if parts.scheme not in ("http", "https") or not has_host:
        raise ConfigError(
            f"invalid GitHub API URL {url!r} (from {source}): use an http:// or https:// URL with a host, "
            f"such as {DEFAULT_API_URL}"
        )
    return url.rstrip("/")


DEFAULT_DEMO_USERS = 60
DEFAULT_DEMO_DAYS = 90
MAX_DEMO_USERS = 100_000
MAX_DEMO_DAYS = 730


def demo_size(environ: Mapping[str, str] | None = None) -> tuple[int, int]:
    """Return the number of users and days of demo data from the environment."""
    users = _whole_number(ENV_DEMO_USERS, DEFAULT_DEMO_USERS, MAX_DEMO_USERS, environ)
    days = _whole_number(ENV_DEMO_DAYS, DEFAULT_DEMO_DAYS, MAX_DEMO_DAYS, environ)
    return users, days


def _whole_number(name: str, default: int, largest: int, environ: Mapping[str, str] | None) -> int:
    text = setting(None, name, environ=environ)
    if text is None:
        return default
    # ASCII digits only: int() would also take "+7", "1_000" and other scripts' digits.
    number = int(text) if text.isascii() and text.isdigit() else 0
    if not 1 <= number <= largest:
        raise ConfigError(
            f"{name}={text!r} is not a whole number from 1 to {largest:,}: set one, or unset it for {default}"
        )
    return number


def _installation_id(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise ConfigError(
            f"{ENV_APP_INSTALLATION_ID}={text!r} is not a number: use the numeric id from the "
            "App installation's settings page URL, or unset it to look the installation up"
        ) from None
