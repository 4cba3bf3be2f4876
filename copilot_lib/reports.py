"""Read Copilot usage metrics report files in every form they come in.

GitHub's report download links serve NDJSON. Files exported from GitHub's UI, copied from the
documentation or kept by other tools come as a pretty-printed JSON object, a JSON array, or
an object that wraps its day records in ``day_totals``. This module accepts all of them,
optionally gzip-compressed, and tells each record's kind from its content, never from the
file name.
"""

from __future__ import annotations

import gzip
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson

from copilot_lib.errors import DataDirError, ReportFormatError

logger = logging.getLogger(__name__)

REPORT_SUFFIXES = (".json", ".ndjson", ".jsonl")
# Keys a container object passes down to the day records it wraps in ``day_totals``.
INHERITED_KEYS = ("organization_id", "enterprise_id", "report_start_day", "report_end_day")


class RecordKind(StrEnum):
    """The kind of a JSON object in a report file, judged by its keys."""

    ENTITY_DAY = "entity_day"
    USER_DAY = "user_day"
    USER_TEAM = "user_team"
    REPO_DAY = "repo_day"
    ENVELOPE = "envelope"
    SEATS = "seats"
    BILLING = "billing"
    TEAM = "team"
    LEGACY_USAGE_DAY = "legacy_usage_day"
    LEGACY_METRICS_DAY = "legacy_metrics_day"
    LEGACY_TEAM_HISTORY = "legacy_team_history"
    NOT_AVAILABLE = "not_available"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Provenance:
    """The origin of a record, used to decide which copy of a repeated record wins."""

    path: str
    line: int
    created_at: str | None
    span_days: int | None

    def precedence(self) -> tuple[str, int, str, int]:
        """Return a sort key: the greatest key wins.

        A later ``created_at`` wins; on a tie the report covering fewer days wins, so a 1-day
        report beats the 28-day report it overlaps. Path and line break the remaining ties,
        which makes the winner independent of the order in which files were listed.
        """
        span = self.span_days if self.span_days is not None else 10_000
        return (self.created_at or "", -span, self.path, self.line)


@dataclass(frozen=True, slots=True)
class Record:
    """One classified JSON object from a report file."""

    kind: RecordKind
    data: dict[str, Any]
    source: Provenance


def classify(obj: Any) -> RecordKind:
    """Tell what a decoded JSON value from a report file is, from its keys alone.

    A key whose value is null counts as absent: GitHub's payloads leave out and null their
    optional fields alike, and a ``"team_id": null`` does not make a user day a team row.
    """
    if isinstance(obj, str):
        return RecordKind.NOT_AVAILABLE
    if not isinstance(obj, dict):
        return RecordKind.UNKNOWN
    get = obj.get
    if get("download_links") is not None:
        return RecordKind.ENVELOPE
    if get("seats") is not None or get("total_seats") is not None:
        return RecordKind.SEATS
    if get("seat_breakdown") is not None:
        return RecordKind.BILLING
    if get("team") is not None and get("data") is not None:
        return RecordKind.LEGACY_TEAM_HISTORY
    if get("date") is not None and get("day") is None:
        return RecordKind.LEGACY_METRICS_DAY
    if get("day") is not None and (get("breakdown") is not None or get("total_suggestions_count") is not None):
        return RecordKind.LEGACY_USAGE_DAY
    if get("team_id") is not None and (get("user_id") is not None or get("user_login") is not None):
        return RecordKind.USER_TEAM
    if get("user_id") is not None or get("user_login") is not None:
        return RecordKind.USER_DAY
    if get("repo_id") is not None or get("repo_name") is not None:
        return RecordKind.REPO_DAY
    if get("day") is not None:
        return RecordKind.ENTITY_DAY
    if get("slug") is not None and get("name") is not None and get("id") is not None:
        return RecordKind.TEAM
    return RecordKind.UNKNOWN


def span_days(start: Any, end: Any) -> int | None:
    """Return the number of days from ``start`` to ``end`` inclusive, or None when unknown."""
    if not isinstance(start, str) or not isinstance(end, str):
        return None
    try:
        from datetime import date

        return (date.fromisoformat(end[:10]) - date.fromisoformat(start[:10])).days + 1
    except ValueError:
        return None


UNREADABLE_HINT = (
    "check that this user may read it and that a .gz file is complete and gzip-compressed, or move it out of the folder"
)


def read_bytes(path: Path) -> bytes:
    """Return a report file's bytes, uncompressed when its name ends in ``.gz``."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError) as exc:
        raise ReportFormatError(f"cannot read the file ({exc}): {UNREADABLE_HINT}", path=str(path)) from exc


def decode_values(raw: bytes, path: str) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, value)`` for each JSON value in a report file's bytes.

    A file that parses as one JSON document is one value (an object, an array or a string),
    reported at line 1. Otherwise the file is read as NDJSON: blank lines are skipped, a
    missing final newline is fine, and a line that is not JSON raises
    :class:`ReportFormatError` naming the file and line number.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    stripped = raw.strip()
    if not stripped:
        return
    try:
        yield 1, orjson.loads(stripped)
        return
    except orjson.JSONDecodeError as whole_error:
        first_line = stripped.split(b"\n", 1)[0].strip()
        if not _is_json(first_line):
            # Neither one JSON document nor NDJSON: report where the document broke.
            line = raw[: whole_error.pos].count(b"\n") + 1
            raise ReportFormatError(
                f"invalid JSON ({whole_error.msg}); expected NDJSON, a JSON object or a JSON array",
                path=path,
                line=line,
            ) from whole_error
    yield from ndjson_values(raw, path, first_line=1)


def ndjson_values(raw: bytes, path: str, first_line: int) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, value)`` for each non-blank NDJSON line of ``raw``.

    ``first_line`` is the line number of the first line in ``raw``. A line that is not JSON
    raises :class:`ReportFormatError` naming the file and line number.
    """
    for number, line_bytes in enumerate(raw.split(b"\n"), start=first_line):
        line_bytes = line_bytes.strip()
        if not line_bytes:
            continue
        try:
            yield number, orjson.loads(line_bytes)
        except orjson.JSONDecodeError as exc:
            raise ReportFormatError(
                f"invalid JSON on this NDJSON line ({exc.msg}); fix or remove the line",
                path=path,
                line=number,
            ) from exc


