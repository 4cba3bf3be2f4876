"""The ``archive``, ``backfill`` and ``import-legacy`` subcommands of the command line.

Each parses its arguments and calls copilot_lib.archive or copilot_lib.history; the same
runs happen in the Lambda function.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot_lib import config
from copilot_lib.errors import ConfigError, DayOutOfRangeError, ReportFormatError, StoreError
from copilot_lib.reports import Record, RecordKind

if TYPE_CHECKING:
    from copilot_lib.archive import ArchiveFailedError, ArchiveSummary

logger = logging.getLogger(__name__)

LEGACY_KINDS = frozenset({RecordKind.LEGACY_USAGE_DAY, RecordKind.LEGACY_METRICS_DAY, RecordKind.LEGACY_TEAM_HISTORY})


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: use YYYY-MM-DD, e.g. 2026-11-30") from exc


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}: use a whole number such as 8") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is too small: use 1 or more")
    return value


def _common(parser: argparse.ArgumentParser, *, github: bool = True) -> None:
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--org", help=f"organisation login (default: ${config.ENV_ORG})")
    target.add_argument("--enterprise", help=f"enterprise slug (default: ${config.ENV_ENTERPRISE})")
    parser.add_argument(
        "--store",
        default=None,
        help=f"history store: a folder or s3://BUCKET/PREFIX (default: ${config.ENV_STORE}, "
        f"else {config.DEFAULT_STORE})",
    )
    parser.add_argument(
        "--endpoint-url",
        default=None,
        help=f"S3 endpoint URL, for S3-compatible storage (default: ${config.ENV_S3_ENDPOINT_URL})",
    )
    if github:
        parser.add_argument("--api-url", help=f"GitHub API URL (default: ${config.ENV_API_URL})")
        parser.add_argument(
            "--concurrency",
            type=_positive,
            default=config.DEFAULT_ARCHIVE_CONCURRENCY,
            help=f"days fetched at once (default {config.DEFAULT_ARCHIVE_CONCURRENCY})",
        )


def add_archive_parsers(commands: Any) -> None:
    """Add ``archive``, ``backfill`` and ``import-legacy`` to an ``add_subparsers()`` result."""
    run = commands.add_parser("archive", help="fetch new and recent days from GitHub into the history store")
    _common(run)
    run.add_argument("--since", type=_day, default=None, help="first day to keep (default: GitHub's first)")
    run.add_argument(
        "--budget",
        type=_positive,
        default=config.DEFAULT_ARCHIVE_DAY_BUDGET,
        help="maximum number of days this run fetches; the next run continues "
        f"(default {config.DEFAULT_ARCHIVE_DAY_BUDGET})",
    )
    run.set_defaults(handler=run_archive)

    backfill = commands.add_parser(
        "backfill", help="fill a range of days in the history store; interrupt and rerun to resume"
    )
    _common(backfill)
    backfill.add_argument("--since", type=_day, required=True, help="first day, YYYY-MM-DD")
    backfill.add_argument(
        "--until",
        type=_day,
        default=None,
        help=f"last day, YYYY-MM-DD (default: the newest settled day, {config.SETTLING_DAYS + 1} days before "
        "today, UTC). A later day is cut back to the newest settled day, because GitHub still changes "
        "newer days; the daily archive run fetches them once they are settled",
    )
    backfill.add_argument("--no-progress", action="store_true", help="do not show the progress bar")
    backfill.set_defaults(handler=run_backfill)

    rebuild = commands.add_parser(
        "rebuild-tables",
        help="rebuild the stored days' Parquet tables from their raw report files, and the legacy "
        "tables from the stored legacy files",
    )
    _common(rebuild, github=False)
    rebuild.add_argument("--no-progress", action="store_true", help="do not show the progress bar")
    rebuild.set_defaults(handler=run_rebuild_tables)

    legacy = commands.add_parser(
        "import-legacy",
        help="import archives of the retired /copilot/usage and /copilot/metrics APIs into the store",
    )
    legacy.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help="historic_usage_data.json, teams_history.json, ..."
    )
    _common(legacy, github=False)
    legacy.set_defaults(handler=run_import_legacy)


def _settings(args: argparse.Namespace) -> config.GitHubSettings:
    return config.github_settings(org=args.org, enterprise=args.enterprise, api_url=args.api_url)


def _print_summary(summary: ArchiveSummary) -> None:
    line = (
        f"{summary.entity}: {_count(len(summary.written), 'day')} written, {len(summary.updated)} updated, "
        f"{summary.skipped} skipped, {summary.already_stored} already stored, "
        f"{len(summary.failed)} failed, {summary.remaining} left for "
        f"later runs; seats {summary.seats}, teams {summary.teams} ({summary.store})"
    )
    sys.stdout.write(line + "\n")


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _finish(summary: ArchiveSummary | None, error: ArchiveFailedError | None) -> int:
    if error is not None:
        stopped_by = error.summary.stopped_by
        _print_summary(error.summary)
        for item, reason in sorted(error.summary.failed.items()):
            if reason != stopped_by:
                sys.stderr.write(f"failed {item}: {reason}\n")
        if stopped_by:
            sys.stderr.write(f"stopped: {stopped_by}\n")
        return 1
    assert summary is not None
    _print_summary(summary)
    return 0


def run_archive(args: argparse.Namespace) -> int:
    """Run ``copilot-dashboard archive``: 0 when every day and snapshot was stored, else 1."""
    from copilot_lib.archive import ArchiveFailedError, archive_from_settings
    from copilot_lib.store import open_store

    _reject_future("--since", args.since)
    store = open_store(args.store, endpoint_url=args.endpoint_url)
    try:
        summary = archive_from_settings(
            _settings(args), store, since=args.since, budget=args.budget, concurrency=args.concurrency
        )
    except ArchiveFailedError as exc:
        return _finish(None, exc)
    return _finish(summary, None)


def run_backfill(args: argparse.Namespace) -> int:
    """Run ``copilot-dashboard backfill``: fetch every missing day in the range, with progress."""
    from tqdm import tqdm

    from copilot_lib.archive import ArchiveFailedError, DayPlan, archive_from_settings
    from copilot_lib.store import open_store

    if args.until is not None and args.since > args.until:
        raise ConfigError(f"--since {args.since} is after --until {args.until}: swap them")
    _reject_future("--since", args.since)
    _reject_future("--until", args.until)
    _reject_before_first_day(args)
    store = open_store(args.store, endpoint_url=args.endpoint_url)
    # Settings first, so that a settings error is not printed after an empty progress bar.
    settings = _settings(args)
    bar = tqdm(unit="day", desc="backfill", disable=args.no_progress, file=sys.stderr)

    def on_plan(plan: DayPlan) -> None:
        bar.reset(total=len(plan.days))
        if args.until is not None and plan.newest is not None and args.until > plan.newest:
            tqdm.write(
                f"backfill stops at {plan.newest}, the newest settled day, not at --until {args.until}: "
                "GitHub still changes the days after it, and archive runs fetch them once they are settled",
                file=sys.stderr,
            )

    def progress(day: date, outcome: str) -> None:
        bar.set_postfix_str(f"{day} {outcome}", refresh=False)
        bar.update()

    try:
        with bar:
            summary = archive_from_settings(
                settings,
                store,
                since=args.since,
                until=args.until,
                refetch_days=0,
                budget=None,
                snapshots=False,
                retry_gaps=True,
                concurrency=args.concurrency,
                progress=progress,
                on_plan=on_plan,
            )
    except ArchiveFailedError as exc:
        return _finish(None, exc)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: the days already stored are kept; run the same command to resume\n")
        raise
    return _finish(summary, None)


def _reject_future(option: str, day: date | None) -> None:
    """Raise ConfigError for a day GitHub cannot have a report for yet (today or later, UTC)."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    if day is not None and day > yesterday:
        raise ConfigError(
            f"{option} {day} is in the future: GitHub's newest report day is yesterday, UTC ({yesterday})"
        )


