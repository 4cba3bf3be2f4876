"""Turn report records into tidy pandas tables whose columns keep GitHub's field names.

Each table has a natural key. When several records share a key (a 28-day report overlaps the
1-day reports, reports are fetched again while data settles, parts repeat rows), the record
from the report created last wins, a 1-day report wins a tie with a 28-day report, and the
path and line of the file break any remaining tie. The outcome never depends on the order in
which files were read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from copilot_lib.reports import Provenance, Record, RecordKind, read_folder

logger = logging.getLogger(__name__)

SCOPE_ORGANIZATION = "organization"
SCOPE_ENTERPRISE = "enterprise"

# The activity counters GitHub reports at the top level and inside breakdown elements.
COUNTERS = (
    "user_initiated_interaction_count",
    "code_generation_activity_count",
    "code_acceptance_activity_count",
    "loc_suggested_to_add_sum",
    "loc_suggested_to_delete_sum",
    "loc_added_sum",
    "loc_deleted_sum",
)

ENTITY_USER_COUNTS = (
    "daily_active_users",
    "weekly_active_users",
    "monthly_active_users",
    "monthly_active_chat_users",
    "monthly_active_agent_users",
    "daily_active_cli_users",
    "daily_active_copilot_code_review_users",
    "weekly_active_copilot_code_review_users",
    "monthly_active_copilot_code_review_users",
    "daily_passive_copilot_code_review_users",
    "weekly_passive_copilot_code_review_users",
    "monthly_passive_copilot_code_review_users",
    "daily_active_copilot_cloud_agent_users",
    "weekly_active_copilot_cloud_agent_users",
    "monthly_active_copilot_cloud_agent_users",
    "daily_active_copilot_app_users",
)

USER_FLAGS = (
    "used_agent",
    "used_chat",
    "used_cli",
    "used_copilot_code_review_active",
    "used_copilot_code_review_passive",
    "used_copilot_cloud_agent",
    "used_copilot_app",
)
# GitHub is renaming "coding agent" to "cloud agent"; both spellings fill one column.
FLAG_ALIASES = {"used_copilot_coding_agent": "used_copilot_cloud_agent"}

KEY_COLUMNS = ("scope", "entity_id", "day")
PROVENANCE_COLUMNS = ("report_created_at", "report_span_days", "source_file", "source_line")


@dataclass(frozen=True)
class BreakdownSpec:
    """How one ``totals_by_*`` array of a record becomes a table."""

    array: str
    table: str
    keys: tuple[str, ...]
    counters: tuple[str, ...] = COUNTERS


ENTITY_BREAKDOWNS = (
    BreakdownSpec("totals_by_feature", "entity_by_feature", ("feature",)),
    BreakdownSpec("totals_by_ide", "entity_by_ide", ("ide",)),
    BreakdownSpec("totals_by_language_feature", "entity_by_language_feature", ("language", "feature")),
)
USER_BREAKDOWNS = (
    BreakdownSpec("totals_by_feature", "user_by_feature", ("feature",)),
    BreakdownSpec("totals_by_ide", "user_by_ide", ("ide",)),
    BreakdownSpec("totals_by_language_feature", "user_by_language_feature", ("language", "feature")),
)


@dataclass
class Tables:
    """The tidy tables built from one set of report records."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    duplicates_dropped: dict[str, int] = field(default_factory=dict)

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

    def has_entity_records(self) -> bool:
        """Return True when the folder held organisation or enterprise day records."""
        return not self.entity_daily.empty


def scope_and_entity(data: dict[str, Any]) -> tuple[str | None, str | None]:
    """Return the scope and entity id a record belongs to.

    Organisation-scope records carry ``organization_id`` and often ``enterprise_id`` too;
    enterprise-scope records carry only ``enterprise_id``. Ids are returned as strings
    whatever type the payload used.
    """
    org = data.get("organization_id")
    if org is not None and org != "":
        return SCOPE_ORGANIZATION, str(org)
    enterprise = data.get("enterprise_id")
    if enterprise is not None and enterprise != "":
        return SCOPE_ENTERPRISE, str(enterprise)
    return None, None


