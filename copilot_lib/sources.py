"""Sources of reports, seats and teams for archive runs: GitHub, or a fake in tests.

A source returns each report's downloaded parts as bytes, exactly as GitHub served them,
or :class:`NotAvailable` with the reason GitHub gave. :func:`fetch_day` turns the reports of
one day into a complete download or a reason to skip the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from copilot_lib.github import (
    NotReadyForm,
    ReportNotAvailable,
    Scope,
    ScopeKind,
    daily_reports,
    fetch_report,
    fetch_seat_listing,
    fetch_teams,
)
from copilot_lib.history import Entity
from copilot_lib.http import GitHubClient

# Reports GitHub may return 404 for even on a processed day: repos-1-day has no data before
# its general availability on 2026-07-17, and GitHub does not document the status for those days.
OPTIONAL_REPORTS = frozenset({"repos-1-day"})


@dataclass(frozen=True)
class NotAvailable:
    """GitHub has no report for this day: ``no_data`` (HTTP 204) or not (yet) processed."""

    reason: str
    no_data: bool = False


class ReportSource(Protocol):
    """A provider of reports, seats and teams for a run: GitHub in production, a fake in tests."""

    def daily_reports(self) -> list[str]:
        """Return the names of the 1-day reports to fetch for each day, the entity's own first."""
        ...

    def fetch_report(self, report: str, day: date) -> list[bytes] | NotAvailable:
        """Return the downloaded parts of one report for one day, or why there are none."""
        ...

    def fetch_seats(self) -> dict[str, Any] | None:
        """Return the whole seat listing, or None when the credentials cannot list seats."""
        ...

    def fetch_teams(self) -> list[dict[str, Any]] | None:
        """Return every team, or None when the entity has no team list."""
        ...


class GitHubSource:
    """The ReportSource that fetches from GitHub with an authenticated client."""

    def __init__(self, client: GitHubClient, scope: Scope, *, app_auth: bool = True):
        self.client = client
        self.scope = scope
        self.app_auth = app_auth

    def daily_reports(self) -> list[str]:
        return daily_reports(self.scope)

    def fetch_report(self, report: str, day: date) -> list[bytes] | NotAvailable:
        result = fetch_report(self.client, self.scope, report, day)
        if isinstance(result, ReportNotAvailable):
            return NotAvailable(result.describe(), no_data=result.form is NotReadyForm.NO_CONTENT)
        return result.parts

    def fetch_seats(self) -> dict[str, Any] | None:
        # GitHub lists an enterprise's seats only to classic personal access tokens.
        if self.scope.kind is ScopeKind.ENTERPRISE and self.app_auth:
            return None
        return fetch_seat_listing(self.client, self.scope)

    def fetch_teams(self) -> list[dict[str, Any]] | None:
        if self.scope.kind is ScopeKind.ENTERPRISE:
            return None
        return list(fetch_teams(self.client, self.scope.name))


def entity_for(scope: Scope) -> Entity:
    """Return the store entity of a GitHub scope: ``org=LOGIN`` or ``enterprise=SLUG``."""
    # Logins and slugs are case-insensitive on GitHub; one spelling keeps one partition.
    return Entity("org" if scope.kind is ScopeKind.ORG else "enterprise", scope.name.lower())


def fetch_day(source: ReportSource, day: date, *, settled: bool = False) -> dict[str, list[bytes]] | NotAvailable:
    """Download every daily report of one day, or return why the day is not available yet.

    A day is complete only when every report was downloaded or GitHub reported no data
    (HTTP 204). A report that GitHub has not processed makes the whole day not available,
    except for the reports in OPTIONAL_REPORTS. On a ``settled`` day, long past the time
    GitHub takes to process it, only the first report (the organisation's or enterprise's
    own) decides, and the others that are still not available count as empty.
    """
    reports: dict[str, list[bytes]] = {}
    for position, report in enumerate(source.daily_reports()):
        result = source.fetch_report(report, day)
        if isinstance(result, NotAvailable):
            optional = report in OPTIONAL_REPORTS or (settled and position > 0)
            if not result.no_data and not optional:
                return result
            reports[report] = []
        else:
            reports[report] = result
    return reports