def _reject_before_first_day(args: argparse.Namespace) -> None:
    """Raise DayOutOfRangeError when --since is before GitHub's first report day or the range is too old.

    GitHub serves no report before its first report day, nor more than one year back.
    """
    from copilot_lib.archive import FIRST_REPORT_DAY, HISTORY_WINDOW

    kind, name = _entity(args)
    first_day = FIRST_REPORT_DAY[kind]
    if args.since < first_day:
        raise DayOutOfRangeError(
            f"--since {args.since} is before {first_day}, the first day GitHub has usage metrics "
            f"reports for {kind} {name}: start on that day or later"
        )
    oldest = datetime.now(UTC).date() - HISTORY_WINDOW
    if args.until is not None and args.until < oldest:
        raise DayOutOfRangeError(
            f"--until {args.until} is before {oldest}, the oldest day GitHub still serves reports for "
            f"(it keeps {HISTORY_WINDOW.days} days): choose a range that ends on that day or later"
        )


def _entity(args: argparse.Namespace) -> tuple[str, str]:
    """Return the entity kind and name from --org, --enterprise or the environment."""
    if args.org:
        return "org", args.org.lower()
    if args.enterprise:
        return "enterprise", args.enterprise.lower()
    org = config.setting(None, config.ENV_ORG)
    if org:
        return "org", org.lower()
    enterprise = config.setting(None, config.ENV_ENTERPRISE)
    if enterprise:
        return "enterprise", enterprise.lower()
    raise ConfigError(f"no organisation or enterprise given: pass --org or --enterprise, or set {config.ENV_ORG}")


