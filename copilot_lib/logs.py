"""Logging set-up for the command line, and a filter that removes secrets from log lines.

Verbose output (``-v``, ``-vv``) raises the level of the ``copilot_lib`` loggers only.
Libraries such as botocore and urllib3 log request headers, signed URLs and response bodies
at DEBUG, including the GitHub App private key read from AWS Secrets Manager, so they stay
at WARNING whatever the verbosity.
"""

from __future__ import annotations

import logging
import re

from copilot_lib.secrets import MASK, known_values

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Loggers of third-party libraries that print credentials or signed URLs at DEBUG or INFO.
QUIET_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3", "requests")

# Query parameters that carry a signature or a credential in signed download links (Azure
# SAS ``sig``, ``se``; AWS SigV4 ``X-Amz-*``) and token parameters.
SIGNED_QUERY = re.compile(
    r"(?i)([?&](?:sig|se|signature|x-amz-signature|x-amz-credential|x-amz-security-token|token|access_token)=)"
    r"[^&\s'\"]+"
)
AUTHORIZATION = re.compile(r"(?i)(['\"]?(?:authorization|x-amz-security-token)['\"]?\s*[:=]\s*['\"]?)[^'\"\n]+")
BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9_\-.=]{8,}")
GITHUB_TOKEN = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,})")
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL)


def redact(text: str) -> str:
    """Replace known secret values, private keys, tokens and URL signatures in ``text``."""
    for value in sorted(known_values(), key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    text = PRIVATE_KEY.sub(MASK, text)
    text = SIGNED_QUERY.sub(rf"\g<1>{MASK}", text)
    text = AUTHORIZATION.sub(rf"\g<1>{MASK}", text)
    text = BEARER.sub(rf"\g<1> {MASK}", text)
    return GITHUB_TOKEN.sub(MASK, text)


class RedactSecrets(logging.Filter):
    """A handler filter that rewrites each record's message and traceback through :func:`redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def configure_logging(verbose: int = 0) -> None:
    """Send log lines to stderr through :class:`RedactSecrets`; ``verbose`` 1 is INFO, 2 is DEBUG.

    Like :func:`logging.basicConfig`, it adds a handler only when the root logger has none,
    but it adds the filter to every root handler.
    """
    root = logging.getLogger()
    if not root.handlers:
        stderr = logging.StreamHandler()
        stderr.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(stderr)
        root.setLevel(logging.WARNING)
    for handler in root.handlers:
        if not any(isinstance(existing, RedactSecrets) for existing in handler.filters):
            handler.addFilter(RedactSecrets())
    if verbose > 0:
        logging.getLogger("copilot_lib").setLevel(logging.WARNING - 10 * min(verbose, 2))
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
