"""Read plain user-day NDJSON straight into Arrow tables, parsed in C++ by DuckDB.

User-day report files are the largest by far, and in them every line is one user-day object
of the same shape. DuckDB's JSON reader, given the columns, parses 32 MB of the benchmark's
records in about 210 ms on one core, where ``orjson`` alone takes about 300 ms and
``pyarrow.json`` about 400 ms. It builds columns without a Python object per value, and the
breakdown arrays become child tables by flattening their list columns.

DuckDB converts between JSON types on its own (``true`` into 1, 2.5 into 2, a number into
text), where the general path turns a value of the wrong type into null. So every scalar is
read as its JSON text, and :func:`_from_json` accepts only the texts whose type is the one
GitHub sends: a JSON integer for a counter, a JSON string for text.

This path only takes input whose tables it builds exactly as :class:`Flattener` would. It
returns None, and the caller reads the bytes the general way, for anything else: a line that
is not one object, a value of another type than GitHub sends, a record of another kind, a
key that changes a record's meaning (``day_totals``, top-level ``chat_panel_*`` fields, the
old name of the cloud agent flag), a record the general path would skip (no valid day, user
id or entity), NaN or Infinity, invalid UTF-8, a blank or malformed line. The general path
then raises the error that names the file and line.

NOTE: DuckDB also reads some JSON that orjson rejects: trailing commas, NaN and Infinity,
numbers beyond a double, nesting deeper than 1,024 levels. In a field the tables read, such
a value fails its check and the line goes the general way. Elsewhere (an unknown field, a
comma between fields) nothing notices, and the file loads where the general path would stop
with an error. Finding those would cost a second scan of every range.
"""

from __future__ import annotations

import logging
import mmap
import os
import re
import tempfile
import threading
from typing import Any, BinaryIO, NamedTuple

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from copilot_lib import schema
from copilot_lib.flatten import ARROW_TYPES, PARENT_INDEX, Flattener, as_day
from copilot_lib.reports import span_days

logger = logging.getLogger(__name__)


# Top-level keys that make a record another kind when their value is not null (see
# reports.classify). They are read as extra columns, and a value in one of them sends the
# bytes to the general path. DuckDB decodes escapes in keys before matching them.
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
_NEWLINE, _BRACE, _NON_ASCII = ord("\n"), ord("{"), 0x80

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


def _duck_type(data_type: pa.DataType) -> str:
    """Return the DuckDB type that reads ``data_type``'s shape with every scalar as JSON text."""
    if pa.types.is_struct(data_type):
        fields = ", ".join(f'"{field.name}" {_duck_type(field.type)}' for field in data_type)
        return f"STRUCT({fields})"
    if pa.types.is_list(data_type):
        return f"{_duck_type(data_type.value_type)}[]"
    return "JSON"


def _query() -> str:
    names = [*INPUT_SCHEMA.names, *_KIND_KEYS]
    types = [*INPUT_SCHEMA.types, *(pa.null() for _ in _KIND_KEYS)]
    columns = ", ".join(f"'{name}': '{_duck_type(data_type)}'" for name, data_type in zip(names, types, strict=True))
    # The largest object DuckDB reads is 16 MB by default; a larger line goes the general way.
    # Every name and type here comes from the schema; the file's path is a bound parameter.
    return f"SELECT * FROM read_json(?, format = 'newline_delimited', compression = 'none', columns = {{{columns}}})"  # noqa: S608


_QUERY = _query()
# DuckDB expands globs (* ? [ {) and a leading ~ in the paths it reads. So it reads a file in
# place only when the file's absolute path matches this pattern, and reads a copy otherwise.
_PLAIN_PATH = re.compile(r"/[\w./+@%=,-]*")
_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    """Return this thread's DuckDB connection, which runs each query on one thread.

    The ingest already runs one worker process per core.
    """
    connection = getattr(_local, "connection", None)
    if connection is None:
        connection = duckdb.connect(config={"threads": 1})
        _local.connection = connection
    return connection


class _Mismatch(Exception):
    """A value's JSON type differs from the schema's, so the general path must read the lines."""


