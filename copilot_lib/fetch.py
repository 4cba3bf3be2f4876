"""Download Copilot reports, seats, billing and teams from GitHub into a data folder.

The folder is what ``COPILOT_DATA_DIR`` reads. Reports are written exactly as downloaded
(NDJSON, all parts of a report joined), seats as one JSON object with every page's seats,
billing and teams as GitHub returns them::

    OUT/organization-1-day/2026-08-25.ndjson
    OUT/users-1-day/2026-08-25.ndjson
    OUT/user-teams-1-day/2026-08-25.ndjson
    OUT/repos-1-day/2026-08-25.ndjson
    OUT/organization-28-day/2026-07-29_2026-08-25.ndjson
    OUT/users-28-day/2026-07-29_2026-08-25.ndjson
    OUT/seats.json  OUT/billing.json  OUT/teams.json

Each file is written to a hidden temporary file and renamed into place, so an interrupted
run leaves complete files only. Use one folder per organisation or enterprise, because the
file names do not contain the organisation.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
from tqdm import tqdm

from copilot_lib.config import GitHubSettings, github_settings
from copilot_lib.errors import (
    AccountNotFoundError,
    AuthenticationError,
    ConfigError,
    DayOutOfRangeError,
    GitHubError,
    GitHubUnreachableError,
    RateLimitError,
)
from copilot_lib.github import (
    Report,
    ReportNotAvailable,
    Scope,
    ScopeKind,
    check_day,
    connect,
    daily_reports,
    fetch_billing,
    fetch_report,
    fetch_seat_listing,
    fetch_teams,
    latest_reports,
    scope_from_settings,
    yesterday_utc,
)
from copilot_lib.http import GitHubClient

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 28
# Errors after which every further call would fail the same way, so the run stops.
FATAL_ERRORS = (AuthenticationError, AccountNotFoundError, GitHubUnreachableError, RateLimitError)


@dataclass(frozen=True)
class Task:
    """One file to download: a report (for a day, or the latest 28 days), seats, billing or teams."""

    kind: str
    day: date | None = None

    @property
    def name(self) -> str:
        return f"{self.kind} {self.day.isoformat()}" if self.day else self.kind


@dataclass
class FetchSummary:
    """The outcome of a fetch run: files written, reports not available, and failures."""

    folder: Path
    written: list[Path] = field(default_factory=list)
    bytes_written: int = 0
    not_available: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    # Downloads left out after an error that every later request would repeat.
    not_attempted: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_attempted

    def line(self) -> str:
        """Return the one-line summary printed at the end of a run."""
        text = f"wrote {len(self.written)} files ({self.bytes_written / 1e6:.1f} MB) to {self.folder}"
        if self.not_available:
            text += f"; not available from GitHub yet: {', '.join(self.not_available)}"
        if self.skipped:
            text += f"; skipped: {', '.join(self.skipped)}"
        if self.failed:
            text += f"; FAILED, missing: {', '.join(self.failed)}"
        if self.not_attempted:
            text += f"; stopped after the first error, {len(self.not_attempted)} more files not attempted"
        return text


def plan_days(scope: Scope, since: date | None, until: date | None, *, today: date | None = None) -> list[date]:
    """Return the days to fetch, checking each against GitHub's report history first.

    ``until`` defaults to yesterday (UTC) and ``since`` to 27 days before ``until``, moved
    forward to the first report day if needed. Explicit days outside the history raise
    DayOutOfRangeError before any call to GitHub.
    """
    latest = (today - timedelta(days=1)) if today else yesterday_utc()
    end = until or latest
    start = since or max(end - timedelta(days=DEFAULT_DAYS - 1), scope.first_day)
    # The end goes first, because a default start derived from a wrong --until would name a
    # day the user never typed.
    check_day(scope, end, today=latest + timedelta(days=1))
    check_day(scope, start, today=latest + timedelta(days=1))
    if start > end:
        raise DayOutOfRangeError(f"--since {start.isoformat()} is after --until {end.isoformat()}: swap them")
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def plan_tasks(scope: Scope, days: list[date], *, app_auth: bool) -> tuple[list[Task], list[str]]:
    """Return the downloads for ``days`` and the names of those skipped, with the reason."""
    tasks = [Task(report, day) for day in days for report in daily_reports(scope)]
    tasks += [Task(report) for report in latest_reports(scope)]
    skipped: list[str] = []
    if scope.kind is ScopeKind.ORG:
        tasks += [Task("seats"), Task("billing"), Task("teams")]
    elif app_auth:
        skipped.append("seats (enterprise seats need a classic personal access token)")
    else:
        tasks.append(Task("seats"))
    return tasks, skipped


def fetch_to_folder(
    client: GitHubClient,
    scope: Scope,
    tasks: list[Task],
    folder: str | os.PathLike[str],
    *,
    progress: bool = True,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> FetchSummary:
    """Run ``tasks`` in order, writing each result to ``folder``; return what happened.

    A task that fails is recorded and the run goes on, except after an authentication,
    not-found account, connection or rate-limit error, which would fail every later task too:
    then the rest is recorded as missing. ``on_progress(done, total, name)`` is called after each task.
    """
    summary = FetchSummary(Path(folder))
    try:
        summary.folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the output folder {str(summary.folder)!r} ({exc.strerror or exc}): "
            "choose a folder you can write to"
        ) from exc
    bar = tqdm(total=len(tasks), unit="file", desc="fetch", disable=not progress, file=sys.stderr)
    with bar:
        for index, task in enumerate(tasks):
            bar.set_postfix_str(task.name, refresh=False)
            try:
                _run_task(client, scope, task, summary)
            # The summary carries each failure to the caller, which reports it (the command
            # line prints one line per missing file), so the log keeps it at INFO.
            except FATAL_ERRORS as exc:
                summary.failed[task.name] = str(exc)
                summary.not_attempted = [later.name for later in tasks[index + 1 :]]
                logger.info("fetching %s failed, stopping: %s", task.name, exc)
                break
            except GitHubError as exc:
                summary.failed[task.name] = str(exc)
                logger.info("fetching %s failed: %s", task.name, exc)
            bar.update()
            if on_progress is not None:
                on_progress(index + 1, len(tasks), task.name)
    return summary


def _run_task(client: GitHubClient, scope: Scope, task: Task, summary: FetchSummary) -> None:
    if task.kind == "seats":
        _write(summary, "seats.json", orjson.dumps(fetch_seat_listing(client, scope)))
    elif task.kind == "billing":
        _write(summary, "billing.json", orjson.dumps(fetch_billing(client, scope.name)))
    elif task.kind == "teams":
        _write(summary, "teams.json", orjson.dumps(list(fetch_teams(client, scope.name))))
    else:
        result = fetch_report(client, scope, task.kind, task.day)
        if isinstance(result, ReportNotAvailable):
            summary.not_available.append(task.name)
            logger.info("%s", result.describe())
            return
        _write(summary, _report_path(result), result.content())


def _report_path(report: Report) -> str:
    folder = report.report.removesuffix("/latest")
    if report.day is not None:
        return f"{folder}/{report.day.isoformat()}.ndjson"
    start = report.envelope.get("report_start_day", "start")
    end = report.envelope.get("report_end_day", "end")
    return f"{folder}/{start}_{end}.ndjson"


def _write(summary: FetchSummary, relative: str, data: bytes) -> None:
    path = summary.folder / relative
    write_atomically(path, data)
    summary.written.append(path)
    summary.bytes_written += len(data)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a hidden temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def fetch_latest(
    settings: GitHubSettings,
    folder: str | os.PathLike[str],
    *,
    on_progress: Callable[[int, int, str], None] | None = None,
    **client_options: Any,
) -> Path:
    """Download the latest 28-day organisation and users reports and the seats into ``folder``.

    This is what the dashboard's live mode loads. The first failure raises its GitHubError
    (or ConfigError), whose message is fit to show; files written before it are kept.
    """
    scope = scope_from_settings(settings)
    tasks = [Task(report) for report in latest_reports(scope)]
    if scope.kind is ScopeKind.ORG or not settings.uses_app:
        tasks.append(Task("seats"))
    with connect(settings, **client_options) as client:
        summary = fetch_to_folder(client, scope, tasks, folder, progress=False, on_progress=on_progress)
    for name, message in summary.failed.items():
        raise GitHubError(f"could not download {name} from GitHub: {message}")
    return summary.folder


# -- command line -------------------------------------------------------------------------


def _day_argument(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: use YYYY-MM-DD") from exc


def add_fetch_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``fetch`` subcommand to an ``add_subparsers()`` result and return its parser."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "fetch", help="download reports, seats, billing and teams from GitHub into a folder"
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--org", help="organisation login (default: $GITHUB_ORG)")
    target.add_argument("--enterprise", help="enterprise slug (default: $GITHUB_ENTERPRISE)")
    parser.add_argument("--since", type=_day_argument, help="first day, YYYY-MM-DD (default: 27 days before --until)")
    parser.add_argument("--until", type=_day_argument, help="last day, YYYY-MM-DD (default: yesterday, UTC)")
    parser.add_argument("--out", required=True, type=Path, help="folder to write the files to")
    parser.add_argument("--api-url", help="GitHub API URL (default: $GITHUB_API_URL, else https://api.github.com)")
    parser.add_argument("--no-progress", action="store_true", help="do not show the progress bar")
    parser.set_defaults(handler=run_fetch)
    return parser


def run_fetch(args: argparse.Namespace) -> int:
    """Run ``copilot-dashboard fetch``: return 0 when every file was written, else 1."""
    settings = github_settings(org=args.org, enterprise=args.enterprise, api_url=args.api_url)
    scope = scope_from_settings(settings)
    days = plan_days(scope, args.since, args.until)
    tasks, skipped = plan_tasks(scope, days, app_auth=settings.uses_app)
    with connect(settings) as client:
        summary = fetch_to_folder(client, scope, tasks, args.out, progress=not args.no_progress)
    summary.skipped = skipped
    sys.stdout.write(summary.line() + "\n")
    for name, message in summary.failed.items():
        sys.stderr.write(f"missing {name}: {message}\n")
    return 0 if summary.ok else 1