def _as_int(value: Any) -> int | None:
    """Return ``value`` as an int, accepting numeric strings and whole floats; else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _as_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _as_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _day(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    return value[:10]


def select_latest(records: Iterable[Record], key_fields: tuple[str, ...]) -> tuple[list[Record], int]:
    """Keep one record per natural key: the one whose provenance ranks highest.

    Returns the winners and the number of records dropped. ``key_fields`` are looked up in
    each record after the scope and entity id, which are always part of the key.
    """
    best: dict[tuple[Any, ...], tuple[tuple[str, int, str, int], Record]] = {}
    seen = 0
    for record in records:
        seen += 1
        scope, entity = scope_and_entity(record.data)
        key = (scope, entity, *(_key_value(record.data.get(name)) for name in key_fields))
        rank = record.source.precedence()
        current = best.get(key)
        if current is None or rank > current[0]:
            best[key] = (rank, record)
    winners = [record for _, record in best.values()]
    return winners, seen - len(winners)


def _key_value(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-":
        return value[:10]
    as_int = _as_int(value)
    return as_int if as_int is not None else value


def _provenance_values(source: Provenance) -> tuple[Any, ...]:
    return (source.created_at, source.span_days, source.path, source.line)


class _Columns:
    """Column-oriented row builder: appending to lists is far cheaper than one dict per row."""

    def __init__(self, names: Iterable[str]):
        self.data: dict[str, list[Any]] = {name: [] for name in names}

    def append(self, values: dict[str, Any]) -> None:
        for name, column in self.data.items():
            column.append(values.get(name))


def _entity_rows(records: list[Record]) -> dict[str, pd.DataFrame]:
    daily_names = (*KEY_COLUMNS, "organization_id", "enterprise_id", *ENTITY_USER_COUNTS, *COUNTERS)
    daily = _Columns((*daily_names, *PROVENANCE_COLUMNS))
    breakdowns = {spec.table: _Columns((*KEY_COLUMNS, *spec.keys, *spec.counters)) for spec in ENTITY_BREAKDOWNS}
    for record in records:
        data = record.data
        scope, entity = scope_and_entity(data)
        day = _day(data.get("day"))
        if scope is None or day is None:
            logger.warning(
                "%s:%d: skipped a day record without a day or an organisation/enterprise id",
                record.source.path,
                record.source.line,
            )
            continue
        row: dict[str, Any] = {
            "scope": scope,
            "entity_id": entity,
            "day": day,
            "organization_id": _as_text(data.get("organization_id")),
            "enterprise_id": _as_text(data.get("enterprise_id")),
        }
        for name in (*ENTITY_USER_COUNTS, *COUNTERS):
            row[name] = _as_int(data.get(name))
        row.update(zip(PROVENANCE_COLUMNS, _provenance_values(record.source), strict=True))
        daily.append(row)
        _append_breakdowns(breakdowns, ENTITY_BREAKDOWNS, data, row)
    frames = {"entity_daily": _frame(daily, int_columns=(*ENTITY_USER_COUNTS, *COUNTERS))}
    for spec in ENTITY_BREAKDOWNS:
        frames[spec.table] = _frame(breakdowns[spec.table], int_columns=spec.counters)
    return frames


def _append_breakdowns(
    builders: dict[str, _Columns], specs: tuple[BreakdownSpec, ...], data: dict[str, Any], parent: dict[str, Any]
) -> None:
    for spec in specs:
        items = data.get(spec.array)
        if not isinstance(items, list):
            continue
        builder = builders[spec.table]
        for item in items:
            if not isinstance(item, dict):
                continue
            row = {name: parent[name] for name in parent if name in builder.data}
            for key in spec.keys:
                value = item.get(key)
                row[key] = "unknown" if value is None or value == "" else str(value)
            for name in spec.counters:
                row[name] = _as_int(item.get(name))
            builder.append(row)


def _user_rows(records: list[Record]) -> dict[str, pd.DataFrame]:
    base = (*KEY_COLUMNS, "organization_id", "enterprise_id", "user_id", "user_login")
    extra = ("ai_credits_used", "ai_adoption_phase", "ai_adoption_phase_number")
    daily = _Columns((*base, *COUNTERS, *USER_FLAGS, *extra, *PROVENANCE_COLUMNS))
    breakdowns = {
        spec.table: _Columns((*KEY_COLUMNS, "user_id", *spec.keys, *spec.counters)) for spec in USER_BREAKDOWNS
    }
    for record in records:
        data = record.data
        scope, entity = scope_and_entity(data)
        day = _day(data.get("day"))
        user_id = _as_int(data.get("user_id"))
        if scope is None or day is None or user_id is None:
            logger.warning(
                "%s:%d: skipped a user-day record without a day, a user_id or an organisation/enterprise id",
                record.source.path,
                record.source.line,
            )
            continue
        row: dict[str, Any] = {
            "scope": scope,
            "entity_id": entity,
            "day": day,
            "organization_id": _as_text(data.get("organization_id")),
            "enterprise_id": _as_text(data.get("enterprise_id")),
            "user_id": user_id,
            "user_login": _as_text(data.get("user_login")),
        }
        for name in COUNTERS:
            row[name] = _as_int(data.get(name))
        for name in USER_FLAGS:
            row[name] = _as_bool(data.get(name))
        for alias, name in FLAG_ALIASES.items():
            if row[name] is None:
                row[name] = _as_bool(data.get(alias))
        row["ai_credits_used"] = _as_float(data.get("ai_credits_used"))
        phase = data.get("ai_adoption_phase")
        if isinstance(phase, dict):
            row["ai_adoption_phase"] = _as_text(phase.get("phase"))
            row["ai_adoption_phase_number"] = _as_int(phase.get("phase_number"))
        row.update(zip(PROVENANCE_COLUMNS, _provenance_values(record.source), strict=True))
        daily.append(row)
        _append_breakdowns(breakdowns, USER_BREAKDOWNS, data, row)
    frames = {
        "user_daily": _frame(
            daily, int_columns=(*COUNTERS, "user_id", "ai_adoption_phase_number"), bool_columns=USER_FLAGS
        )
    }
    for spec in USER_BREAKDOWNS:
        frames[spec.table] = _frame(breakdowns[spec.table], int_columns=(*spec.counters, "user_id"))
    return frames


def _frame(
    columns: _Columns, *, int_columns: Iterable[str] = (), bool_columns: Iterable[str] = ()
) -> pd.DataFrame:
    frame = pd.DataFrame(columns.data)
    frame["day"] = pd.to_datetime(frame["day"], format="%Y-%m-%d").astype("datetime64[ns]")
    for name in int_columns:
        if name in frame:
            frame[name] = pd.array(frame[name].tolist(), dtype="Int64")
    for name in bool_columns:
        if name in frame:
            frame[name] = pd.array(frame[name].tolist(), dtype="boolean")
    for name in ("scope", "entity_id", "organization_id", "enterprise_id", "source_file"):
        if name in frame:
            frame[name] = frame[name].astype("category")
    if "report_span_days" in frame:
        frame["report_span_days"] = pd.array(frame["report_span_days"].tolist(), dtype="Int64")
    if "source_line" in frame:
        frame["source_line"] = frame["source_line"].astype("int64")
    sort_keys = [name for name in ("scope", "entity_id", "day", "user_id") if name in frame]
    return frame.sort_values(sort_keys, kind="stable").reset_index(drop=True)


def build_tables(records: Iterable[Record]) -> Tables:
    """Build every table from classified report records, keeping one record per natural key."""
    by_kind: dict[RecordKind, list[Record]] = {}
    for record in records:
        by_kind.setdefault(record.kind, []).append(record)

    tables = Tables()
    entity, entity_dropped = select_latest(by_kind.get(RecordKind.ENTITY_DAY, []), ("day",))
    users, user_dropped = select_latest(by_kind.get(RecordKind.USER_DAY, []), ("day", "user_id"))
    tables.frames.update(_entity_rows(entity))
    tables.frames.update(_user_rows(users))
    tables.duplicates_dropped = {"entity_daily": entity_dropped, "user_daily": user_dropped}
    for table, dropped in tables.duplicates_dropped.items():
        if dropped:
            logger.info("%s: dropped %d repeated records, keeping the newest report's copy", table, dropped)
    return tables


def load_folder(folder: str | os.PathLike[str]) -> Tables:
    """Read every report file under ``folder`` and build the tables."""
    return build_tables(read_folder(folder))
