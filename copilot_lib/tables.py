"""Turn report files into tidy pandas tables whose columns keep GitHub's field names.

Each table has a natural key, and only one record per key survives (see
:mod:`copilot_lib.ingest` for which). docs/data-model.md lists every table with its
columns, types, key and source.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NoReturn, cast

import pandas as pd

from copilot_lib import schema
from copilot_lib.errors import DataDirError, ReleasedTableError
from copilot_lib.flatten import Flattener, as_day, as_int, as_text, scope_and_entity
from copilot_lib.ingest import Chunk, assemble, read_files
from copilot_lib.reports import Record, RecordKind, report_files

logger = logging.getLogger(__name__)

# Kept for callers of the first release, which imported these names from here.
SCOPE_ORGANIZATION = schema.SCOPE_ORGANIZATION
SCOPE_ENTERPRISE = schema.SCOPE_ENTERPRISE
COUNTERS = schema.COUNTERS
ENTITY_USER_COUNTS = schema.ENTITY_USER_COUNTS
USER_FLAGS = schema.USER_FLAGS
KEY_COLUMNS = ("scope", "entity_id", "day")
PROVENANCE_COLUMNS = schema.PROVENANCE_COLUMNS

LEGACY_KINDS = (
    RecordKind.LEGACY_USAGE_DAY,
    RecordKind.LEGACY_METRICS_DAY,
    RecordKind.LEGACY_TEAM_HISTORY,
)

SEAT_COLUMNS = {
    "assignee_id": "Int64",
    "assignee_login": "string",
    "assignee_type": "string",
    "organization_login": "string",
    "assigning_team_id": "Int64",
    "assigning_team_slug": "string",
    "plan_type": "string",
    "created_at": "datetime64[ns, UTC]",
    "updated_at": "datetime64[ns, UTC]",
    "pending_cancellation_date": "datetime64[ns]",
    "last_activity_at": "datetime64[ns, UTC]",
    "last_activity_editor": "string",
    "last_authenticated_at": "datetime64[ns, UTC]",
    "source_file": "string",
}
BILLING_COUNTS = (
    "total",
    "added_this_cycle",
    "pending_invitation",
    "pending_cancellation",
    "active_this_cycle",
    "inactive_this_cycle",
)
BILLING_SETTINGS = (
    "seat_management_setting",
    "public_code_suggestions",
    "ide_chat",
    "platform_chat",
    "cli",
    "plan_type",
)
BILLING_COLUMNS = {
    **dict.fromkeys(BILLING_COUNTS, "Int64"),
    **dict.fromkeys(BILLING_SETTINGS, "string"),
    "source_file": "string",
}
TEAM_COLUMNS = {
    "team_id": "Int64",
    "name": "string",
    "slug": "string",
    "description": "string",
    "privacy": "string",
    "type": "string",
    "organization_id": "string",
    "enterprise_id": "string",
    "parent_team_id": "Int64",
    "parent_slug": "string",
    "source_file": "string",
}


class ReleasedFrame:
    """The placeholder of a released table: any use of it raises ReleasedTableError."""

    def __init__(self, name: str):
        object.__setattr__(self, "_name", name)

    def _fail(self) -> NoReturn:
        raise ReleasedTableError(
            f"table {object.__getattribute__(self, '_name')!r} was released once the dashboard had built "
            "what its views read from it: build the structure before copilot_lib.views.compact runs, "
            "or load the tables again for other uses"
        )

    def __getattr__(self, attribute: str) -> NoReturn:
        self._fail()

    def __getitem__(self, key: object) -> NoReturn:
        self._fail()

    def __contains__(self, key: object) -> NoReturn:
        self._fail()

    def __len__(self) -> NoReturn:
        self._fail()

    def __iter__(self) -> NoReturn:
        self._fail()

    def __bool__(self) -> NoReturn:
        self._fail()

    def __repr__(self) -> str:
        return f"ReleasedFrame({object.__getattribute__(self, '_name')!r})"


@dataclass
class Tables:
    """The tidy tables built from one set of report files.

    ``frames`` maps each table name to its DataFrame; every table exists, empty when the
    files held no such record. ``legacy_records`` contains the records of the retired APIs, which
    :mod:`copilot_lib.legacy` turns into tables. ``released`` maps each table that
    :meth:`release` replaced by a :class:`ReleasedFrame` to its number of rows.
    """

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    duplicates_dropped: dict[str, int] = field(default_factory=dict)
    records_skipped: int = 0
    legacy_records: list[Record] = field(default_factory=list)
    seat_totals: list[int] = field(default_factory=list)
    released: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Tables built elsewhere (a store, a test) may pass only some frames: add the rest
        # empty, with their columns, so every metric can rely on every table existing.
        missing = [name for name in _empty_frames() if name not in self.frames]
        if missing:
            empty = _empty_frames()
            self.frames.update({name: empty[name].copy() for name in missing})

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.frames[name]

    def __contains__(self, name: object) -> bool:
        return name in self.frames

    @property
    def entity_daily(self) -> pd.DataFrame:
        return self.frames["entity_daily"]

    @property
    def user_daily(self) -> pd.DataFrame:
        return self.frames["user_daily"]

    def has_rows(self, name: str) -> bool:
        """Return True when table ``name`` exists and has rows, released or not."""
        if name in self.released:
            return self.released[name] > 0
        frame = self.frames.get(name)
        return frame is not None and not frame.empty

    def release(self, name: str) -> None:
        """Replace a table's frame by a placeholder that raises on use, to free its memory."""
        if name in self.released:
            return
        rows = len(self.frames[name])
        self.frames[name] = cast(pd.DataFrame, ReleasedFrame(name))
        self.released[name] = rows
        logger.info("released table %s (%d rows)", name, rows)

    def has_entity_records(self) -> bool:
        """Return True when the files held organisation or enterprise day records."""
        return not self.entity_daily.empty

    def has_seats(self) -> bool:
        """Return True when the files held a seat listing."""
        return not self.frames["seats"].empty