def run_rebuild_tables(args: argparse.Namespace) -> int:
    """Run ``copilot-dashboard rebuild-tables``: rewrite every stored day's tables from raw files.

    The legacy tables are rebuilt from the stored legacy files too.
    """
    from tqdm import tqdm

    from copilot_lib.history import Entity, History
    from copilot_lib.store import open_store

    entity = Entity(*_entity(args))
    history = History(open_store(args.store, endpoint_url=args.endpoint_url))
    # Checked before the lock, which would create a missing local store.
    if not history.stored_days(entity) and not history.store.list(f"legacy/{entity.partition}/"):
        raise StoreError(
            f"the store {history.store.url} has no days or legacy files of {entity}: check --store "
            "and --org or --enterprise, or fill the store with archive, backfill or import-legacy"
        )
    with history.store.lock(str(entity).replace("=", "-"), "rebuild-tables", wait=600):
        days = sorted(history.stored_days(entity))
        for day in tqdm(days, unit="day", desc="rebuild", disable=args.no_progress, file=sys.stderr):
            history.rebuild_day(entity, day)
        legacy = history.rebuild_legacy(entity)
    legacy_days = sum(legacy.values())
    sys.stdout.write(
        f"{entity}: rebuilt the tables of {_count(len(days), 'day')} and {_count(legacy_days, 'legacy table day')} "
        f"({legacy['written']} written, {legacy['updated']} updated, {legacy['unchanged']} unchanged, "
        f"{legacy['kept']} kept) ({history.store.url})\n"
    )
    return 0


def run_import_legacy(args: argparse.Namespace) -> int:
    """Run ``copilot-dashboard import-legacy``: store the legacy tables, one file per day."""
    import orjson

    from copilot_lib.history import Entity, History
    from copilot_lib.legacy import legacy_tables
    from copilot_lib.reports import read_report_file
    from copilot_lib.store import open_store

    entity = Entity(*_entity(args))
    history = History(open_store(args.store, endpoint_url=args.endpoint_url))
    records: list[Record] = []
    for path in args.files:
        if not path.is_file():
            problem = "a folder" if path.is_dir() else "not found"
            raise ReportFormatError(f"{problem}: give the path of a legacy archive file", path=str(path))
        file_records = list(read_report_file(path))
        if not any(record.kind in LEGACY_KINDS for record in file_records):
            raise ReportFormatError(_not_legacy_message(file_records), path=str(path))
        records.extend(file_records)
    for path in args.files:
        history.save_legacy_source(entity, path.name, path.read_bytes())
    outcomes = history.save_legacy(entity, legacy_tables(records))
    result = {"entity": str(entity), "store": history.store.url, "files": len(args.files), **outcomes}
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    return 0


def _not_legacy_message(records: list[Record]) -> str:
    """Describe a file without legacy days by the kinds of record it contains."""
    counts = Counter(record.kind.value for record in records)
    contents = ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items())) or "no records"
    return (
        f"contains no days of the retired /copilot/usage or /copilot/metrics APIs (it contains {contents}): "
        "import-legacy takes only those archives; show current report files with --data-dir, "
        "and store current days with archive or backfill"
    )
