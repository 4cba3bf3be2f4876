"""The data and controls of the fake GitHub server: accounts, reports, faults, recorded requests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

# Permissions a GitHub App installation gets unless a test passes others.
ORG_PERMISSIONS = {
    "organization_copilot_metrics": "read",
    "organization_copilot_seat_management": "read",
    "members": "read",
}
ENTERPRISE_PERMISSIONS = {"enterprise_copilot_metrics": "read"}


class FakeClock:
    """A clock that tests move by hand; starts at the real time unless given ``start``."""

    def __init__(self, start: float | None = None):
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        with self._lock:
            self._now += seconds

    def today(self) -> date:
        """Return the clock's current date in UTC."""
        return datetime.fromtimestamp(self(), UTC).date()


class NotReady(StrEnum):
    """The forms in which GitHub reports that a report is not available."""

    NOT_FOUND = "404"
    NO_CONTENT = "204"
    MESSAGE = "message"


NOT_READY_MESSAGE = "No report available for this day"


@dataclass
class Fault:
    """One misbehaviour served instead of (or on top of) the normal response to one request.

    ``status`` replaces the response with that status, ``headers`` and ``body``; ``delay``
    sleeps before responding; ``truncate`` sends the normal headers but only half the body and
    closes the connection; ``drop`` closes the connection without any response;
    ``expired_links`` serves a report envelope whose download links have already expired.
    """

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    truncate: bool = False
    drop: bool = False
    expired_links: bool = False

    @classmethod
    def rate_limited(
        cls,
        *,
        retry_after: int | None = None,
        reset_at: float | None = None,
        status: int = 403,
        message: str = "API rate limit exceeded",
    ) -> Fault:
        """Return a primary (``reset_at``), ``retry-after`` or secondary rate-limit fault."""
        headers: dict[str, str] = {}
        if retry_after is not None:
            headers["retry-after"] = str(retry_after)
        if reset_at is not None:
            headers["x-ratelimit-remaining"] = "0"
            headers["x-ratelimit-reset"] = str(int(reset_at))
        return cls(status=status, headers=headers, body={"message": message})


@dataclass
class RecordedRequest:
    """A request the server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int | None = None


@dataclass
class FakeAccount:
    """An organisation or enterprise with its App installation and its Copilot data."""

    login: str
    id: int
    kind: str  # "Organization" or "Enterprise"
    installation_id: int | None
    permissions: dict[str, str]
    seats: list[dict[str, Any]] = field(default_factory=list)
    billing: dict[str, Any] | None = None
    teams: list[dict[str, Any]] = field(default_factory=list)
    # (report name, day or None for 28-day) -> parts of records, or a NotReady form.
    reports: dict[tuple[str, str | None], list[list[dict[str, Any]]] | NotReady] = field(default_factory=dict)
    report_windows: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def is_enterprise(self) -> bool:
        return self.kind == "Enterprise"


@dataclass
class IssuedToken:
    """An installation token the server minted."""

    installation_id: int
    account: FakeAccount
    expires_at: float


def split_parts(records: list[dict[str, Any]], parts: int) -> list[list[dict[str, Any]]]:
    """Split records into exactly ``parts`` contiguous lists (at least one); some may be empty."""
    count = max(1, parts)
    size = -(-len(records) // count)
    return [records[index * size : (index + 1) * size] for index in range(count)]