@functools.cache
def _empty_frames() -> dict[str, pd.DataFrame]:
    frames, _, _, _ = assemble([Chunk(Flattener().tables())])
    frames["seats"] = _typed_frame([], SEAT_COLUMNS)
    frames["billing"] = _typed_frame([], BILLING_COLUMNS)
    frames["teams"] = _typed_frame([], TEAM_COLUMNS)
    return frames


def build_tables(records: Iterable[Record]) -> Tables:
    """Build every table from classified report records, keeping one record per natural key."""
    flattener = Flattener()
    for record in records:
        flattener.add(record)
    return _tables_from_chunks([Chunk(flattener.tables(), flattener.other, flattener.skipped)])


def load_folder(folder: str | os.PathLike[str], workers: int | None = None) -> Tables:
    """Read every report file under ``folder`` and build the tables.

    Large folders are parsed by ``workers`` processes (default: one per CPU core).
    """
    files = report_files(folder)
    if not files:
        raise DataDirError(
            f"data folder {str(folder)!r} holds no report files (*.json, *.ndjson, *.jsonl): "
            "download reports with `copilot-dashboard fetch` or point to another folder"
        )
    return _tables_from_chunks(read_files(files, workers))


def _tables_from_chunks(chunks: list[Chunk]) -> Tables:
    frames, dropped, other, skipped = assemble(chunks)
    tables = Tables(frames=frames, duplicates_dropped=dropped, records_skipped=skipped)
    seats = [record for record in other if record.kind is RecordKind.SEATS]
    tables.frames["seats"] = seats_table(seats)
    tables.seat_totals = [total for record in seats if (total := as_int(record.data.get("total_seats"))) is not None]
    tables.frames["billing"] = billing_table([record for record in other if record.kind is RecordKind.BILLING])
    tables.frames["teams"] = teams_table([record for record in other if record.kind is RecordKind.TEAM])
    tables.legacy_records = [record for record in other if record.kind in LEGACY_KINDS]
    return tables


def _typed_frame(rows: list[dict[str, Any]], columns: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(columns))
    for name, dtype in columns.items():
        if dtype.startswith("datetime64[ns, UTC]"):
            times = pd.to_datetime(frame[name], utc=True, errors="coerce", format="ISO8601")
            frame[name] = times.astype(dtype)
        elif dtype == "datetime64[ns]":
            frame[name] = pd.to_datetime(frame[name], errors="coerce", format="%Y-%m-%d").astype(dtype)
        else:
            frame[name] = frame[name].astype(dtype)
    return frame


