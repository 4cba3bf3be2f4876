"""Errors raised by copilot_lib.

Every error is a :class:`CopilotDashboardError`, so a caller can catch the whole family in one
place. Messages name the offending value and say what to do next; none of them carries a
secret, because callers log them and the dashboard shows them.
"""

from __future__ import annotations

from datetime import datetime


class CopilotDashboardError(Exception):
    """Base class of every error copilot_lib raises on purpose."""


class ConfigError(CopilotDashboardError):
    """A setting is missing, malformed or contradicts another setting."""


class ReportFormatError(CopilotDashboardError):
    """A report file cannot be read as any of the accepted forms."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")
        self.detail = message
        self.path = path
        self.line = line


class DataDirError(CopilotDashboardError):
    """A data folder is missing, unreadable or contains no report files."""


class ExportError(CopilotDashboardError):
    """The export folder cannot be created or written."""


class GitHubError(CopilotDashboardError):
    """GitHub answered with an error status, or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        url: str | None = None,
        request_id: str | None = None,
    ):
        details = []
        if status is not None:
            details.append(f"HTTP {status}")
        if request_id:
            details.append(f"x-github-request-id {request_id}")
        suffix = f" ({', '.join(details)})" if details else ""
        super().__init__(f"{message}{suffix}")
        self.status = status
        self.url = url
        self.request_id = request_id


class GitHubUnreachableError(GitHubError):
    """No connection to GitHub could be made, even after the client's retries."""


class AuthenticationError(GitHubError):
    """GitHub rejected the credentials (HTTP 401), or the credentials are unusable."""


class PermissionDeniedError(GitHubError):
    """The credentials are valid but lack a permission or scope (HTTP 403)."""


class NotFoundError(GitHubError):
    """The resource does not exist or is hidden from these credentials (HTTP 404)."""


class AccountNotFoundError(NotFoundError):
    """The organisation or enterprise is unknown to GitHub, or the GitHub App is not installed on it.

    A report endpoint's 404 means "no report for this day" only for an account that exists, so
    this error stops a run instead of counting its days as not available.
    """


class RateLimitError(GitHubError):
    """GitHub's rate limit would need a longer wait than the configured maximum."""

    def __init__(self, message: str, *, retry_at: datetime | None = None, **kwargs: object):
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_at = retry_at


class StoreError(CopilotDashboardError):
    """The history store could not be read or written."""


class DayOutOfRangeError(ConfigError):
    """A requested report day lies before GitHub's first report day or after yesterday (UTC)."""


class ReportLinkExpiredError(GitHubError):
    """A report download link was rejected by the storage host, usually because it expired."""


class ReleasedTableError(CopilotDashboardError):
    """Code read a table whose frame was released to save memory."""
