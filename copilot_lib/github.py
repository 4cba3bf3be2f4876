"""Fetch Copilot usage metrics reports, seats, billing and teams from GitHub.

Each ``fetch_*`` function returns or yields raw records exactly as GitHub sends them. Report
endpoints return an envelope of signed download links; :func:`fetch_report` downloads every
link (without the GitHub token) and keeps the NDJSON parts as bytes. The retired
``/copilot/usage`` and ``/copilot/metrics`` endpoints (404 since 2025-03-01 and 2026-04-03)
are never called.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

import orjson

from copilot_lib.auth import AppAuth, auth_from_settings
from copilot_lib.config import GitHubSettings
from copilot_lib.errors import (
    AccountNotFoundError,
    DayOutOfRangeError,
    GitHubError,
    NotFoundError,
    PermissionDeniedError,
    ReportLinkExpiredError,
)
from copilot_lib.http import GitHubClient, json_body

logger = logging.getLogger(__name__)

# First days GitHub serves usage metrics reports for (REST docs, "Copilot usage metrics").
ORG_FIRST_DAY = date(2025, 12, 12)
ENTERPRISE_FIRST_DAY = date(2025, 10, 10)


class ScopeKind(StrEnum):
    """Whether reports are fetched for an organisation or an enterprise."""

    ORG = "org"
    ENTERPRISE = "enterprise"


@dataclass(frozen=True)
class Scope:
    """An organisation login or enterprise slug that reports are fetched for."""

    kind: ScopeKind
    name: str

    @classmethod
    def org(cls, name: str) -> Scope:
        return cls(ScopeKind.ORG, name)

    @classmethod
    def enterprise(cls, name: str) -> Scope:
        return cls(ScopeKind.ENTERPRISE, name)

    @property
    def prefix(self) -> str:
        """The URL path prefix: ``/orgs/NAME`` or ``/enterprises/SLUG``."""
        return f"/orgs/{self.name}" if self.kind is ScopeKind.ORG else f"/enterprises/{self.name}"

    @property
    def first_day(self) -> date:
        return ORG_FIRST_DAY if self.kind is ScopeKind.ORG else ENTERPRISE_FIRST_DAY

    @property
    def entity_report(self) -> str:
        """The report with the organisation's or enterprise's own daily totals."""
        return "organization" if self.kind is ScopeKind.ORG else "enterprise"

    def __str__(self) -> str:
        return f"{'organisation' if self.kind is ScopeKind.ORG else 'enterprise'} {self.name!r}"


def daily_reports(scope: Scope) -> list[str]:
    """Return the names of the 1-day reports for ``scope``, each fetched with ``?day=``."""
    return [f"{scope.entity_report}-1-day", "users-1-day", "user-teams-1-day", "repos-1-day"]


def latest_reports(scope: Scope) -> list[str]:
    """Return the names of the 28-day reports for ``scope``, each ending in ``/latest``."""
    return [f"{scope.entity_report}-28-day/latest", "users-28-day/latest"]


def all_reports(scope: Scope) -> list[str]:
    """Return the names of all six report endpoints for ``scope``."""
    return daily_reports(scope) + latest_reports(scope)


class NotReadyForm(StrEnum):
    """The form of GitHub's "report not available" response."""

    NOT_FOUND = "404"
    NO_CONTENT = "204"
    MESSAGE = "message"


@dataclass(frozen=True)
class ReportNotAvailable:
    """GitHub has no report for this day (yet): not processed, no data, or outside history."""

    scope: Scope
    report: str
    day: date | None
    form: NotReadyForm
    message: str = ""

    def describe(self) -> str:
        when = f" for {self.day.isoformat()}" if self.day else ""
        reason = f": {self.message}" if self.message else ""
        return f"{self.report}{when} is not available from GitHub (HTTP {self.form.value}){reason}"


@dataclass
class Report:
    """A downloaded report: its envelope and the raw bytes of each part, in link order."""

    scope: Scope
    report: str
    day: date | None
    envelope: dict[str, Any]
    parts: list[bytes] = field(default_factory=list)

    def content(self) -> bytes:
        """Return the parts joined into one NDJSON document, one newline between parts."""
        chunks = [part if part.endswith(b"\n") or not part else part + b"\n" for part in self.parts]
        return b"".join(chunks)

    def records(self) -> Iterator[dict[str, Any]]:
        """Yield each JSON object of the NDJSON parts; blank lines are skipped."""
        for part in self.parts:
            for line in part.splitlines():
                if line.strip():
                    yield orjson.loads(line)


