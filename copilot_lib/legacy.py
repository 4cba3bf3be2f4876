"""Import archives of GitHub's retired Copilot APIs into their own tables.

Two APIs came before the usage metrics reports: ``/copilot/usage`` (days with ``day``,
``total_*`` counts and a ``breakdown[]`` by language and editor; retired in 2025) and
``/copilot/metrics`` (days with ``date`` and nested ``copilot_ide_code_completions``,
``copilot_ide_chat``, ``copilot_dotcom_chat`` and ``copilot_dotcom_pull_requests``; retired
on 2026-04-02). Archives of them come as a JSON array of days, as a file that mixes both
(the original archiver appended ``/metrics`` days to a ``/usage`` archive), or as a team
history file: an array of ``{"team": {...}, "data": [metrics days]}`` that may repeat a day.

Their numbers do not mean the same as the current reports' (for instance "active" counted
users who merely received a suggestion), so they stay in ``legacy_*`` tables and are never
mixed into the current ones. docs/data-model.md maps each legacy field to its nearest
current field, or says it has none.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from typing import Any

import pandas as pd

from copilot_lib.tables import Record, RecordKind, Tables, as_day, load_folder

logger = logging.getLogger(__name__)

USAGE_TOTALS = (
    "total_suggestions_count",
    "total_acceptances_count",
    "total_lines_suggested",
    "total_lines_accepted",
    "total_active_users",
    "total_chat_acceptances",
    "total_chat_turns",
    "total_active_chat_users",
)
USAGE_BREAKDOWN = (
    "suggestions_count",
    "acceptances_count",
    "lines_suggested",
    "lines_accepted",
    "active_users",
)
COMPLETION_COUNTS = (
    "total_engaged_users",
    "total_code_suggestions",
    "total_code_acceptances",
    "total_code_lines_suggested",
    "total_code_lines_accepted",
)
IDE_CHAT_COUNTS = (
    "total_engaged_users",
    "total_chats",
    "total_chat_insertion_events",
    "total_chat_copy_events",
)
DOTCOM_CHAT_COUNTS = ("total_engaged_users", "total_chats")
PULL_REQUEST_COUNTS = ("total_engaged_users", "total_pr_summaries_created")
MODEL_COLUMNS = ("model", "is_custom_model", "custom_model_training_date")
ORG_LEVEL = ""  # team_slug of rows that belong to the whole organisation or enterprise

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "legacy_usage_daily": ("team_slug", "day", *USAGE_TOTALS),
    "legacy_usage_breakdown": ("team_slug", "day", "language", "editor", *USAGE_BREAKDOWN),
    "legacy_metrics_daily": (
        "team_slug",
        "day",
        "total_active_users",
        "total_engaged_users",
        "ide_code_completions_engaged_users",
        "ide_chat_engaged_users",
        "dotcom_chat_engaged_users",
        "dotcom_pull_requests_engaged_users",
    ),
    "legacy_code_completions": (
        "team_slug",
        "day",
        "editor",
        *MODEL_COLUMNS,
        "language",
        *COMPLETION_COUNTS,
    ),
    "legacy_ide_chat": ("team_slug", "day", "editor", *MODEL_COLUMNS, *IDE_CHAT_COUNTS),
    "legacy_dotcom_chat": ("team_slug", "day", *MODEL_COLUMNS, *DOTCOM_CHAT_COUNTS),
    "legacy_dotcom_pull_requests": (
        "team_slug",
        "day",
        "repository",
        *MODEL_COLUMNS,
        *PULL_REQUEST_COUNTS,
    ),
}
TEXT_COLUMNS = {
    "team_slug",
    "language",
    "editor",
    "model",
    "repository",
    "custom_model_training_date",
}


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _objects(value: Any) -> list[dict[str, Any]]:
    """Return the objects of a list; quiet features come as stubs, null or nothing."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _model(model: dict[str, Any]) -> dict[str, Any]:
    custom = model.get("is_custom_model")
    return {
        "model": _text(model.get("name")) or "default",
        "is_custom_model": custom if isinstance(custom, bool) else None,
        "custom_model_training_date": _text(model.get("custom_model_training_date")),
    }


