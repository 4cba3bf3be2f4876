"""Read plain user-day NDJSON straight into Arrow tables, parsed in C++ by ``pyarrow.json``.

User-day report files are the largest by far, and in them every line is one user-day object
of the same shape. With an explicit schema, ``pyarrow.json`` (version 26) parses such lines
somewhat slower than ``orjson`` alone: about 120 ms against 90 ms for 32 MB of the
benchmark's records. But it builds typed columns without a Python object per value, and
the breakdown arrays become child tables by flattening their list columns.

This path only takes input whose tables it builds exactly as :class:`Flattener` would. It
returns None, and the caller reads the bytes the general way, for anything else: a line that
is not one object, a value of another type than GitHub sends (pyarrow rejects it, where the
general path turns it into a null or text), a record of another kind, a key that changes a
record's meaning (``day_totals``, top-level ``chat_panel_*`` fields, the old name of the
cloud agent flag), a record the general path would skip (no valid day, user id or entity),
NaN or Infinity, invalid UTF-8, or a malformed line. The general path then raises the
error that names the file and line.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from copilot_lib import schema
from copilot_lib.flatten import ARROW_TYPES, PARENT_INDEX, Flattener, as_day
from copilot_lib.reports import span_days

logger = logging.getLogger(__name__)


# Top-level keys that make a record another kind (see reports.classify) whatever their value.
# They are left out of the schema. pyarrow adds a column for each field it does not expect,
# even one whose every value is null, so a column of one of these names sends the bytes to
# the general path. pyarrow decodes escapes in keys before matching them.
_KIND_KEYS = (
    "download_links",
    "seats",
    "total_seats",
    "seat_breakdown",
    "team",
    "breakdown",
    "total_suggestions_count",
    "team_id",
)
# Keys the general path reads specially. A null value there changes nothing.
_SPECIAL_KEYS = ("day_totals", *schema.CHAT_PANEL_FIELDS, *schema.FLAG_ALIASES)
# orjson rejects these literals, where pyarrow would read them as floats.
_REJECTED = (b"NaN", b"Infinity")
_NEWLINE, _BRACE = ord("\n"), ord("{")

# The list-shaped breakdowns of a user day: child name, array field.
_LISTS = (
    ("by_ide", "totals_by_ide"),
    ("by_feature", "totals_by_feature"),
    ("by_language_feature", "totals_by_language_feature"),
    ("by_language_model", "totals_by_language_model"),
    ("by_model_feature", "totals_by_model_feature"),
    ("by_3rd_party_agent", "totals_by_3rd_party_agent"),
)
_SESSIONS = (("cli", "totals_by_cli"), ("copilot_app", "totals_by_copilot_app"))
_VERSION_PATHS = {
    "ide_version": ("last_known_ide_version", "ide_version"),
    "ide_version_sampled_at": ("last_known_ide_version", "sampled_at"),
    "plugin": ("last_known_plugin_version", "plugin"),
    "plugin_version": ("last_known_plugin_version", "plugin_version"),
    "plugin_version_sampled_at": ("last_known_plugin_version", "sampled_at"),
    "cli_version": ("last_known_cli_version", "cli_version"),
    "cli_version_sampled_at": ("last_known_cli_version", "sampled_at"),
    **{name: ("token_usage", name) for name in schema.TOKEN_USAGE},
}


def _fields(columns: tuple[tuple[str, str], ...]) -> list[pa.Field]:
    return [pa.field(name, ARROW_TYPES[kind]) for name, kind in columns]


def _version(*names: str) -> pa.DataType:
    return pa.struct([pa.field(name, pa.string()) for name in names])


def _session_type(with_version: bool) -> pa.DataType:
    fields = [
        *_fields(schema.SESSION_COLUMNS[: len(schema.SESSION_COUNTS)]),
        pa.field("token_usage", pa.struct(_fields(schema.SESSION_COLUMNS[len(schema.SESSION_COUNTS) :]))),
    ]
    if with_version:
        fields.append(pa.field("last_known_cli_version", _version("cli_version", "sampled_at")))
    return pa.struct(fields)


def _element_type(child: str) -> pa.DataType:
    fields = _fields(schema.CHILD_COLUMNS[child])
    if child == "by_ide":
        fields.append(pa.field("last_known_ide_version", _version("ide_version", "sampled_at")))
        fields.append(pa.field("last_known_plugin_version", _version("plugin", "plugin_version", "sampled_at")))
    return pa.struct(fields)


def _input_schema() -> pa.Schema:
    """Return the fields read from each user-day line, typed as GitHub sends them."""
    text = pa.string()
    return pa.schema(
        [
            pa.field("day", text),
            pa.field("organization_id", text),
            pa.field("enterprise_id", text),
            pa.field("user_id", pa.int64()),
            pa.field("user_login", text),
            *_fields(schema.COUNTER_COLUMNS),
            *(pa.field(name, pa.bool_()) for name in schema.USER_FLAGS),
            pa.field("ai_credits_used", pa.float64()),
            pa.field("ai_adoption_phase", pa.struct([("phase", text), ("phase_number", pa.int64())])),
            pa.field("created_at", text),
            pa.field("report_start_day", text),
            pa.field("report_end_day", text),
            *(pa.field(field, pa.list_(_element_type(child))) for child, field in _LISTS),
            pa.field("totals_by_cli", _session_type(True)),
            pa.field("totals_by_copilot_app", _session_type(False)),
            *(pa.field(key, pa.null()) for key in _SPECIAL_KEYS),
        ]
    )


INPUT_SCHEMA = _input_schema()


def line_breaks(raw: bytes, block: int = 1 << 20) -> tuple[int, bool]:
    """Return the number of line breaks in ``raw`` and whether each one but a final one is
    followed by ``{``.

    numpy compares ``block`` bytes at a time, so that its temporary arrays stay in the CPU
    cache and are reused. On a 32 MB range of the benchmark's records, one comparison over
    the whole range took two to four times as long, most of it in page faults on fresh
    memory for the temporaries.
    """
    view = np.frombuffer(raw, dtype=np.uint8)
    count = 0
    braced = True
    for start in range(0, max(len(view) - 1, 0), block):
        # One byte more than the block, so that a break at the block's end is checked too.
        window = view[start : start + block + 1]
        newline = window[:-1] == _NEWLINE
        count += int(np.count_nonzero(newline))
        if braced and not (window[1:][newline] == _BRACE).all():
            braced = False
    return count + raw.endswith(b"\n"), braced


def plain_lines(raw: bytes, breaks: tuple[int, bool] | None = None) -> int | None:
    """Return the number of lines when every line of ``raw`` is plain enough to read here.

    Each line must start an object, so that row ``i`` of the result is line ``i``.
    ``breaks`` is ``line_breaks(raw)`` when the caller has computed it already.
    """
    if not raw.startswith(b"{"):
        return None
    newlines, braced = breaks if breaks is not None else line_breaks(raw)
    if not braced:
        return None
    # A search for one byte is a memchr, much faster than a search for several.
    if any(marker[:1] in raw and marker in raw for marker in _REJECTED):
        return None
    if not raw.isascii():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return newlines + (not raw.endswith(b"\n"))


def user_day_tables(
    raw: bytes, path: str, first_line: int, breaks: tuple[int, bool] | None = None
) -> dict[str, pa.Table] | None:
    """Return the tables :class:`Flattener` would build from these NDJSON lines, or None.

    ``first_line`` is the line number of the first line of ``raw`` in ``path``;
    ``breaks`` is ``line_breaks(raw)`` when the caller has computed it already.
    """
    lines = plain_lines(raw, breaks)
    if lines is None:
        return None
    # NOTE: fields outside the schema are read with inferred types, so that a key of another
    # kind shows up as a column. An unknown field whose values change type between lines
    # (text in one, a number in another) makes pyarrow fail, and the range is then read the
    # general way, several times slower but with the same tables.
    try:
        table = pa_json.read_json(
            pa.py_buffer(raw),
            read_options=pa_json.ReadOptions(use_threads=False, block_size=4 << 20),
            parse_options=pa_json.ParseOptions(explicit_schema=INPUT_SCHEMA, unexpected_field_behavior="infer"),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    if table.num_rows != lines or any(key in table.column_names for key in _KIND_KEYS):
        return None
    table = table.combine_chunks()
    columns = {name: _array(table.column(name)) for name in table.column_names}
    try:
        return _tables(columns, path, first_line)
    except pa.ArrowInvalid:
        # A counter beyond its column's 32-bit type: the general path names it in its error.
        return None


def _tables(columns: dict[str, pa.Array], path: str, first_line: int) -> dict[str, pa.Table] | None:
    user = _user_table(columns, path, first_line)
    if user is None:
        return None
    result = Flattener().tables()
    result["user_daily"] = user
    for child, field in _LISTS:
        result[schema.child_table("user", child)] = _list_child(child, columns[field])
    for child, field in _SESSIONS:
        result[schema.child_table("user", child)] = _session_child(child, columns[field])
    return result


def _array(column: pa.ChunkedArray) -> pa.Array:
    return column.chunk(0) if column.num_chunks == 1 else pa.concat_arrays(column.chunks)


def _user_table(columns: dict[str, pa.Array], path: str, first_line: int) -> pa.Table | None:
    """Build ``user_daily``, or return None when the general path would skip a record."""
    organization, enterprise = columns["organization_id"], columns["enterprise_id"]
    has_organization = pc.fill_null(pc.not_equal(organization, ""), False)
    has_enterprise = pc.fill_null(pc.not_equal(enterprise, ""), False)
    user_id = columns["user_id"]
    if user_id.null_count or not pc.all(pc.or_(has_organization, has_enterprise)).as_py():
        return None
    day = _mapped(columns["day"], as_day)
    if day is None or day.null_count:
        return None
    count = len(user_id)
    scope = pc.if_else(has_organization, schema.SCOPE_ORGANIZATION, schema.SCOPE_ENTERPRISE)
    entity = pc.if_else(has_organization, organization, enterprise)
    created = columns["created_at"]
    created = pc.if_else(pc.equal(created, ""), pa.scalar(None, pa.string()), created)
    phase = columns["ai_adoption_phase"]
    values: dict[str, pa.Array] = {
        "scope": scope,
        "entity_id": entity,
        "day": day,
        "organization_id": organization,
        "enterprise_id": enterprise,
        "user_id": user_id,
        "user_login": columns["user_login"],
        **{name: columns[name] for name in (*schema.COUNTERS, *schema.USER_FLAGS, "ai_credits_used")},
        "ai_adoption_phase": pc.struct_field(phase, "phase"),
        "ai_adoption_phase_number": pc.struct_field(phase, "phase_number"),
        "report_created_at": created,
        "report_span_days": _spans(columns["report_start_day"], columns["report_end_day"]),
        "source_file": pa.array(np.full(count, path, dtype=object), type=pa.string()),
        "source_line": pa.array(np.arange(first_line, first_line + count, dtype=np.int64)),
    }
    return _typed(values, schema.USER_DAILY)


def _mapped(values: pa.Array, convert: Any) -> pa.Array | None:
    """Apply a Python function to each distinct value: days and spans repeat a lot."""
    distinct = pc.unique(values)
    converted = pa.array([convert(value) for value in distinct.to_pylist()])
    if converted.type == pa.null():
        converted = converted.cast(pa.string())
    return pc.take(converted, pc.index_in(values, distinct))


def _spans(start: pa.Array, end: pa.Array) -> pa.Array:
    """Return the days each record's report covers, as the general path computes them."""
    pairs = pc.binary_join_element_wise(pc.fill_null(start, "\x00"), pc.fill_null(end, "\x00"), "\x01")
    distinct = pc.unique(pairs).to_pylist()
    spans = [span_days(*(None if part == "\x00" else part for part in pair.split("\x01"))) for pair in distinct]
    return pc.take(pa.array(spans, type=pa.int64()), pc.index_in(pairs, pa.array(distinct)))


def _typed(values: dict[str, pa.Array], columns: tuple[tuple[str, str], ...], parent: Any = None) -> pa.Table:
    names = [name for name, _ in columns]
    arrays = []
    for name, kind in columns:
        array = values[name]
        if name in schema.DIMENSIONS:
            array = pc.if_else(pc.equal(pc.fill_null(array, ""), ""), schema.UNKNOWN, array)
        arrays.append(array.cast(ARROW_TYPES[kind]))
    if parent is not None:
        names.insert(0, PARENT_INDEX)
        arrays.insert(0, pa.array(parent, type=pa.int64()))
    return pa.table(arrays, names=names)


def _list_child(child: str, items: pa.ListArray) -> pa.Table:
    """Build one breakdown's table: a row per element that is an object."""
    elements = pc.list_flatten(items)
    parents = pc.list_parent_indices(items)
    present = elements.is_valid()
    if present.false_count:
        elements, parents = elements.filter(present), parents.filter(present)
    return _struct_child(child, elements, parents)


def _session_child(child: str, blocks: pa.StructArray) -> pa.Table:
    """Build the ``cli`` or ``copilot_app`` table: a row per record whose block is an object."""
    present = blocks.is_valid()
    parents = pa.array(np.arange(len(blocks), dtype=np.int64)).filter(present)
    return _struct_child(child, blocks.filter(present), parents)


def _struct_child(child: str, elements: pa.Array, parents: pa.Array) -> pa.Table:
    columns = schema.child_columns("user", child)
    values = {name: pc.struct_field(elements, list(_VERSION_PATHS.get(name, (name,)))) for name, _ in columns}
    return _typed(values, columns, parents)
