"""Archive runs: fetch the days the history lacks, or may have changed, and store them.

A run fetches, for one organisation or enterprise:

- the ``refetch_days`` newest settled days again, so a day's late telemetry reaches the
  store. A day still settling (see ``SETTLING_DAYS``) is not fetched, because GitHub still
  changes it;
- every day missing from the store, and not recorded as a gap, between the first day
  GitHub has reports for (or a configured start) and the newest settled day, within
  GitHub's one-year window. The newest come first, so a first deployment has the recent
  weeks after one run. A per-run day budget ends a run before Lambda's timeout, and the next
  run continues;
- today's seat listing and team list.

The stored days are listed once per run from the day manifests, so a daily run makes the
same number of GitHub and store calls whatever the length of the stored history.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from copilot_lib.config import (
    DEFAULT_ARCHIVE_CONCURRENCY,
    DEFAULT_ARCHIVE_DAY_BUDGET,
    SETTLING_DAYS,
    GitHubSettings,
)
from copilot_lib.errors import (
    AccountNotFoundError,
    AuthenticationError,
    CopilotDashboardError,
    GitHubUnreachableError,
    PermissionDeniedError,
    RateLimitError,
    ReportFormatError,
    StoreError,
)
from copilot_lib.github import connect, scope_from_settings
from copilot_lib.history import Entity, History, count_rows
from copilot_lib.sources import GitHubSource, NotAvailable, ReportSource, entity_for, fetch_day
from copilot_lib.store import ObjectStore

logger = logging.getLogger(__name__)

# First days GitHub serves usage metrics reports for, by entity kind.
FIRST_REPORT_DAY = {"org": date(2025, 12, 12), "enterprise": date(2025, 10, 10)}
# GitHub serves reports for at most one year back.
HISTORY_WINDOW = timedelta(days=365)
# Settled days fetched again by every run, newest first.
REFETCH_DAYS = 3
# A day without a report this many days after it ended never gets one, because it is before
# the entity's reports start or outside the window. It is recorded as a gap and not requested
# again, which keeps a daily run's GitHub calls constant.
GAP_AFTER_DAYS = 7
DEFAULT_DAY_BUDGET = DEFAULT_ARCHIVE_DAY_BUDGET
DEFAULT_CONCURRENCY = DEFAULT_ARCHIVE_CONCURRENCY
LOCK_WAIT_SECONDS = 600.0
# Errors after which no other day can succeed in this run.
FATAL_ERRORS = (AuthenticationError, AccountNotFoundError, GitHubUnreachableError, RateLimitError)
# Errors after which a "not available" response may come from wrong credentials or a wrong
# account name, not from GitHub lacking the day, so the run records no gaps.
ACCESS_ERRORS = (AuthenticationError, AccountNotFoundError, PermissionDeniedError)


@dataclass
class ArchiveSummary:
    """The outcome of one run: days by outcome, failures with their reason, days left for later."""

    entity: str
    store: str
    run_id: str
    started_at: str
    finished_at: str = ""
    planned: int = 0
    written: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    not_available: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    remaining: int = 0
    # Days in the run's range that were stored or recorded as gaps already, so not fetched.
    already_stored: int = 0
    seats: str = "not fetched"
    teams: str = "not fetched"
    interrupted: bool = False
    # The error that stopped the run early, because every later request would fail the same
    # way. It is empty when the run was not stopped.
    stopped_by: str = ""

    @property
    def ok(self) -> bool:
        """True when no day and no snapshot failed and the run was not interrupted."""
        return not self.failed and not self.interrupted

    @property
    def skipped(self) -> int:
        return len(self.unchanged) + len(self.kept) + len(self.not_available)

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "store": self.store,
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "ok": self.ok,
            "planned": self.planned,
            "written": sorted(self.written),
            "updated": sorted(self.updated),
            "unchanged": sorted(self.unchanged),
            "kept": sorted(self.kept),
            "not_available": sorted(self.not_available),
            "skipped": self.skipped,
            "failed": dict(sorted(self.failed.items())),
            "remaining": self.remaining,
            "already_stored": self.already_stored,
            "seats": self.seats,
            "teams": self.teams,
            "interrupted": self.interrupted,
            "stopped_by": self.stopped_by,
        }


class ArchiveFailedError(CopilotDashboardError):
    """A run finished but some days or snapshots failed; the next run retries them."""

    def __init__(self, summary: ArchiveSummary):
        failures = ", ".join(f"{day}: {reason}" for day, reason in sorted(summary.failed.items()))
        super().__init__(
            f"archive run {summary.run_id} for {summary.entity} failed for "
            f"{len(summary.failed)} item(s) ({failures}); the stored days are intact, run again "
            "to retry them"
        )
        self.summary = summary


@dataclass(frozen=True)
class DayPlan:
    """The days a run fetches: ``refetch`` (recent, may change) then ``missing`` (newest first).

    ``newest`` is the newest day of the run's range: ``until`` or the newest settled day,
    whichever is older.
    """

    refetch: list[date]
    missing: list[date]
    remaining: int
    already_stored: int = 0
    newest: date | None = None

    @property
    def days(self) -> list[date]:
        return [*self.refetch, *self.missing]


def plan_days(
    stored: set[date],
    *,
    kind: str,
    today: date,
    since: date | None = None,
    until: date | None = None,
    refetch_days: int = REFETCH_DAYS,
    budget: int | None = DEFAULT_DAY_BUDGET,
) -> DayPlan:
    """Choose the days a run fetches, from the set of days already stored.

    The range ends at the newest settled day, or at ``until`` when that is older. ``refetch``
    is the ``refetch_days`` newest settled days in the range, or nothing when
    ``refetch_days`` is 0.
    """
    newest_settled = newest_settled_day(today)
    newest = newest_settled if until is None else min(newest_settled, until)
    oldest = max(FIRST_REPORT_DAY[kind], today - HISTORY_WINDOW)
    if since is not None:
        oldest = max(oldest, since)
    if newest < oldest:
        return DayPlan([], [], 0, newest=newest)
    span = (newest - oldest).days + 1
    every = [oldest + timedelta(days=offset) for offset in range(span)]
    refetch: list[date] = []
    if refetch_days > 0:
        first_refetch = newest_settled - timedelta(days=refetch_days - 1)
        refetch = [day for day in reversed(every) if day >= first_refetch]
    # NOTE: while a long backlog is filled newest first, each run loses the day that leaves
    # GitHub's one-year window. Recent weeks matter more to the dashboard than the oldest day.
    missing = [day for day in reversed(every) if day not in stored and day not in refetch]
    already = len(every) - len(refetch) - len(missing)
    if budget is None:
        return DayPlan(refetch, missing, 0, already, newest)
    taken = max(budget - len(refetch), 0)
    return DayPlan(refetch, missing[:taken], max(len(missing) - taken, 0), already, newest)


def newest_settled_day(today: date) -> date:
    """Return the newest day GitHub no longer changes: ``SETTLING_DAYS`` full UTC days after it ended."""
    return today - timedelta(days=SETTLING_DAYS + 1)


class ArchiveRun:
    """One archive run for one entity: plan, fetch with bounded concurrency, store, summarise."""

    def __init__(
        self,
        source: ReportSource,
        history: History,
        entity: Entity,
        *,
        today: date | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: Callable[[date, str], None] | None = None,
        on_plan: Callable[[DayPlan], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.source = source
        self.history = history
        self.entity = entity
        self.clock = clock
        self.today = today or clock().date()
        self.concurrency = max(1, concurrency)
        self.progress = progress
        self.on_plan = on_plan
        self.run_id = uuid.uuid4().hex[:12]
        self.summary = ArchiveSummary(
            str(entity), history.store.url, self.run_id, self.clock().isoformat(timespec="seconds")
        )
        self._stop = threading.Event()
        self._count_lock = threading.Lock()
        self._gaps: dict[date, str] = {}
        self._access_failed = False

    def run(
        self,
        *,
        since: date | None = None,
        until: date | None = None,
        refetch_days: int = REFETCH_DAYS,
        budget: int | None = DEFAULT_DAY_BUDGET,
        snapshots: bool = True,
        retry_gaps: bool = False,
        lock_wait: float = LOCK_WAIT_SECONDS,
    ) -> ArchiveSummary:
        """Run once and return the summary; StoreError is raised as soon as the store fails.

        With ``retry_gaps``, days recorded as gaps are requested again.
        """
        with self.history.store.lock(str(self.entity).replace("=", "-"), self.run_id, wait=lock_wait):
            stored = self.history.stored_days(self.entity)
            if not retry_gaps:
                stored |= self.history.gap_days(self.entity)
            plan = plan_days(
                stored,
                kind=self.entity.kind,
                today=self.today,
                since=since,
                until=until,
                refetch_days=refetch_days,
                budget=budget,
            )
            if self.on_plan is not None:
                self.on_plan(plan)
            self.summary.planned = len(plan.days)
            self.summary.remaining = plan.remaining
            self.summary.already_stored = plan.already_stored
            _log_step(
                "plan",
                entity=str(self.entity),
                stored=len(stored),
                refetch=len(plan.refetch),
                missing=len(plan.missing),
                remaining=plan.remaining,
                newest=plan.newest,
            )
            if until is not None and plan.newest is not None and until > plan.newest:
                logger.info(
                    "%s: the run stops at %s, the newest settled day, not at %s, because GitHub still "
                    "changes the days after it; later runs fetch them once they are settled",
                    self.entity,
                    plan.newest,
                    until,
                )
            try:
                self._fetch_days(plan.days)
                if snapshots and not self._stop.is_set():
                    self._snapshots()
                self._save_gaps()
            except KeyboardInterrupt:
                self.summary.interrupted = True
                raise
            finally:
                self.summary.finished_at = self.clock().isoformat(timespec="seconds")
                self._save_status()
        return self.summary

    def _fetch_days(self, days: list[date]) -> None:
        if not days:
            return
        # The first day goes alone: it finds the installation and mints its token once, and a
        # failure that every day would repeat stops the run before the other days start.
        self._archive_day(days[0])
        if self._stop.is_set():
            with self._count_lock:
                self.summary.remaining += len(days) - 1
            return
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="archive") as pool:
            pending: set[Future[None]] = {pool.submit(self._archive_day, day) for day in days[1:]}
            try:
                while pending:
                    done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in done:
                        future.result()
            except BaseException:
                # Let the days being fetched finish and be stored; start no new ones.
                self._stop.set()
                for future in pending:
                    future.cancel()
                raise

    def _archive_day(self, day: date) -> None:
        if self._stop.is_set():
            with self._count_lock:
                self.summary.remaining += 1
            return
        label = day.isoformat()
        try:
            result = fetch_day(self.source, day, settled=(self.today - day).days > GAP_AFTER_DAYS)
        except StoreError:
            raise
        except CopilotDashboardError as exc:
            self.summary.failed[label] = str(exc)
            _log_step("day", day=label, outcome="failed", error=str(exc), level=logging.ERROR)
            self._report(day, "failed")
            if isinstance(exc, ACCESS_ERRORS):
                self._access_failed = True
            if isinstance(exc, FATAL_ERRORS):
                # Every later request would fail the same way: leave the days for the next run.
                self._stop_run(exc)
            return
        if isinstance(result, NotAvailable):
            self.summary.not_available.append(label)
            if (self.today - day).days > GAP_AFTER_DAYS:
                with self._count_lock:
                    self._gaps[day] = result.reason
            _log_step("day", day=label, outcome="not_available", reason=result.reason)
            self._report(day, "not_available")
            return
        try:
            outcome = self.history.save_day(
                self.entity,
                day,
                result,
                run_id=self.run_id,
                fetched_at=self.clock().isoformat(timespec="seconds"),
            )
        except ReportFormatError as exc:
            self.summary.failed[label] = str(exc)
            _log_step("day", day=label, outcome="failed", error=str(exc), level=logging.ERROR)
            self._report(day, "failed")
            return
        getattr(self.summary, outcome.value).append(label)
        rows = {name: count_rows(parts) for name, parts in result.items()}
        _log_step("day", day=label, outcome=outcome.value, rows=rows)
        self._report(day, outcome.value)

    def _stop_run(self, error: CopilotDashboardError) -> None:
        with self._count_lock:
            if not self.summary.stopped_by:
                self.summary.stopped_by = str(error)
        self._stop.set()

    def _report(self, day: date, outcome: str) -> None:
        if self.progress is not None:
            self.progress(day, outcome)

    def _snapshots(self) -> None:
        for kind, fetch in (("seats", self.source.fetch_seats), ("teams", self.source.fetch_teams)):
            try:
                payload = fetch()
            except StoreError:
                raise
            except CopilotDashboardError as exc:
                if isinstance(exc, ACCESS_ERRORS):
                    self._access_failed = True
                self.summary.failed[kind] = str(exc)
                setattr(self.summary, kind, "failed")
                _log_step(kind, outcome="failed", error=str(exc), level=logging.ERROR)
                if isinstance(exc, FATAL_ERRORS):
                    self._stop_run(exc)
                    return
                continue
            if payload is None:
                setattr(self.summary, kind, "not available")
            elif self.history.save_snapshot(kind, self.entity, self.today, payload):
                setattr(self.summary, kind, "written")
            else:
                setattr(self.summary, kind, "unchanged")
            _log_step(kind, outcome=getattr(self.summary, kind))

    def _save_gaps(self) -> None:
        """Record the settled days without a report, unless an access error makes that doubtful."""
        if self._access_failed:
            if self._gaps:
                logger.warning(
                    "recorded none of %d days without a report as gaps, because the run had an "
                    "authentication, permission or not-found error",
                    len(self._gaps),
                )
            return
        for day, reason in sorted(self._gaps.items()):
            self.history.save_gap(self.entity, day, reason)

    def _save_status(self) -> None:
        try:
            key = self.history.save_run(self.entity, self.summary.started_at, self.run_id, self.summary.as_dict())
        except StoreError as exc:
            logger.error("could not store the status of run %s: %s", self.run_id, exc)
            return
        _log_step("status", key=key, ok=self.summary.ok)


def _log_step(step: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Log one step of a run as one JSON object, which CloudWatch Logs Insights can query."""
    logger.log(level, "%s", orjson.dumps({"step": step, **fields}, default=str).decode())