def _timestamp(value: Any) -> str | None:
    """Return an ISO 8601 date-time string whose day is valid, or None."""
    return value if isinstance(value, str) and as_day(value) is not None else None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def seats_table(records: Iterable[Record]) -> pd.DataFrame:
    """Build the seats table: one row per ``seats[]`` entry of the seat listings.

    Enterprise listings repeat a user once per granting organisation or team, so the key is
    (organization_login, assignee_id, assigning_team_id); a seat whose assignee is null (a
    deleted account) keeps a null ``assignee_id``. The same entry in several files (pages
    fetched twice) is kept once, from the file sorted last.
    """
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for record in records:
        seats = record.data.get("seats")
        for position, seat in enumerate(seats if isinstance(seats, list) else []):
            if not isinstance(seat, dict):
                continue
            assignee, org, team = (
                _object(seat.get("assignee")),
                _object(seat.get("organization")),
                _object(seat.get("assigning_team")),
            )
            row = {
                "assignee_id": as_int(assignee.get("id")),
                "assignee_login": as_text(assignee.get("login")),
                "assignee_type": as_text(assignee.get("type")),
                "organization_login": as_text(org.get("login")),
                "assigning_team_id": as_int(team.get("id")),
                "assigning_team_slug": as_text(team.get("slug")),
                "plan_type": as_text(seat.get("plan_type")),
                "created_at": _timestamp(seat.get("created_at")),
                "updated_at": _timestamp(seat.get("updated_at")),
                "pending_cancellation_date": as_day(seat.get("pending_cancellation_date")),
                "last_activity_at": _timestamp(seat.get("last_activity_at")),
                "last_activity_editor": as_text(seat.get("last_activity_editor")),
                "last_authenticated_at": _timestamp(seat.get("last_authenticated_at")),
                "source_file": record.source.path,
            }
            if row["assignee_id"] is None:
                key: tuple[Any, ...] = (
                    "null-assignee",
                    record.source.path,
                    record.source.line,
                    position,
                )
            else:
                key = (row["organization_login"], row["assignee_id"], row["assigning_team_id"])
            rows[key] = row
    frame = _typed_frame(list(rows.values()), SEAT_COLUMNS)
    return frame.sort_values(["assignee_id", "organization_login"], kind="stable").reset_index(drop=True)


def billing_table(records: Iterable[Record]) -> pd.DataFrame:
    """Build the billing table: one row per ``/copilot/billing`` response, by file."""
    rows = []
    for record in records:
        data = record.data
        breakdown = _object(data.get("seat_breakdown"))
        row: dict[str, Any] = {name: as_int(breakdown.get(name)) for name in BILLING_COUNTS}
        row.update({name: as_text(data.get(name)) for name in BILLING_SETTINGS})
        row["source_file"] = record.source.path
        rows.append(row)
    return _typed_frame(rows, BILLING_COLUMNS)


def teams_table(records: Iterable[Record]) -> pd.DataFrame:
    """Build the teams table from ``/orgs/{org}/teams`` items: one row per team id."""
    rows: dict[int, dict[str, Any]] = {}
    for record in records:
        data = record.data
        team_id = as_int(data.get("id"))
        if team_id is None:
            continue
        parent = _object(data.get("parent"))
        rows[team_id] = {
            "team_id": team_id,
            "name": as_text(data.get("name")),
            "slug": as_text(data.get("slug")),
            "description": as_text(data.get("description")),
            "privacy": as_text(data.get("privacy")),
            "type": as_text(data.get("type")),
            "organization_id": as_text(data.get("organization_id")),
            "enterprise_id": as_text(data.get("enterprise_id")),
            "parent_team_id": as_int(parent.get("id")),
            "parent_slug": as_text(parent.get("slug")),
            "source_file": record.source.path,
        }
    frame = _typed_frame(list(rows.values()), TEAM_COLUMNS)
    return frame.sort_values("team_id", kind="stable").reset_index(drop=True)


__all__ = [
    "Tables",
    "billing_table",
    "build_tables",
    "load_folder",
    "scope_and_entity",
    "seats_table",
    "teams_table",
]
