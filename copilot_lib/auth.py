"""Authenticate to GitHub as a GitHub App installation or with a personal access token.

A GitHub App proves itself with a JWT signed by its private key (RS256), finds its
installation on the organisation or enterprise, and exchanges the JWT for an installation
token that lasts one hour. The token is reused until five minutes before it expires and
minted again once when GitHub rejects it. Rules from GitHub's docs page "Generating a JSON
Web Token (JWT) for a GitHub App": ``iat`` 60 s in the past to absorb clock skew, ``exp`` at
most 10 minutes ahead, ``iss`` the App's client ID (a string) or its numeric App ID.

This module sends no HTTP itself: the HTTP client passes a :data:`Send` function, so the
token calls get the same timeouts, retries and error mapping as every other call.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from copilot_lib import config
from copilot_lib.config import GitHubSettings
from copilot_lib.errors import AccountNotFoundError, AuthenticationError, ConfigError, NotFoundError
from copilot_lib.secrets import Secret, read_aws_secret

logger = logging.getLogger(__name__)

JWT_BACKDATE_SECONDS = 60
JWT_LIFETIME_SECONDS = 9 * 60
TOKEN_REFRESH_MARGIN_SECONDS = 5 * 60

# ``send(method, path, authorization)`` performs one GitHub API call and returns the decoded
# JSON body, raising a GitHubError subclass on an error status.
Send = Callable[[str, str, str], Any]
Clock = Callable[[], float]


class Auth(Protocol):
    """What the HTTP client needs from a credential."""

    def authorization(self, send: Send) -> str:
        """Return the ``Authorization`` header value, fetching a fresh token when needed."""
        ...

    def invalidate(self, rejected: str) -> bool:
        """Forget the token behind the rejected header value; return whether a new one can be had.

        Concurrent requests rejected with the same token forget it once, so one new token
        serves them all.
        """
        ...


class TokenAuth:
    """A personal access token (classic or fine-grained), sent as a Bearer token."""

    def __init__(self, token: Secret):
        self._token = token

    def authorization(self, send: Send) -> str:
        return f"Bearer {self._token.reveal()}"

    def invalidate(self, rejected: str) -> bool:
        return False

    def __repr__(self) -> str:
        return "TokenAuth(token=Secret('********'))"


def parse_issuer(issuer: str | int) -> str | int:
    """Return the JWT ``iss`` claim: an App ID as an integer, a client ID as a string."""
    if isinstance(issuer, int):
        return issuer
    text = issuer.strip()
    return int(text) if text.isdigit() else text


def load_private_key(pem: Secret, source: str) -> RSAPrivateKey:
    """Parse an RSA private key in PEM form (PKCS#1 or PKCS#8), or raise ConfigError.

    ``source`` names where the key came from, for the error message; the key text itself is
    never put in a message.
    """
    text = pem.reveal()
    if "\\n" in text and "\n" not in text:
        # Keys pasted into one-line environment variables often carry literal "\n".
        text = text.replace("\\n", "\n")
    try:
        key = load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError) as exc:
        # The exception text from cryptography does not contain key material.
        raise ConfigError(
            f"the GitHub App private key from {source} is not a valid PEM private key ({exc}); "
            "download a new .pem file from the App's settings page"
        ) from None
    if not isinstance(key, RSAPrivateKey):
        raise ConfigError(
            f"the GitHub App private key from {source} is not an RSA key: GitHub Apps sign "
            "their JWTs with RS256, so use the .pem file GitHub generated"
        )
    return key


def private_key_from_settings(settings: GitHubSettings) -> RSAPrivateKey:
    """Load the App's private key from PEM text, a file or AWS Secrets Manager, in that order."""
    if settings.private_key is not None:
        return load_private_key(settings.private_key, config.ENV_APP_PRIVATE_KEY)
    if settings.private_key_path is not None:
        path = settings.private_key_path
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigError(
                f"cannot read the GitHub App private key file {str(path)!r} "
                f"({exc.strerror}): fix {config.ENV_APP_PRIVATE_KEY_PATH}"
            ) from None
        return load_private_key(Secret(text), f"file {str(path)!r}")
    if settings.private_key_secret is not None:
        secret = read_aws_secret(settings.private_key_secret)
        return load_private_key(secret, f"AWS secret {settings.private_key_secret!r}")
    raise ConfigError(
        f"no GitHub App private key: set {config.ENV_APP_PRIVATE_KEY}, "
        f"{config.ENV_APP_PRIVATE_KEY_PATH} or {config.ENV_APP_PRIVATE_KEY_SECRET}"
    )


class AppAuth:
    """A GitHub App installation on one organisation or enterprise.

    Thread-safe: concurrent page requests share one cached installation token.
    """

    def __init__(
        self,
        *,
        issuer: str | int,
        private_key: RSAPrivateKey,
        org: str | None = None,
        enterprise: str | None = None,
        installation_id: int | None = None,
        clock: Clock = time.time,
    ):
        if (org is None) == (enterprise is None) and installation_id is None:
            raise ConfigError("AppAuth needs exactly one of org and enterprise, or an installation_id")
        self.issuer = parse_issuer(issuer)
        self.org = org
        self.enterprise = enterprise
        self.installation_id = installation_id
        self._private_key = private_key
        self._clock = clock
        self._lock = threading.Lock()
        self._token: Secret | None = None
        self._expires_at = 0.0

    def __repr__(self) -> str:
        return (
            f"AppAuth(issuer={self.issuer!r}, org={self.org!r}, enterprise={self.enterprise!r}, "
            f"installation_id={self.installation_id!r})"
        )

    def jwt(self) -> str:
        """Return a JWT for App-level calls, signed RS256, valid for the next nine minutes."""
        now = int(self._clock())
        claims = {
            "iat": now - JWT_BACKDATE_SECONDS,
            "exp": now + JWT_LIFETIME_SECONDS,
            "iss": self.issuer,
        }
        # PyJWT's jwt.encode rejects an integer ``iss`` since 2.10, but GitHub documents the
        # numeric App ID as an integer, so the claims are serialised here and signed as JWS.
        payload = json.dumps(claims, separators=(",", ":")).encode()
        return jwt.PyJWS().encode(payload, self._private_key, algorithm="RS256")

    def authorization(self, send: Send) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - TOKEN_REFRESH_MARGIN_SECONDS:
                self._mint(send)
            assert self._token is not None
            return f"Bearer {self._token.reveal()}"

    def invalidate(self, rejected: str) -> bool:
        with self._lock:
            if self._token is not None and rejected == f"Bearer {self._token.reveal()}":
                self._token = None
                self._expires_at = 0.0
        return True

    def _mint(self, send: Send) -> None:
        installation_id = self._installation_id(send)
        body = self._app_call(send, "POST", f"/app/installations/{installation_id}/access_tokens")
        try:
            token = body["token"]
            expires_at = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise AuthenticationError(
                f"GitHub returned no usable installation token for installation {installation_id} "
                f"(missing or malformed {exc}); retry, and report it if it persists"
            ) from None
        self._token = Secret(token)
        self._expires_at = expires_at.timestamp()
        logger.info(
            "minted an installation token for installation %s, expires at %s",
            installation_id,
            body["expires_at"],
        )

    def _installation_id(self, send: Send) -> int:
        if self.installation_id is not None:
            return self.installation_id
        if self.org is not None:
            account, path = f"organisation {self.org!r}", f"/orgs/{self.org}/installation"
        else:
            account, path = (
                f"enterprise {self.enterprise!r}",
                f"/enterprises/{self.enterprise}/installation",
            )
        try:
            body = self._app_call(send, "GET", path)
        except NotFoundError as exc:
            raise AccountNotFoundError(
                f"GitHub App {self.issuer} is not installed on {account}, or {account} does not exist: "
                f"check the name, install the App there, or set {config.ENV_APP_INSTALLATION_ID} "
                "to the installation id",
                status=exc.status,
                url=exc.url,
                request_id=exc.request_id,
            ) from exc
        self.installation_id = int(body["id"])
        logger.info(
            "found installation %s of GitHub App %s on %s",
            self.installation_id,
            self.issuer,
            account,
        )
        return self.installation_id

    def _app_call(self, send: Send, method: str, path: str) -> Any:
        try:
            return send(method, path, f"Bearer {self.jwt()}")
        except AuthenticationError as exc:
            raise AuthenticationError(
                f"GitHub rejected the JWT of GitHub App {self.issuer!r}: check "
                f"{config.ENV_APP_CLIENT_ID} or {config.ENV_APP_ID}, that the private key belongs "
                "to this App, and that this machine's clock is correct",
                status=exc.status,
                url=exc.url,
                request_id=exc.request_id,
            ) from exc


def auth_from_settings(settings: GitHubSettings, clock: Clock = time.time) -> Auth:
    """Build the credential the settings describe: a GitHub App if configured, else a token."""
    if settings.app_issuer is not None:
        return AppAuth(
            issuer=settings.app_issuer,
            private_key=private_key_from_settings(settings),
            org=settings.org,
            enterprise=settings.enterprise,
            installation_id=settings.installation_id,
            clock=clock,
        )
    if settings.token is not None:
        return TokenAuth(settings.token)
    raise ConfigError(
        f"no GitHub credentials: set {config.ENV_APP_CLIENT_ID} (or {config.ENV_APP_ID}) with a "
        f"private key, or {config.ENV_TOKEN}"
    )