def archive(
    source: ReportSource,
    store_history: History,
    entity: Entity,
    *,
    today: date | None = None,
    since: date | None = None,
    until: date | None = None,
    refetch_days: int = REFETCH_DAYS,
    budget: int | None = DEFAULT_DAY_BUDGET,
    concurrency: int = DEFAULT_CONCURRENCY,
    snapshots: bool = True,
    retry_gaps: bool = False,
    progress: Callable[[date, str], None] | None = None,
    on_plan: Callable[[DayPlan], None] | None = None,
    lock_wait: float = LOCK_WAIT_SECONDS,
) -> ArchiveSummary:
    """Run one archive run and return its summary; raise ArchiveFailedError when anything failed."""
    run = ArchiveRun(
        source,
        store_history,
        entity,
        today=today,
        concurrency=concurrency,
        progress=progress,
        on_plan=on_plan,
    )
    summary = run.run(
        since=since,
        until=until,
        refetch_days=refetch_days,
        budget=budget,
        snapshots=snapshots,
        retry_gaps=retry_gaps,
        lock_wait=lock_wait,
    )
    if not summary.ok:
        raise ArchiveFailedError(summary)
    return summary


def archive_from_settings(settings: GitHubSettings, store: ObjectStore, **options: Any) -> ArchiveSummary:
    """Connect to GitHub with ``settings`` and run :func:`archive` into ``store``.

    ``options`` are passed on to :func:`archive`.
    """
    scope = scope_from_settings(settings)
    with connect(settings) as client:
        source = GitHubSource(client, scope, app_auth=settings.uses_app)
        return archive(source, History(store), entity_for(scope), **options)