ReportResult = Report | ReportNotAvailable


def yesterday_utc(now: Callable[[], float] = time.time) -> date:
    """Return yesterday's date in UTC, the newest day GitHub may have a report for."""
    return datetime.fromtimestamp(now(), UTC).date() - timedelta(days=1)


def check_day(scope: Scope, day: date, *, today: date | None = None) -> None:
    """Raise DayOutOfRangeError unless ``day`` is between the first report day and yesterday UTC."""
    latest = (today - timedelta(days=1)) if today else yesterday_utc()
    if day < scope.first_day:
        raise DayOutOfRangeError(
            f"{day.isoformat()} is before {scope.first_day.isoformat()}, the first day GitHub "
            f"has usage metrics reports for {scope}: start on that day or later"
        )
    if day > latest:
        raise DayOutOfRangeError(
            f"{day.isoformat()} is after yesterday ({latest.isoformat()} UTC): GitHub publishes a "
            "day's report only after the day ends in UTC, so end on yesterday or earlier"
        )


def fetch_report(client: GitHubClient, scope: Scope, report: str, day: date | None = None) -> ReportResult:
    """Fetch one report's envelope and download all its parts.

    ``report`` is one of :func:`all_reports`; 1-day reports need ``day``. When a download
    link has expired before it was used, the report is requested again once.
    """
    if report.endswith("-1-day"):
        if day is None:
            raise ValueError(f"report {report!r} needs a day")
        check_day(scope, day)
    elif day is not None:
        raise ValueError(f"report {report!r} covers the latest 28 days and takes no day")
    for attempt in (1, 2):
        envelope = fetch_report_envelope(client, scope, report, day)
        if isinstance(envelope, ReportNotAvailable):
            return envelope
        try:
            parts = [client.download(link) for link in _links(envelope, report)]
        except ReportLinkExpiredError:
            if attempt == 2:
                raise
            logger.warning("a download link of %s %s expired; requesting the report again", scope, report)
            continue
        logger.info(
            "downloaded %s %s%s: %d parts, %d bytes",
            scope,
            report,
            f" for {day}" if day else "",
            len(parts),
            sum(map(len, parts)),
        )
        return Report(scope, report, day, envelope, parts)
    raise AssertionError("unreachable")


def fetch_report_envelope(
    client: GitHubClient, scope: Scope, report: str, day: date | None = None
) -> dict[str, Any] | ReportNotAvailable:
    """Return a report's envelope of download links, or ReportNotAvailable in any of its forms.

    GitHub signals "not available" with 404 (day not processed yet, or outside history), 204
    (no data for that day), or a 200 whose body is a bare JSON string such as
    "No report available for this day".
    """
    params = {"day": day.isoformat()} if day else None
    path = f"{scope.prefix}/copilot/metrics/reports/{report}"
    try:
        response = client.request("GET", path, params=params)
    except AccountNotFoundError:
        raise
    except NotFoundError as exc:
        confirm_account(client, scope)
        logger.debug("%s %s for %s: not available (%s)", scope, report, day, exc)
        return ReportNotAvailable(scope, report, day, NotReadyForm.NOT_FOUND)
    if response.status_code == 204 or not response.content.strip():
        return ReportNotAvailable(scope, report, day, NotReadyForm.NO_CONTENT)
    body = json_body(response)
    if isinstance(body, str):
        return ReportNotAvailable(scope, report, day, NotReadyForm.MESSAGE, body)
    if not isinstance(body, dict) or not isinstance(body.get("download_links"), list):
        raise GitHubError(
            f"GitHub returned an unexpected body for {path} (no download_links list): {str(body)[:200]}",
            status=response.status_code,
            request_id=response.headers.get("x-github-request-id"),
        )
    return body


