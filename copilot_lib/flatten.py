"""Flatten report records into Arrow tables, one row per record or breakdown element.

This is the hot loop of ingestion, so it reads each breakdown element with one
``operator.itemgetter`` call and appends a tuple, and types whole columns at the end with
pyarrow. A value of the wrong type (a string where GitHub sends an integer, a bool, an
object) falls back to a per-value conversion that turns it into a null, so that no payload
makes the loop fail. Child rows carry the index of their parent row in ``_parent``; the
tables module joins them to the parent's key after dropping repeated records.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from datetime import date
from operator import itemgetter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from copilot_lib import schema
from copilot_lib.errors import ReportFormatError
from copilot_lib.reports import Record, RecordKind, classify, span_days

logger = logging.getLogger(__name__)

PARENT_INDEX = "_parent"
Columns = tuple[tuple[str, str], ...]


def scope_and_entity(data: dict[str, Any]) -> tuple[str | None, str | None]:
    """Return the scope and entity id a record belongs to, the id as a string.

    Organisation-scope records carry ``organization_id`` and often ``enterprise_id`` too;
    enterprise-scope records carry only ``enterprise_id``.
    """
    org = _id_text(data.get("organization_id"))
    if org is not None:
        return schema.SCOPE_ORGANIZATION, org
    enterprise = _id_text(data.get("enterprise_id"))
    if enterprise is not None:
        return schema.SCOPE_ENTERPRISE, enterprise
    return None, None


def _id_text(value: Any) -> str | None:
    """Return an entity id as text: ``"4455667"`` whether sent as a string, int or whole float."""
    if type(value) is str:
        return value or None
    number = as_int(value)
    return None if number is None else str(number)


_DAYS: dict[str, str | None] = {}
DAY_YEARS = (1900, 2199)


def as_day(value: Any) -> str | None:
    """Return ``YYYY-MM-DD`` for a date or date-time string, or None when it is not one.

    Years outside 1900-2199 count as invalid: pandas stores days as nanosecond timestamps,
    which end in 2262, and no Copilot report predates 2020.
    """
    if not isinstance(value, str):
        return None
    cached = _DAYS.get(value)
    if cached is not None or value in _DAYS:
        return cached
    try:
        parsed = date.fromisoformat(value[:10])
        result: str | None = parsed.isoformat() if DAY_YEARS[0] <= parsed.year <= DAY_YEARS[1] else None
    except ValueError:
        result = None
    if len(_DAYS) < 100_000:
        _DAYS[value] = result
    return result


def as_int(value: Any) -> int | None:
    """Return ``value`` as an int, accepting numeric strings and whole floats; else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**63 else None
    if isinstance(value, str):
        try:
            return as_int(int(value.strip()))
        except ValueError:
            return None
    return None


def as_float(value: Any) -> float | None:
    """Return ``value`` as a float, accepting numeric strings; else None."""
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


def as_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


# The Arrow type each column kind is built as.
ARROW_TYPES = {
    schema.INT: pa.int64(),
    schema.INT32: pa.int32(),
    schema.FLOAT: pa.float64(),
    schema.BOOL: pa.bool_(),
    schema.TEXT: pa.string(),
    schema.CATEGORY: pa.string(),
    schema.DAY: pa.string(),
}
_ACCEPTED = {
    schema.INT: (pa.int64(),),
    schema.INT32: (pa.int64(), pa.int32()),
    schema.FLOAT: (pa.float64(), pa.int64()),
    schema.BOOL: (pa.bool_(),),
    schema.TEXT: (pa.string(),),
    schema.CATEGORY: (pa.string(),),
    schema.DAY: (pa.string(),),
}
# pyarrow rejects any other Python type when asked for these types, so they can be built
# typed in one go. Integer and float columns are inferred first instead, because pyarrow
# would turn 2.5 into 2 in an integer column and True into 1.0 in a float column.
_STRICT_KINDS = (schema.TEXT, schema.CATEGORY, schema.DAY, schema.BOOL)
_CONVERT: dict[str, Callable[[Any], Any]] = {
    schema.INT: as_int,
    schema.INT32: as_int,
    schema.FLOAT: as_float,
    schema.BOOL: as_bool,
    schema.TEXT: as_text,
    schema.CATEGORY: as_text,
    schema.DAY: as_day,
}


