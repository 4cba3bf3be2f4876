"""Lambda entry point: read the settings from the environment and run one archive run.

The function is thin on purpose: every step is library code in copilot_lib.archive, which
the command line runs too. Environment variables:

- ``COPILOT_ARCHIVE_BUCKET`` (required) and ``COPILOT_ARCHIVE_PREFIX`` (default ``copilot``):
  where the history store lives;
- ``GITHUB_ORG`` or ``GITHUB_ENTERPRISE``: whose history to keep;
- ``GITHUB_APP_CLIENT_ID`` (or ``GITHUB_APP_ID``) and ``GITHUB_APP_PRIVATE_KEY_SECRET``, the
  name or ARN of the Secrets Manager secret holding the App's private key (PEM text);
- optional ``COPILOT_ARCHIVE_START`` (first day to keep, YYYY-MM-DD) and
  ``COPILOT_ARCHIVE_DAY_BUDGET`` (the most days one run fetches, default 120).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import date
from typing import Any

import orjson

from copilot_lib import config
from copilot_lib.archive import DEFAULT_DAY_BUDGET, ArchiveFailedError, archive_from_settings
from copilot_lib.errors import ConfigError
from copilot_lib.logs import configure_logging
from copilot_lib.store import S3Store

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "copilot"


def handler(event: Mapping[str, Any] | None, context: Any) -> dict[str, Any]:
    """Run one archive run and return its summary; raise when any day or snapshot failed.

    Raising makes Lambda mark the invocation failed, which CloudWatch alarms and the
    EventBridge retry policy act on.
    """
    # Lambda's root logger passes only warnings by default; the step lines are INFO.
    configure_logging()
    for name in ("copilot_lib", "lambda_archiver"):
        logging.getLogger(name).setLevel(logging.INFO)
    environ = os.environ
    request_id = getattr(context, "aws_request_id", None)
    bucket = config.setting(None, config.ENV_ARCHIVE_BUCKET, environ=environ)
    if not bucket:
        raise ConfigError(f"{config.ENV_ARCHIVE_BUCKET} is not set: set it to the archive bucket's name")
    prefix = config.setting(None, config.ENV_ARCHIVE_PREFIX, DEFAULT_PREFIX, environ=environ) or ""
    settings = config.github_settings(environ=environ)
    store = S3Store(bucket, prefix)
    options = _run_options(environ)
    _log("start", request_id=request_id, store=store.url, org=settings.org, enterprise=settings.enterprise)
    try:
        summary = archive_from_settings(settings, store, **options)
    except ArchiveFailedError as exc:
        _log("finish", request_id=request_id, **exc.summary.as_dict())
        raise
    result = summary.as_dict()
    _log("finish", request_id=request_id, **result)
    return result


def _run_options(environ: Mapping[str, str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    start = config.setting(None, config.ENV_ARCHIVE_START, environ=environ)
    if start:
        try:
            options["since"] = date.fromisoformat(start)
        except ValueError as exc:
            raise ConfigError(f"{config.ENV_ARCHIVE_START}={start!r} is not a date: use YYYY-MM-DD") from exc
    budget = config.setting(None, config.ENV_ARCHIVE_DAY_BUDGET, str(DEFAULT_DAY_BUDGET), environ=environ)
    try:
        options["budget"] = int(budget or DEFAULT_DAY_BUDGET)
    except ValueError as exc:
        raise ConfigError(f"{config.ENV_ARCHIVE_DAY_BUDGET}={budget!r} is not a whole number of days") from exc
    return options


def _log(step: str, **fields: Any) -> None:
    logger.info("%s", orjson.dumps({"step": step, **fields}, default=str).decode())