class _Rows:
    """Rows per legacy table, grouped by (team_slug, day) so a repeated day replaces the last."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[tuple[str, str], list[dict[str, Any]]]] = {name: {} for name in TABLE_COLUMNS}
        self.replaced: dict[str, int] = dict.fromkeys(TABLE_COLUMNS, 0)

    def day(self, table: str, team: str, day: str) -> None:
        """Forget the rows of one team and day in a table before a newer copy is added."""
        if self.tables[table].pop((team, day), None) is not None:
            self.replaced[table] += 1

    def add(self, table: str, row: dict[str, Any]) -> None:
        # Rows within a day are kept as listed: GitHub's breakdowns can list the same
        # language and editor twice in one day, and both entries count.
        self.tables[table].setdefault((row["team_slug"], row["day"]), []).append(row)

    def rows(self, table: str) -> list[dict[str, Any]]:
        return [row for day in self.tables[table].values() for row in day]


def _usage_day(rows: _Rows, data: dict[str, Any], team: str) -> None:
    day = _day(data.get("day"))
    if day is None:
        return
    for table in ("legacy_usage_daily", "legacy_usage_breakdown"):
        rows.day(table, team, day)
    base = {"team_slug": team, "day": day}
    rows.add("legacy_usage_daily", {**base, **{name: _int(data.get(name)) for name in USAGE_TOTALS}})
    for item in _objects(data.get("breakdown")):
        row: dict[str, Any] = {
            **base,
            "language": _text(item.get("language")) or "unknown",
            "editor": _text(item.get("editor")) or "unknown",
        }
        row.update({name: _int(item.get(name)) for name in USAGE_BREAKDOWN})
        rows.add("legacy_usage_breakdown", row)


def _metrics_day(rows: _Rows, data: dict[str, Any], team: str) -> None:
    day = _day(data.get("date"))
    if day is None:
        return
    for table in TABLE_COLUMNS:
        if not table.startswith("legacy_usage"):
            rows.day(table, team, day)
    base = {"team_slug": team, "day": day}
    completions = _object(data.get("copilot_ide_code_completions"))
    ide_chat = _object(data.get("copilot_ide_chat"))
    dotcom_chat = _object(data.get("copilot_dotcom_chat"))
    pulls = _object(data.get("copilot_dotcom_pull_requests"))
    rows.add(
        "legacy_metrics_daily",
        {
            **base,
            "total_active_users": _int(data.get("total_active_users")),
            "total_engaged_users": _int(data.get("total_engaged_users")),
            "ide_code_completions_engaged_users": _int(completions.get("total_engaged_users")),
            "ide_chat_engaged_users": _int(ide_chat.get("total_engaged_users")),
            "dotcom_chat_engaged_users": _int(dotcom_chat.get("total_engaged_users")),
            "dotcom_pull_requests_engaged_users": _int(pulls.get("total_engaged_users")),
        },
    )
    for editor in _objects(completions.get("editors")):
        for model in _objects(editor.get("models")):
            for language in _objects(model.get("languages")):
                row = {**base, "editor": _text(editor.get("name")) or "unknown", **_model(model)}
                row["language"] = _text(language.get("name")) or "unknown"
                row.update({name: _int(language.get(name)) for name in COMPLETION_COUNTS})
                rows.add("legacy_code_completions", row)
    for editor in _objects(ide_chat.get("editors")):
        for model in _objects(editor.get("models")):
            row = {**base, "editor": _text(editor.get("name")) or "unknown", **_model(model)}
            row.update({name: _int(model.get(name)) for name in IDE_CHAT_COUNTS})
            rows.add("legacy_ide_chat", row)
    for model in _objects(dotcom_chat.get("models")):
        row = {
            **base,
            **_model(model),
            **{name: _int(model.get(name)) for name in DOTCOM_CHAT_COUNTS},
        }
        rows.add("legacy_dotcom_chat", row)
    for repository in _objects(pulls.get("repositories")):
        for model in _objects(repository.get("models")):
            row = {
                **base,
                "repository": _text(repository.get("name")) or "unknown",
                **_model(model),
            }
            row.update({name: _int(model.get(name)) for name in PULL_REQUEST_COUNTS})
            rows.add("legacy_dotcom_pull_requests", row)


def _day(value: Any) -> str | None:
    return as_day(value)


def legacy_tables(records: Iterable[Record]) -> dict[str, pd.DataFrame]:
    """Build the ``legacy_*`` tables from records of the retired APIs.

    The natural key of every table starts with (team_slug, day); ``team_slug`` is empty for
    organisation- or enterprise-level archives. When a day appears more than once (a team
    history that repeats a day, overlapping archives), the copy read last wins: records are
    taken in file path order and, within a file, in order.
    """
    rows = _Rows()
    ordered = sorted(records, key=lambda record: (record.source.path, record.source.line))
    for record in ordered:
        if record.kind is RecordKind.LEGACY_USAGE_DAY:
            _usage_day(rows, record.data, ORG_LEVEL)
        elif record.kind is RecordKind.LEGACY_METRICS_DAY:
            _metrics_day(rows, record.data, ORG_LEVEL)
        elif record.kind is RecordKind.LEGACY_TEAM_HISTORY:
            team = _object(record.data.get("team"))
            slug = _text(team.get("slug")) or _text(team.get("name")) or "unknown"
            for day in _objects(record.data.get("data")):
                if "date" in day:
                    _metrics_day(rows, day, slug)
                elif "day" in day:
                    _usage_day(rows, day, slug)
    for table, count in rows.replaced.items():
        if count:
            logger.info("%s: %d repeated days replaced by the copy read last", table, count)
    return {name: _frame(name, rows.rows(name)) for name in TABLE_COLUMNS}


def _frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    columns = TABLE_COLUMNS[name]
    frame = pd.DataFrame(rows, columns=list(columns))
    for column in columns:
        if column == "day":
            frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d").astype("datetime64[ns]")
        elif column == "is_custom_model":
            frame[column] = frame[column].astype("boolean")
        elif column in TEXT_COLUMNS:
            frame[column] = frame[column].astype("string")
        else:
            frame[column] = frame[column].astype("Int64")
    return frame.sort_values(["team_slug", "day"], kind="stable").reset_index(drop=True)


def add_legacy_tables(tables: Tables) -> Tables:
    """Add the ``legacy_*`` tables built from ``tables.legacy_records`` to ``tables``."""
    tables.frames.update(legacy_tables(tables.legacy_records))
    return tables


def load_legacy(folder: str | os.PathLike[str]) -> dict[str, pd.DataFrame]:
    """Read every file under ``folder`` and return only the ``legacy_*`` tables."""
    return legacy_tables(load_folder(folder).legacy_records)
