"""The ``copilot-dashboard`` command line.

Each subcommand parses its arguments here and calls library code. Input errors print one
line on stderr and exit with status 2; other failures exit with status 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import orjson

from copilot_lib import __version__, config
from copilot_lib.archive_cli import add_archive_parsers
from copilot_lib.errors import (
    CopilotDashboardError,
    DataDirError,
    DayOutOfRangeError,
    ExportError,
    ReportFormatError,
)
from copilot_lib.fetch import add_fetch_parser
from copilot_lib.logs import configure_logging

logger = logging.getLogger(__name__)

EXIT_FAILURE = 1
EXIT_USAGE = 2


# The files an interrupted command leaves behind, by command, for the message after Ctrl-C.
INTERRUPTED_KEPT = {
    "fetch": "; the files written so far are complete and kept",
}


class UsageError(CopilotDashboardError):
    """A command-line argument is invalid."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr, without the usage text."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: use YYYY-MM-DD, e.g. 2026-11-30") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="copilot-dashboard",
        description="See, keep and act on your organisation's GitHub Copilot usage metrics.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (repeat for debug)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    serve = commands.add_parser("serve", help="serve the dashboard with Voilà on 127.0.0.1")
    serve.add_argument("--port", type=int, default=config.DEFAULT_PORT, help="TCP port (default 8866)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--notebook", type=Path, default=None, help="notebook to serve (default: the dashboard)")
    serve.add_argument(
        "--data-dir",
        default=None,
        help=f"folder of report files (default: ${config.ENV_DATA_DIR}; without it the dashboard shows "
        f"the history store ${config.ENV_STORE}, else the latest 28 days from GitHub when "
        f"${config.ENV_ORG} or ${config.ENV_ENTERPRISE} and credentials are set, else demo data)",
    )
    serve.set_defaults(handler=_serve)

    summary = commands.add_parser("summary", help="print the headline numbers of a folder of report files")
    summary.add_argument("--data-dir", required=True, help="folder of report files")
    summary.add_argument("--since", type=_day, default=None, help="first day, YYYY-MM-DD (default: first in the data)")
    summary.add_argument("--until", type=_day, default=None, help="last day, YYYY-MM-DD (default: last in the data)")
    summary.add_argument("--json", action="store_true", help="print JSON instead of aligned text")
    summary.add_argument(
        "--scope",
        choices=("organization", "enterprise"),
        default=None,
        help="scope to show when the folder holds both (default: enterprise)",
    )
    summary.add_argument(
        "--entity-id", default=None, help="organisation or enterprise id to show (default: all of the scope)"
    )
    summary.set_defaults(handler=_summary)

    export = commands.add_parser("export", help="write every table of a folder of report files to CSV or Parquet")
    export.add_argument("--data-dir", required=True, help="folder of report files")
    export.add_argument("--out", required=True, type=Path, help="folder to write one file per table into")
    export.add_argument("--format", choices=("csv", "parquet"), default="csv", help="file format (default csv)")
    export.set_defaults(handler=_export)

    add_fetch_parser(commands)
    add_archive_parsers(commands)
    return parser


def _summary(args: argparse.Namespace) -> int:
    from copilot_lib.health import health_report
    from copilot_lib.metrics import data_range, kpis, scope_entity_ids, select
    from copilot_lib.tables import load_folder

    if args.since and args.until and args.since > args.until:
        raise UsageError(f"--since {args.since} is after --until {args.until}: swap them")
    tables = load_folder(args.data_dir)
    if args.entity_id is not None:
        known = scope_entity_ids(tables, args.scope)
        if str(args.entity_id) not in known:
            within = f" with --scope {args.scope}" if args.scope else ""
            raise UsageError(
                f"--entity-id {args.entity_id}: no records{within} in {args.data_dir}; "
                f"the ids there are {', '.join(known) or 'none'}"
            )
    selection = {"scope": args.scope, "entity_id": args.entity_id}
    last_day = data_range(select(tables, args.scope, args.entity_id))[1]
    if args.since and args.until is None and last_day is not None and args.since > last_day:
        raise UsageError(f"--since {args.since} is after the last day of data, {last_day}: choose an earlier day")
    result = kpis(tables, args.since, args.until, **selection).as_dict()
    if result["assigned_seats"] is None:
        # Without a seat listing there is no denominator: leave adoption out, not zero.
        del result["assigned_seats"], result["adoption_rate"]
    result["health"] = health_report(tables, args.since, args.until, **selection)
    if args.json:
        sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    lines = list(_flatten(result))
    width = max(len(key) for key, _ in lines)
    for key, value in lines:
        if value is None:
            text = "-"
        elif isinstance(value, float):
            text = f"{value:.4f}"
        else:
            text = str(value)
        sys.stdout.write(f"{key:<{width}}  {text}\n")
    return 0


def _flatten(values: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in values.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        elif isinstance(value, list):
            yield f"{prefix}{key}", ", ".join(str(item) for item in value) or "-"
        else:
            yield f"{prefix}{key}", value


def _export(args: argparse.Namespace) -> int:
    from copilot_lib.export import export_tables
    from copilot_lib.legacy import add_legacy_tables
    from copilot_lib.tables import load_folder

    tables = add_legacy_tables(load_folder(args.data_dir))
    written = export_tables(tables, args.out, args.format)
    sys.stdout.write(f"wrote {len(written)} tables to {args.out}\n")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from copilot_lib.serve import serve

    if args.data_dir:
        os.environ[config.ENV_DATA_DIR] = args.data_dir
    return serve(port=args.port, host=args.host, notebook=args.notebook)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    try:
        return int(args.handler(args))
    except (UsageError, DataDirError, ReportFormatError, ExportError, DayOutOfRangeError) as exc:
        sys.stderr.write(f"copilot-dashboard {args.command}: {exc}\n")
        return EXIT_USAGE
    except CopilotDashboardError as exc:
        sys.stderr.write(f"copilot-dashboard {args.command}: {exc}\n")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        kept = INTERRUPTED_KEPT.get(args.command, "")
        sys.stderr.write(f"copilot-dashboard {args.command}: interrupted{kept}\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