def column_array(values: Iterable[Any], kind: str) -> pa.Array:
    """Build one typed Arrow column, converting value by value only when the fast path fails."""
    values = values if isinstance(values, list | tuple) else list(values)
    target = ARROW_TYPES[kind]
    try:
        if kind in _STRICT_KINDS:
            return pa.array(values, type=target)
        array = pa.array(values)
        if array.type == pa.null() or array.type in _ACCEPTED[kind]:
            return array.cast(target)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    convert = _CONVERT[kind]
    return pa.array([convert(value) for value in values], type=target)


def rows_table(rows: list[tuple[Any, ...]], columns: Columns, with_parent: bool) -> pa.Table:
    """Transpose row tuples into a typed Arrow table."""
    names = [name for name, _ in columns]
    kinds = [kind for _, kind in columns]
    if with_parent:
        names.insert(0, PARENT_INDEX)
        kinds.insert(0, schema.INT)
    if not rows:
        return _empty_table(tuple(names), tuple(kinds))
    arrays = []
    for name, kind, values in zip(names, kinds, zip(*rows, strict=True), strict=True):
        try:
            array = column_array(values, kind)
        except (pa.ArrowInvalid, OverflowError) as exc:
            beyond = next((value for value in map(as_int, values) if value is not None and abs(value) >= 2**31), None)
            if kind != schema.INT32 or beyond is None:
                raise
            raise ReportFormatError(
                f"{name} is {beyond}, beyond the 32-bit range a user's daily counter is stored in: "
                "check that the file is a Copilot usage metrics report"
            ) from exc
        if name in schema.DIMENSIONS:
            array = pc.if_else(pc.equal(pc.fill_null(array, ""), ""), schema.UNKNOWN, array)
        arrays.append(array)
    return pa.table(arrays, names=names)


@functools.cache
def _empty_table(names: tuple[str, ...], kinds: tuple[str, ...]) -> pa.Table:
    columns = {name: pa.array([], type=ARROW_TYPES[kind]) for name, kind in zip(names, kinds, strict=True)}
    return pa.table(columns)


class _Child:
    """Rows of one child table and the getter that reads an element's fields."""

    def __init__(self, parent: str, child: str):
        self.name = schema.child_table(parent, child)
        self.columns = schema.child_columns(parent, child)
        self.fields = tuple(name for name, _ in schema.CHILD_COLUMNS[child])
        self.getter = itemgetter(*self.fields)
        self.rows: list[tuple[Any, ...]] = []

    def read(self, item: dict[str, Any]) -> tuple[Any, ...]:
        try:
            values: tuple[Any, ...] = self.getter(item)
        except KeyError:
            values = tuple(map(item.get, self.fields))
        return values


# The array each list-shaped child is read from.
_ARRAYS = {
    "by_ide": "totals_by_ide",
    "by_feature": "totals_by_feature",
    "by_language_feature": "totals_by_language_feature",
    "by_language_model": "totals_by_language_model",
    "by_model_feature": "totals_by_model_feature",
    "by_3rd_party_agent": "totals_by_3rd_party_agent",
    "by_ai_adoption_phase": "totals_by_ai_adoption_phase",
}
_SIMPLE_ARRAYS = (
    "by_feature",
    "by_language_feature",
    "by_language_model",
    "by_model_feature",
    "by_3rd_party_agent",
    "by_ai_adoption_phase",
)
_EMPTY_VERSION: dict[str, Any] = {}
_ROW_KINDS = (RecordKind.USER_DAY, RecordKind.ENTITY_DAY, RecordKind.USER_TEAM, RecordKind.REPO_DAY)


