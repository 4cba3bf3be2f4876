"""Secret values that stay hidden, and reading them from AWS Secrets Manager.

A :class:`Secret` prints as ``Secret('********')`` in repr, str, f-strings and logs, so a
private key or token cannot leak through an error message or a debug log by accident. Code
that needs the value calls :meth:`Secret.reveal` at the one place it sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from copilot_lib.errors import ConfigError

logger = logging.getLogger(__name__)

MASK = "********"
# Shorter values or key lines are too likely to occur in a message by chance.
MIN_MASKED_LENGTH = 8
# Secret values seen in this process, and each long line of multi-line ones (a PEM key), so
# that the log filter in copilot_lib.logs can remove them from any log line.
_KNOWN_VALUES: set[str] = set()


def known_values() -> frozenset[str]:
    """Return the secret values created in this process, and the long lines of multi-line ones."""
    return frozenset(_KNOWN_VALUES)


def _register(value: str) -> None:
    if len(value) >= MIN_MASKED_LENGTH:
        _KNOWN_VALUES.add(value)
    for line in value.splitlines():
        line = line.strip()
        if len(line) >= 16 and not line.startswith("-----"):
            _KNOWN_VALUES.add(line)


class Secret:
    """A string whose value is masked everywhere except :meth:`reveal`."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value
        _register(value)

    def reveal(self) -> str:
        """Return the secret value; call only where the value is sent or used."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        # Pickling would write the value to disk or a queue in clear text.
        raise TypeError("a Secret cannot be pickled")


def mask(text: str, values: Iterable[str | Secret] = ()) -> str:
    """Return ``text`` with every occurrence of each secret value replaced by the mask.

    Besides ``values``, every :class:`Secret` created in this process is masked. Use it on
    messages built from outside text (an HTTP response, an exception from a library) before
    showing or logging them, since those cannot be relied on to hide a value.
    """
    for value in (*values, *known_values()):
        revealed = value.reveal() if isinstance(value, Secret) else value
        for line in revealed.strip().splitlines() or [revealed]:
            # A private key is masked line by line, so a message quoting part of it is masked too.
            if len(line.strip()) >= MIN_MASKED_LENGTH:
                text = text.replace(line.strip(), MASK)
    return text


def read_aws_secret(secret_id: str) -> Secret:
    """Read a secret string from AWS Secrets Manager by name or ARN.

    NOTE: this is the only place outside the history store that imports boto3. It is
    imported here, lazily, so that users who keep the App's private key in an environment
    variable or a file never need AWS credentials or pay boto3's import time.
    """
    import boto3  # noqa: PLC0415 - lazy on purpose, see the docstring
    from botocore.exceptions import BotoCoreError, ClientError

    logger.info("reading the GitHub App private key from AWS Secrets Manager secret %s", secret_id)
    try:
        response = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)
    except (BotoCoreError, ClientError) as exc:
        raise ConfigError(
            f"cannot read AWS Secrets Manager secret {secret_id!r}: {exc}; check the name or ARN "
            "and that these AWS credentials may call secretsmanager:GetSecretValue on it"
        ) from exc
    value = response.get("SecretString")
    if not isinstance(value, str) or not value:
        raise ConfigError(
            f"AWS Secrets Manager secret {secret_id!r} has no SecretString: store the PEM text "
            "of the GitHub App private key as the secret's string value"
        )
    return Secret(value)