def _from_json(array: pa.Array, data_type: pa.DataType) -> pa.Array:
    """Turn DuckDB's JSON texts into ``data_type``, as the general path reads those values.

    Raises :class:`_Mismatch` for a value the general path reads otherwise than as its JSON
    type: a number sent as text, a whole float for an integer, a number for text.
    """
    if pa.types.is_struct(data_type):
        children = [_from_json(array.field(position), field.type) for position, field in enumerate(data_type)]
        return pa.StructArray.from_arrays(children, fields=list(data_type), mask=array.is_null())
    if pa.types.is_list(data_type):
        values = _from_json(array.values, data_type.value_type)
        return pa.ListArray.from_arrays(array.offsets, values, type=data_type, mask=array.is_null())
    if array.null_count == len(array):
        return pa.nulls(len(array), data_type)
    if pa.types.is_null(data_type):
        raise _Mismatch
    if pa.types.is_string(data_type):
        return _text(array)
    if pa.types.is_boolean(data_type):
        # The general path reads any other value as null. But DuckDB also gives texts of
        # values that orjson rejects (NaN, a number beyond a double), so they go that way.
        if not pc.all(pc.is_in(pc.drop_null(array), _BOOLEANS)).as_py():
            raise _Mismatch
        return pc.equal(array, "true")
    try:
        # Integers: only JSON integers in range cast. Floats: any JSON number does.
        converted = pc.cast(array, data_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise _Mismatch from exc
    if pa.types.is_floating(data_type) and not pc.all(pc.is_finite(converted)).as_py():
        raise _Mismatch
    return converted


_BOOLEANS = pa.array(["true", "false"])


def _text(array: pa.Array) -> pa.Array:
    """Return the strings of JSON string texts; DuckDB writes them with quotes and escapes."""
    if not pc.all(pc.starts_with(array, '"')).as_py():
        raise _Mismatch
    text = pc.utf8_slice_codeunits(array, 1, -1)
    escaped = pc.match_substring(text, "\\")
    if pc.any(escaped).as_py():
        decoded = [orjson.loads(value) for value in pc.filter(array, escaped).to_pylist()]
        text = pc.replace_with_mask(text, escaped, pa.array(decoded, pa.string()))
    return text


class Lines(NamedTuple):
    """The line break count and ASCII flag of a run of bytes, from :func:`line_breaks`."""

    breaks: int
    is_ascii: bool


def line_breaks(raw: bytes | np.ndarray, block: int = 1 << 20) -> Lines:
    """Count the line breaks in ``raw`` and tell whether every byte is ASCII.

    numpy compares ``block`` bytes at a time, so that its temporary arrays stay in the CPU
    cache and are reused. On a 32 MB range of the benchmark's records, one comparison over
    the whole range took two to four times as long, most of it in page faults on fresh
    memory for the temporaries.
    """
    view = np.frombuffer(raw, dtype=np.uint8)
    count = 0
    only_ascii = True
    for start in range(0, len(view), block):
        window = view[start : start + block]
        count += int(np.count_nonzero(window == _NEWLINE))
        if only_ascii and window.max() >= _NON_ASCII:
            only_ascii = False
    return Lines(count, only_ascii)


def read_user_days(
    path: str, start: int | None = None, end: int | None = None, first_line: int = 1, folder: str | None = None
) -> tuple[dict[str, pa.Table], int] | None:
    """Return the tables :class:`Flattener` would build from a file's NDJSON lines, or None.

    The lines are bytes [``start``, ``end``) of ``path``, or the whole file when ``start`` is
    None; ``first_line`` is the line number of the first one. Also returns the number of
    line breaks in the bytes. The bytes are checked through a memory map, so that they are
    never copied into Python. DuckDB reads a whole file where it lies, and a range from a
    temporary file in ``folder`` (the system's temporary folder when None) that the kernel
    copies the range into.
    """
    if path.endswith(".gz"):
        return None
    try:
        with open(path, "rb") as handle:
            begin = start or 0
            stop = os.fstat(handle.fileno()).st_size if end is None else end
            if stop <= begin:
                return None
            lines = _check(handle, begin, stop)
            if lines is None:
                return None
            absolute = os.path.abspath(path)
            if start is None and _PLAIN_PATH.fullmatch(absolute):
                table = _read(absolute)
            else:
                table = _read_copy(handle, begin, stop, folder)
    except OSError as exc:
        # The general path reads the file again and reports what is wrong with it.
        logger.debug("cannot map %s for DuckDB (%s)", path, exc)
        return None
    if table is None:
        return None
    if table.num_rows != lines.lines:
        logger.debug("%s: %d rows from %d lines: a blank line", path, table.num_rows, lines.lines)
        return None
    tables = _converted(table, path, first_line)
    return None if tables is None else (tables, lines.breaks)


class _Counted(NamedTuple):
    lines: int
    breaks: int


def _check(handle: BinaryIO, begin: int, stop: int) -> _Counted | None:
    """Return the number of lines and line breaks in bytes [begin, stop) when DuckDB may read them.

    The bytes must be UTF-8 and start an object. DuckDB rejects a line that is not one
    object, and skips blank lines, which the comparison of its rows with the lines catches:
    row ``i`` of its result is then line ``i``.
    """
    aligned = begin - begin % mmap.ALLOCATIONGRANULARITY
    with mmap.mmap(handle.fileno(), stop - aligned, access=mmap.ACCESS_READ, offset=aligned) as mapped:
        view = np.frombuffer(mapped, dtype=np.uint8, count=stop - begin, offset=begin - aligned)
        try:
            if view[0] != _BRACE:
                return None
            found = line_breaks(view)
            if not found.is_ascii:
                try:
                    view.tobytes().decode("utf-8")
                except UnicodeDecodeError:
                    return None
            ends_with_break = view[-1] == _NEWLINE
        finally:
            # The map cannot close while a numpy view of it exists.
            del view
    return _Counted(found.breaks + (not ends_with_break), found.breaks)


def _converted(table: pa.Table, path: str, first_line: int) -> dict[str, pa.Table] | None:
    """Build the tables from DuckDB's result, or return None, saying why in the debug log."""
    kinds = [key for key in _KIND_KEYS if _array(table.column(key)).null_count < table.num_rows]
    if kinds:
        logger.debug("%s: records of another kind (%s)", path, ", ".join(kinds))
        return None
    columns: dict[str, pa.Array] = {}
    for name, data_type in zip(INPUT_SCHEMA.names, INPUT_SCHEMA.types, strict=True):
        try:
            columns[name] = _from_json(_array(table.column(name)), data_type)
        except _Mismatch:
            logger.debug("%s: a %s value of another JSON type than GitHub sends", path, name)
            return None
    try:
        return _tables(columns, path, first_line)
    except pa.ArrowInvalid as exc:
        # A value beyond its column's type: the general path names it in its error.
        logger.debug("%s: %s", path, exc)
        return None


def _read_copy(handle: BinaryIO, begin: int, stop: int, folder: str | None) -> pa.Table | None:
    """Copy bytes [begin, stop) of ``handle``'s file to a temporary file and read that.

    The copy goes to ``folder``, or to the system's temporary folder when ``folder`` is None
    or cannot take it. Without any writable folder this returns None.
    """
    for place in dict.fromkeys((folder, None)):
        try:
            with tempfile.NamedTemporaryFile(dir=place, prefix="lines-", suffix=".ndjson") as copy:
                offset = begin
                while offset < stop:
                    sent = os.sendfile(copy.fileno(), handle.fileno(), offset, stop - offset)
                    if not sent:
                        return None
                    offset += sent
                return _read(copy.name)
        except OSError as exc:
            where = place or "the temporary folder"
            logger.warning("cannot copy user days to a temporary file in %s (%s): trying the next place", where, exc)
    return None


def _read(path: str) -> pa.Table | None:
    """Parse a file's lines with DuckDB, every scalar as its JSON text; None when DuckDB rejects them."""
    try:
        return _connection().sql(_QUERY, params=[path]).to_arrow_table()
    except duckdb.Error as exc:
        # Malformed JSON, a value of another shape than the schema's, invalid UTF-8: the
        # general path reads the bytes and raises the error that names the line.
        logger.debug("DuckDB did not read the user days in %s: %s", path, exc)
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