def _is_json(data: bytes) -> bool:
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError:
        return False
    return True


def _file_span(values: list[tuple[int, Any]]) -> int | None:
    """Return the number of days a whole file covers, from the days its records name."""
    days: set[str] = set()
    for _, value in values:
        for obj in value if isinstance(value, list) else [value]:
            if isinstance(obj, dict):
                inner = obj.get("day_totals")
                for item in inner if isinstance(inner, list) else [obj]:
                    if isinstance(item, dict) and isinstance(item.get("day"), str):
                        days.add(item["day"][:10])
    return len(days) or None


def read_report_file(path: str | os.PathLike[str], *, file_span: bool = True) -> Iterator[Record]:
    """Yield every record in one report file, classified, with where it came from.

    Objects that wrap day records in ``day_totals`` are exploded, and the wrapper's
    ``organization_id``, ``enterprise_id`` and report days are copied to records that lack
    them. Values that are neither objects nor arrays of objects are skipped with a warning.
    A record that names no report days gets the number of days its file covers as its
    span, unless ``file_span`` is False, in which case its span stays None.
    """
    file_path = Path(path)
    yield from read_report_bytes(read_bytes(file_path), str(file_path), file_span=file_span)


def read_report_bytes(raw: bytes, name: str, *, file_span: bool = True) -> Iterator[Record]:
    """Yield every record in a report file's uncompressed bytes, as :func:`read_report_file` does.

    ``name`` stands for the file in provenance and messages, e.g. the key of a stored object.
    """
    values: Iterable[tuple[int, Any]] = decode_values(raw, name)
    fallback_span = None
    if file_span:
        values = list(values)
        fallback_span = _file_span(values)
    for line, value in values:
        for obj in value if isinstance(value, list) else [value]:
            yield from records_from_object(obj, name, line, fallback_span)


def read_values(path: str | os.PathLike[str]) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, value)`` for each JSON value of one report file."""
    file_path = Path(path)
    return decode_values(read_bytes(file_path), str(file_path))


def records_from_object(obj: Any, path: str, line: int, fallback_span: int | None) -> Iterator[Record]:
    if isinstance(obj, dict) and isinstance(obj.get("day_totals"), list):
        created_at = _text(obj.get("created_at"))
        span = span_days(obj.get("report_start_day"), obj.get("report_end_day")) or fallback_span
        inherited = {key: obj[key] for key in INHERITED_KEYS if key in obj}
        source = Provenance(path, line, created_at, span)
        for item in obj["day_totals"]:
            if not isinstance(item, dict):
                logger.warning("%s:%d: skipped a day_totals element that is not an object", path, line)
                continue
            merged = {**inherited, **item} if inherited else item
            yield Record(classify(merged), merged, source)
        return
    kind = classify(obj)
    if kind is RecordKind.NOT_AVAILABLE:
        logger.warning("%s:%d: GitHub reported no data (%r); nothing to read", path, line, obj)
        return
    if kind is RecordKind.UNKNOWN:
        logger.warning("%s:%d: skipped a value that is not a report record", path, line)
        return
    data: dict[str, Any] = obj
    span = span_days(data.get("report_start_day"), data.get("report_end_day")) or fallback_span
    yield Record(kind, data, Provenance(path, line, _text(data.get("created_at")), span))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def report_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Return the report files under ``folder`` (recursively), sorted by path.

    Files ending in ``.json``, ``.ndjson`` or ``.jsonl``, each optionally ``.gz``, count.
    Hidden files and folders are ignored.
    """
    root = Path(folder).expanduser()
    if not root.exists():
        raise DataDirError(f"data folder {str(root)!r} does not exist: create it or point to another")
    if not root.is_dir():
        raise DataDirError(f"{str(root)!r} is not a folder: pass the folder that contains the report files")
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        name = path.name[:-3] if path.name.endswith(".gz") else path.name
        if name.lower().endswith(REPORT_SUFFIXES):
            found.append(path)
    return sorted(found)


def read_folder(folder: str | os.PathLike[str]) -> Iterator[Record]:
    """Yield every record of every report file under ``folder``."""
    files = report_files(folder)
    if not files:
        raise DataDirError(
            f"data folder {str(folder)!r} contains no report files (*.json, *.ndjson, *.jsonl): "
            "download reports with `copilot-dashboard fetch` or point to another folder"
        )
    for path in files:
        yield from read_report_file(path)


def read_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Record]:
    """Yield every record of the given files, in sorted path order."""
    for path in sorted(Path(p) for p in paths):
        yield from read_report_file(path)