def confirm_account(client: GitHubClient, scope: Scope) -> None:
    """Raise AccountNotFoundError unless GitHub confirms that ``scope``'s account exists.

    GitHub returns 404 both for a report day that is not ready and for an account that does
    not exist, so the first 404 of a run is checked with one cheap call. An organisation is
    looked up with ``GET /orgs/{org}``. GitHub has no such REST call for an enterprise, so an
    enterprise is checked with the first page of its seat listing when a token is used. A 403
    there means the account exists and the credentials lack the seat permission, which is enough.
    """
    if scope.prefix in client.confirmed_accounts:
        return
    if scope.kind is ScopeKind.ENTERPRISE and isinstance(client.auth, AppAuth):
        # App tokens cannot list enterprise seats. The App's installation, found by the
        # enterprise's slug or configured by id, already stands for the enterprise.
        client.confirmed_accounts.add(scope.prefix)
        return
    path = scope.prefix if scope.kind is ScopeKind.ORG else f"{scope.prefix}/copilot/billing/seats"
    try:
        client.request("GET", path, params={"per_page": 1})
    except NotFoundError as exc:
        raise AccountNotFoundError(
            f"GitHub does not know {scope}, or the credentials cannot see it: check the name "
            "and that the token or GitHub App has access to it",
            status=exc.status,
            url=exc.url,
            request_id=exc.request_id,
        ) from exc
    except PermissionDeniedError:
        pass
    client.confirmed_accounts.add(scope.prefix)


def _links(envelope: dict[str, Any], report: str) -> list[str]:
    links = envelope["download_links"]
    if not all(isinstance(link, str) for link in links):
        raise GitHubError(f"the envelope of {report} has a download link that is not a string")
    return list(links)


def fetch_seats(client: GitHubClient, scope: Scope, *, concurrent: bool = True) -> Iterator[dict[str, Any]]:
    """Yield every Copilot seat of an organisation (or, with a classic token, an enterprise).

    Seats keep ``assignee: null`` and ``last_activity_at: null`` as GitHub sends them.
    """
    for page in fetch_seat_pages(client, scope, concurrent=concurrent):
        yield from page.get("seats") or []


def fetch_seat_pages(client: GitHubClient, scope: Scope, *, concurrent: bool = True) -> Iterator[dict[str, Any]]:
    """Yield each page body ``{total_seats, seats}`` of the seat listing, in page order."""
    for page in client.pages(f"{scope.prefix}/copilot/billing/seats", concurrent=concurrent):
        if not isinstance(page, dict):
            raise GitHubError(f"GitHub returned a seat page that is not an object for {scope}")
        yield page


def fetch_seat_listing(client: GitHubClient, scope: Scope) -> dict[str, Any]:
    """Return all seats as one object ``{"total_seats": N, "seats": [...every page...]}``."""
    total = 0
    seats: list[dict[str, Any]] = []
    for page in fetch_seat_pages(client, scope):
        total = int(page.get("total_seats") or total)
        seats.extend(page.get("seats") or [])
    return {"total_seats": total, "seats": seats}


def fetch_billing(client: GitHubClient, org: str) -> dict[str, Any]:
    """Return an organisation's Copilot seat breakdown and settings."""
    body = client.get_json(f"/orgs/{org}/copilot/billing")
    if not isinstance(body, dict):
        raise GitHubError(f"GitHub returned Copilot billing for {org!r} that is not an object")
    return body


def fetch_teams(client: GitHubClient, org: str) -> Iterator[dict[str, Any]]:
    """Yield every team of an organisation that the credentials can see."""
    for page in client.pages(f"/orgs/{org}/teams"):
        if not isinstance(page, list):
            raise GitHubError(f"GitHub returned a team page that is not a list for {org!r}")
        yield from page


def connect(
    settings: GitHubSettings,
    *,
    clock: Callable[[], float] = time.time,
    **client_options: Any,
) -> GitHubClient:
    """Return a client authenticated as the settings describe (GitHub App or token)."""
    auth = auth_from_settings(settings, clock=clock)
    return GitHubClient(settings.api_url, auth, clock=clock, **client_options)


def scope_from_settings(settings: GitHubSettings) -> Scope:
    """Return the organisation or enterprise the settings name."""
    if settings.org:
        return Scope.org(settings.org)
    assert settings.enterprise is not None
    return Scope.enterprise(settings.enterprise)