@functools.lru_cache(maxsize=4096)
def _span_cached(start: str, end: str) -> int | None:
    return span_days(start, end)


def _span(start: Any, end: Any) -> int | None:
    if isinstance(start, str) and isinstance(end, str):
        return _span_cached(start, end)
    return None


class Flattener:
    """Collect the rows of every table from a stream of classified records."""

    def __init__(self) -> None:
        self.entity_rows: list[tuple[Any, ...]] = []
        self.user_rows: list[tuple[Any, ...]] = []
        self.team_rows: list[tuple[Any, ...]] = []
        self.repo_rows: list[tuple[Any, ...]] = []
        self.children = {
            parent: {child: _Child(parent, child) for child in names}
            for parent, names in (
                ("entity", schema.ENTITY_CHILDREN),
                ("user", schema.USER_CHILDREN),
                ("repo", ("pr_by_comment_type",)),
            )
        }
        self._arrays = {
            parent: [(_ARRAYS[child], children[child]) for child in _SIMPLE_ARRAYS if child in children]
            for parent, children in self.children.items()
        }
        self.other: list[Record] = []
        self.skipped = 0
        self._entity_get = itemgetter(*schema.ENTITY_USER_COUNTS, *schema.COUNTERS)
        self._entity_fields = (*schema.ENTITY_USER_COUNTS, *schema.COUNTERS)
        self._user_get = itemgetter(*schema.COUNTERS, *schema.USER_FLAGS)
        self._user_fields = (*schema.COUNTERS, *schema.USER_FLAGS)

    def add(self, record: Record) -> None:
        """Add one record's rows; records of other kinds are kept for later in ``other``."""
        source = record.source
        provenance = (source.created_at, source.span_days, source.path, source.line)
        if not self._dispatch(record.kind, record.data, provenance) and record.kind is not RecordKind.ENVELOPE:
            self.other.append(record)

    def add_object(self, obj: Any, path: str, line: int) -> bool:
        """Add a plain day record read from ``path`` without building a Record first.

        Returns False, adding nothing, for anything else (wrappers, seats, legacy days), which
        the caller passes through :meth:`add` as Records instead. This is the hot path of
        ingestion, because user-day files hold one such object per line.
        """
        if type(obj) is not dict or "day_totals" in obj:
            return False
        kind = classify(obj)
        if kind not in _ROW_KINDS:
            return False
        created = obj.get("created_at")
        start, end = obj.get("report_start_day"), obj.get("report_end_day")
        span = _span(start, end) if start is not None else None
        provenance = (created if isinstance(created, str) and created else None, span, path, line)
        return self._dispatch(kind, obj, provenance)

    def _dispatch(self, kind: RecordKind, data: dict[str, Any], provenance: tuple[Any, ...]) -> bool:
        if kind is RecordKind.USER_DAY:
            self._add_user(data, provenance)
        elif kind is RecordKind.ENTITY_DAY:
            self._add_entity(data, provenance)
        elif kind is RecordKind.USER_TEAM:
            self._add_user_team(data, provenance)
        elif kind is RecordKind.REPO_DAY:
            self._add_repo(data, provenance)
        else:
            return False
        return True

    def _skip(self, provenance: tuple[Any, ...], kind: str, what: str) -> None:
        self.skipped += 1
        if self.skipped <= 20:
            logger.warning("%s:%d: skipped one %s record without %s", provenance[2], provenance[3], kind, what)

    def _add_entity(self, data: dict[str, Any], provenance: tuple[Any, ...]) -> None:
        scope, entity = scope_and_entity(data)
        day = as_day(data.get("day"))
        if scope is None or day is None:
            self._skip(provenance, "entity day", "a valid day or an organization_id/enterprise_id")
            return
        try:
            values = self._entity_get(data)
        except KeyError:
            values = tuple(map(data.get, self._entity_fields))
        index = len(self.entity_rows)
        self.entity_rows.append(
            (
                scope,
                entity,
                day,
                data.get("organization_id"),
                data.get("enterprise_id"),
                *values,
                *provenance,
            )
        )
        self._add_children("entity", index, data)

    def _add_user(self, data: dict[str, Any], provenance: tuple[Any, ...]) -> None:
        scope, entity = scope_and_entity(data)
        day = as_day(data.get("day"))
        user_id = data.get("user_id")
        if type(user_id) is not int:
            user_id = as_int(user_id)
        if scope is None or day is None or user_id is None:
            self._skip(provenance, "user day", "a valid day, a user_id or an organization_id/enterprise_id")
            return
        try:
            values = self._user_get(data)
        except KeyError:
            values = tuple(map(data.get, self._user_fields))
        if values[-2] is None and "used_copilot_coding_agent" in data:
            values = (*values[:-2], data["used_copilot_coding_agent"], values[-1])
        phase = data.get("ai_adoption_phase")
        if isinstance(phase, dict):
            phase_name, phase_number = phase.get("phase"), phase.get("phase_number")
        else:
            phase_name = phase_number = None
        index = len(self.user_rows)
        self.user_rows.append(
            (
                scope,
                entity,
                day,
                data.get("organization_id"),
                data.get("enterprise_id"),
                user_id,
                data.get("user_login"),
                *values,
                data.get("ai_credits_used"),
                phase_name,
                phase_number,
                *provenance,
            )
        )
        self._add_children("user", index, data)

    def _add_children(self, parent: str, index: int, data: dict[str, Any]) -> None:
        children = self.children[parent]
        for field, target in self._arrays[parent]:
            items = data.get(field)
            if not items or type(items) is not list:
                continue
            rows, getter = target.rows, target.getter
            start = len(rows)
            try:
                for item in items:
                    rows.append((index, *getter(item)))
            except (KeyError, TypeError):
                # An element lacks a field or is not an object: redo this array slowly.
                del rows[start:]
                for item in items:
                    if isinstance(item, dict):
                        rows.append((index, *map(item.get, target.fields)))
        self._add_ides(parent, index, data.get("totals_by_ide"))
        for child, field in (("cli", "totals_by_cli"), ("copilot_app", "totals_by_copilot_app")):
            block = data.get(field)
            if isinstance(block, dict):
                self._add_sessions(parent, child, index, block)
        if parent == "entity":
            self._add_pull_requests("entity", index, data.get("pull_requests"))
        for name in schema.CHAT_PANEL_FIELDS:
            if name in data:
                self._add_chat_panel_field(children["by_feature"], index, data)
                break

    def _add_ides(self, parent: str, index: int, items: Any) -> None:
        if not items or not isinstance(items, list):
            return
        target = self.children[parent]["by_ide"]
        for item in items:
            if not isinstance(item, dict):
                continue
            values = target.read(item)
            if parent == "user":
                ide = item.get("last_known_ide_version")
                plugin = item.get("last_known_plugin_version")
                ide = ide if isinstance(ide, dict) else _EMPTY_VERSION
                plugin = plugin if isinstance(plugin, dict) else _EMPTY_VERSION
                values = (
                    *values,
                    ide.get("ide_version"),
                    ide.get("sampled_at"),
                    plugin.get("plugin"),
                    plugin.get("plugin_version"),
                    plugin.get("sampled_at"),
                )
            target.rows.append((index, *values))

    def _add_sessions(self, parent: str, child: str, index: int, block: dict[str, Any]) -> None:
        tokens = block.get("token_usage")
        tokens = tokens if isinstance(tokens, dict) else _EMPTY_VERSION
        values: tuple[Any, ...] = (
            *map(block.get, schema.SESSION_COUNTS),
            *map(tokens.get, schema.TOKEN_USAGE),
        )
        if parent == "user" and child == "cli":
            version = block.get("last_known_cli_version")
            version = version if isinstance(version, dict) else _EMPTY_VERSION
            values = (*values, version.get("cli_version"), version.get("sampled_at"))
        self.children[parent][child].rows.append((index, *values))

    def _add_pull_requests(self, parent: str, index: int, block: Any) -> None:
        if not isinstance(block, dict):
            return
        if parent == "entity":
            target = self.children["entity"]["pull_requests"]
            target.rows.append((index, *map(block.get, target.fields)))
        by_type = block.get("copilot_suggestions_by_comment_type")
        if isinstance(by_type, list):
            target = self.children[parent]["pr_by_comment_type"]
            for item in by_type:
                if isinstance(item, dict):
                    target.rows.append((index, *target.read(item)))

    def _add_chat_panel_field(self, target: _Child, index: int, data: dict[str, Any]) -> None:
        """Read top-level ``chat_panel_*`` fields as feature rows, unless the array has them.

        Some payloads send a chat mode's count both in ``totals_by_feature`` and as a
        top-level field; the array wins, so the activity is never counted twice. A
        top-level integer is the mode's ``user_initiated_interaction_count``; a top-level
        object carries the usual counters.
        """
        items = data.get("totals_by_feature")
        listed = (
            {item.get("feature") for item in items if isinstance(item, dict) and isinstance(item.get("feature"), str)}
            if isinstance(items, list)
            else set()
        )
        for name in schema.CHAT_PANEL_FIELDS:
            value = data.get(name)
            if name in listed or value is None:
                continue
            if isinstance(value, dict):
                target.rows.append((index, name, *map(value.get, schema.COUNTERS)))
            else:
                target.rows.append((index, name, value, *([None] * (len(schema.COUNTERS) - 1))))

    def _add_user_team(self, data: dict[str, Any], provenance: tuple[Any, ...]) -> None:
        scope, entity = scope_and_entity(data)
        day = as_day(data.get("day"))
        user_id, team_id = as_int(data.get("user_id")), as_int(data.get("team_id"))
        if scope is None or day is None or user_id is None or team_id is None:
            self._skip(
                provenance,
                "user-teams",
                "a valid day, user_id, team_id or organization_id/enterprise_id",
            )
            return
        self.team_rows.append(
            (
                scope,
                entity,
                day,
                user_id,
                data.get("user_login"),
                team_id,
                data.get("slug"),
                *provenance,
            )
        )

    def _add_repo(self, data: dict[str, Any], provenance: tuple[Any, ...]) -> None:
        scope, entity = scope_and_entity(data)
        day = as_day(data.get("day"))
        repo_id = as_int(data.get("repo_id"))
        if scope is None or day is None or repo_id is None:
            self._skip(provenance, "repository", "a valid day, repo_id or organization_id/enterprise_id")
            return
        block = data.get("pull_requests")
        block = block if isinstance(block, dict) else _EMPTY_VERSION
        index = len(self.repo_rows)
        self.repo_rows.append(
            (
                scope,
                entity,
                day,
                data.get("organization_id"),
                data.get("enterprise_id"),
                repo_id,
                data.get("repo_owner_name"),
                data.get("repo_name"),
                data.get("repo_visibility"),
                *map(block.get, schema.PULL_REQUEST_COUNTS),
                *map(block.get, schema.PULL_REQUEST_MEDIANS),
                *provenance,
            )
        )
        self._add_pull_requests("repo", index, block)

    def tables(self) -> dict[str, pa.Table]:
        """Return every table collected so far, typed; child tables keep ``_parent``."""
        result = {
            "entity_daily": rows_table(self.entity_rows, schema.ENTITY_DAILY, False),
            "user_daily": rows_table(self.user_rows, schema.USER_DAILY, False),
            "user_teams": rows_table(self.team_rows, schema.USER_TEAMS, False),
            "repo_daily": rows_table(self.repo_rows, schema.REPO_DAILY, False),
        }
        for children in self.children.values():
            for child in children.values():
                result[child.name] = rows_table(child.rows, child.columns, True)
        return result
