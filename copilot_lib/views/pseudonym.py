"""Stable aliases that replace logins when the dashboard is shown or exported pseudonymised."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

import pandas as pd

from copilot_lib.config import ENV_PSEUDONYM_SALT, setting

logger = logging.getLogger(__name__)

DEFAULT_SALT_FILE = Path("~/.local/share/copilot-dashboard/pseudonym-salt")
# Eight hex digits (2**32 values) make a clash between two of 50,000 users unlikely
# (about a one in four chance that any pair clashes).
ALIAS_HEX_DIGITS = 8

_salt: bytes | None = None
# Aliases already computed with the current salt, by user id.
_aliases: dict[int, str] = {}


def salt() -> bytes:
    """Return this installation's salt: COPILOT_PSEUDONYM_SALT, else a random one kept in a file.

    The file is created on first use, so aliases stay the same across restarts of one
    installation and differ between installations.
    """
    global _salt
    if _salt is not None:
        return _salt
    _aliases.clear()
    configured = setting(None, ENV_PSEUDONYM_SALT)
    if configured:
        _salt = configured.encode()
        return _salt
    path = DEFAULT_SALT_FILE.expanduser()
    try:
        _salt = path.read_bytes().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_hex(32).encode()
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
            handle.write(value)
        logger.info("created a pseudonym salt in %s", path)
        _salt = value
    return _salt


def alias(user_id: int) -> str:
    """Return the alias of a user: ``user-`` and the first hex digits of an HMAC of the id."""
    key = salt()
    cached = _aliases.get(int(user_id))
    if cached is not None:
        return cached
    digest = hmac.new(key, str(int(user_id)).encode(), hashlib.sha256).hexdigest()
    name = f"user-{digest[:ALIAS_HEX_DIGITS]}"
    _aliases[int(user_id)] = name
    return name


def alias_logins(user_ids: pd.Series, logins: pd.Series) -> pd.Series:
    """Return aliases in place of logins; a row without a user id gets ``user-unknown``."""
    values = []
    for user_id in user_ids.tolist():
        if user_id is None or user_id is pd.NA or (isinstance(user_id, float) and user_id != user_id):
            values.append("user-unknown")
        else:
            values.append(alias(user_id))
    return pd.Series(values, index=logins.index, dtype="string", name=logins.name)
