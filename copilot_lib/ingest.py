"""Read report files in parallel processes and assemble their rows into pandas tables.

Each worker process parses a batch of files (or a byte range of one large NDJSON file) and
returns Arrow tables. Plain user-day NDJSON, the bulk of most data folders, is parsed by
pyarrow in C++ (:mod:`copilot_lib.arrow_ndjson`); everything else by orjson and
:class:`~copilot_lib.flatten.Flattener`. The parent concatenates them, drops repeated records and joins child
rows to their parent's key. Small inputs are read in-process, because starting workers
costs more than it saves.

When several records share a natural key, the record from the report created last wins, a
report covering fewer days wins a tie (a 1-day report beats the 28-day report it overlaps),
and the file path and line break any remaining tie, so the outcome never depends on the
order in which files were read.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from copilot_lib import ipc_files, schema
from copilot_lib.arrow_ndjson import line_breaks, read_user_days
from copilot_lib.errors import ReportFormatError
from copilot_lib.flatten import PARENT_INDEX, Flattener
from copilot_lib.reports import (
    UNREADABLE_HINT,
    Record,
    decode_values,
    ndjson_values,
    read_bytes,
    records_from_object,
)

logger = logging.getLogger(__name__)

# Files above this size are split into byte ranges of about this size, and small files
# are batched up to it, so that each worker gets a few tens of MB at a time. Each range
# costs about 35 ms of fixed work (DuckDB's bind, a few hundred Arrow calls, IPC files);
# 64 MB ranges read a million user days about 6% faster than 32 MB ones on two cores.
PART_BYTES = 64 * 1024 * 1024
# Below this total size every file is read in the calling process.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
# Worker tables of at least this size reach the parent through IPC files, smaller ones
# through the pool's pipe.
FILE_MIN_BYTES = 256 * 1024

PARENT_KEYS = {
    "entity_daily": ("scope", "entity_id", "day"),
    "user_daily": ("scope", "entity_id", "day", "user_id"),
    "user_teams": ("scope", "entity_id", "day", "user_id", "team_id"),
    "repo_daily": ("scope", "entity_id", "day", "repo_id"),
}
CHILD_PARENTS = {
    **{schema.child_table("entity", child): "entity_daily" for child in schema.ENTITY_CHILDREN},
    **{schema.child_table("user", child): "user_daily" for child in schema.USER_CHILDREN},
    "repo_pr_by_comment_type": "repo_daily",
}
# Low-cardinality text columns, stored as pandas categories with sorted categories.
CATEGORY_COLUMNS = schema.category_columns()
_PANDAS_TYPES = {
    pa.int64(): pd.Int64Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.bool_(): pd.BooleanDtype(),
    pa.float64(): pd.Float64Dtype(),
}


@dataclass(frozen=True)
class Part:
    """A whole file (``start`` None) or the NDJSON lines in bytes [start, end) of one.

    ``first_line`` is the line number at ``start``, or None when it is not known yet. The
    chunk read from such a part numbers its lines from 1. :func:`number_lines` shifts them
    once the line counts of the file's earlier parts are known.
    """

    path: str
    start: int | None = None
    end: int | None = None
    first_line: int | None = 1


@dataclass
class Chunk:
    """Result of one worker: typed tables, the records of other kinds and a skip count.

    ``part`` is set when the chunk contains exactly one byte range of a file, and ``lines``
    is then the number of line breaks in it. When that part's ``first_line`` is None, the chunk's
    line numbers start at 1 instead of the part's first line. ``files`` names the tables
    a worker wrote to IPC files instead of ``tables`` (see :mod:`copilot_lib.ipc_files`).
    """

    tables: dict[str, pa.Table]
    other: list[Record] = field(default_factory=list)
    skipped: int = 0
    part: Part | None = None
    lines: int = 0
    files: dict[str, str] = field(default_factory=dict)


def read_parts(parts: list[Part], *, arrow: bool = True, folder: str | None = None) -> list[Chunk]:
    """Parse and flatten a batch of parts into chunks, in part order; runs in a worker process.

    Plain user-day NDJSON is read by :mod:`copilot_lib.arrow_ndjson` unless ``arrow`` is
    False, through temporary files in ``folder``. Everything else goes through
    :class:`Flattener`. A byte range of a file gets a chunk of its own (see :class:`Chunk`).
    """
    chunks: list[Chunk] = []
    flattener = Flattener()
    # The row lists grow to millions of tuples, none in a reference cycle. The cyclic garbage
    # collector would rescan all of them again and again while they grow, so it is paused.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for part in parts:
            ranged = part.start is not None
            found = read_user_days(part.path, part.start, part.end, part.first_line or 1, folder) if arrow else None
            if found is not None or ranged:
                if _pending(flattener):
                    chunks.append(Chunk(flattener.tables(), flattener.other, flattener.skipped))
                    flattener = Flattener()
            if found is not None:
                tables, newlines = found
                chunks.append(Chunk(tables, part=part if ranged else None, lines=newlines if ranged else 0))
                continue
            raw = _part_bytes(part)
            newlines = line_breaks(raw).breaks if ranged else 0
            if part.start is None or part.end is None:
                values = decode_values(raw, part.path)
            else:
                if part.start == 0 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                values = ndjson_values(raw, part.path, part.first_line or 1)
            try:
                _add_values(flattener, values, part.path)
            except ReportFormatError as exc:
                if part.first_line is None and exc.line is not None:
                    raise _at_file_line(exc, part) from exc
                raise
            if ranged:
                chunks.append(Chunk(flattener.tables(), flattener.other, flattener.skipped, part, newlines))
                flattener = Flattener()
        if not chunks or _pending(flattener):
            chunks.append(Chunk(flattener.tables(), flattener.other, flattener.skipped))
        # Encoded here, in the worker processes, so that the parent has less serial work after
        # the last chunk arrives.
        for chunk in chunks:
            chunk.tables = {name: encode_categories(table) for name, table in chunk.tables.items()}
        return chunks
    finally:
        if collecting:
            gc.enable()


def read_parts_to_files(parts: list[Part], folder: str, min_bytes: int) -> list[Chunk]:
    """Read parts like :func:`read_parts` and move their large tables to IPC files.

    Each table of ``min_bytes`` or more is written to a file in ``folder`` and named in the
    chunk's ``files`` instead of ``tables``.
    """
    chunks = read_parts(parts, folder=folder)
    for chunk in chunks:
        for name, table in list(chunk.tables.items()):
            if table.nbytes < min_bytes:
                continue
            try:
                chunk.files[name] = ipc_files.write_table(table, folder)
            except OSError as exc:
                # A full or missing temporary folder: the table goes through the pipe instead.
                logger.warning(
                    "writing %s to an IPC file in %s failed (%s): passing it through the pipe", name, folder, exc
                )
                continue
            del chunk.tables[name]
    return chunks


def _load_files(chunk: Chunk) -> Chunk:
    """Map the tables a worker wrote to files back into ``chunk.tables``."""
    for name, path in chunk.files.items():
        chunk.tables[name] = ipc_files.read_table(path)
    chunk.files = {}
    return chunk


def _part_bytes(part: Part) -> bytes:
    if part.start is None or part.end is None:
        return read_bytes(Path(part.path))
    try:
        with open(part.path, "rb") as handle:
            handle.seek(part.start)
            return handle.read(part.end - part.start)
    except OSError as exc:
        raise ReportFormatError(f"cannot read the file ({exc}): {UNREADABLE_HINT}", path=part.path) from exc


def _at_file_line(exc: ReportFormatError, part: Part) -> ReportFormatError:
    """Return the error again with the line counted from the start of the file.

    Counting the lines before a part is only worth its cost when a message needs them.
    """
    before = 0
    with open(part.path, "rb") as handle:
        remaining = part.start or 0
        while remaining > 0:
            block = handle.read(min(remaining, 16 * 1024 * 1024))
            if not block:
                break
            before += block.count(b"\n")
            remaining -= len(block)
    return ReportFormatError(exc.detail, path=exc.path, line=before + (exc.line or 1))


def number_lines(chunks: list[Chunk]) -> list[Chunk]:
    """Shift the line numbers of chunks read from parts with an unknown first line.

    The line numbers of a file's parts are known once every part has counted its line
    breaks, and counting them in the workers costs nothing extra, where counting them while
    splitting the file would read it twice in one process.
    """
    counted: dict[str, list[tuple[int, int]]] = {}
    for chunk in chunks:
        if chunk.part is not None:
            counted.setdefault(chunk.part.path, []).append((chunk.part.start or 0, chunk.lines))
    if not counted:
        return chunks
    shift: dict[tuple[str, int], int] = {}
    for path, counts in counted.items():
        before = 0
        for start, lines in sorted(counts):
            shift[path, start] = before
            before += lines
    for chunk in chunks:
        if chunk.part is None:
            continue
        offset = shift[chunk.part.path, chunk.part.start or 0]
        known = chunk.part.first_line is not None
        chunk.part = None
        if known or not offset:
            continue
        for name, table in chunk.tables.items():
            if table.num_rows and "source_line" in table.column_names:
                position = table.column_names.index("source_line")
                shifted = pc.add(table.column(position), offset)
                chunk.tables[name] = table.set_column(position, "source_line", shifted)
        chunk.other = [
            dataclasses.replace(record, source=dataclasses.replace(record.source, line=record.source.line + offset))
            for record in chunk.other
        ]
    return chunks


def _pending(flattener: Flattener) -> bool:
    """Return True when the flattener holds anything, so that its chunk must be kept."""
    rows = flattener.user_rows or flattener.entity_rows or flattener.team_rows or flattener.repo_rows
    return bool(rows or flattener.other or flattener.skipped)


def _add_values(flattener: Flattener, values: Iterable[tuple[int, Any]], path: str) -> None:
    add_object = flattener.add_object
    for line, value in values:
        for obj in value if type(value) is list else (value,):
            if not add_object(obj, path, line):
                for record in records_from_object(obj, path, line, None):
                    flattener.add(record)


def plan_batches(files: list[Path], workers: int, part_bytes: int = PART_BYTES) -> list[list[Part]]:
    """Split large NDJSON files into byte ranges and batch small files together."""
    total = sum(path.stat().st_size for path in files)
    target = max(1024 * 1024, min(part_bytes, total // max(1, workers * 4)))
    parts: list[tuple[Part, int]] = []
    for path in files:
        size = path.stat().st_size
        if size > target and path.suffix != ".gz" and _is_ndjson(path):
            parts.extend(_split(path, size, target))
        else:
            parts.append((Part(str(path)), size))
    batches: list[list[Part]] = []
    current: list[Part] = []
    current_size = 0
    for part, size in parts:
        if current and current_size + size > target:
            batches.append(current)
            current, current_size = [], 0
        current.append(part)
        current_size += size
    if current:
        batches.append(current)
    return batches


def _is_ndjson(path: Path) -> bool:
    """Return True when the file's first line is a whole JSON object or array."""
    with open(path, "rb") as handle:
        head = handle.read(1024 * 1024)
    first, newline, _ = head.lstrip(b"\xef\xbb\xbf").lstrip().partition(b"\n")
    if not newline:
        return False
    try:
        return isinstance(orjson.loads(first), dict | list)
    except orjson.JSONDecodeError:
        return False


def _split(path: Path, size: int, target: int) -> list[tuple[Part, int]]:
    """Cut an NDJSON file into parts of about ``target`` bytes that end at line breaks.

    Only a few bytes around each cut are read. Parts after the first do not know their
    first line number; the chunks read from them are renumbered by :func:`number_lines`.
    """
    parts = []
    start = 0
    with open(path, "rb") as handle:
        while start < size:
            end = min(start + target, size)
            if end < size:
                end = _line_end(handle, end, size)
            parts.append((Part(str(path), start, end, 1 if start == 0 else None), end - start))
            start = end
    return parts


def _line_end(handle: Any, position: int, size: int) -> int:
    """Return the offset just after the first line break at or after ``position``."""
    handle.seek(position - 1)
    while True:
        block = handle.read(64 * 1024)
        if not block:
            return size
        found = block.find(b"\n")
        if found >= 0:
            return position + found
        position += len(block)


def read_files(files: list[Path], workers: int | None = None) -> list[Chunk]:
    """Read every file into chunks, in worker processes when the input is large."""
    workers = workers or os.cpu_count() or 1
    total = sum(path.stat().st_size for path in files)
    if workers <= 1 or total < PARALLEL_MIN_BYTES:
        return read_parts([Part(str(path)) for path in files])
    batches = plan_batches(files, workers)
    logger.info(
        "reading %d files (%d MB) in %d batches on %d processes",
        len(files),
        total >> 20,
        len(batches),
        workers,
    )
    # forkserver: forking a parent that runs Arrow or DuckDB threads can deadlock the child.
    context = multiprocessing.get_context("forkserver")
    # The server imports this module (with pandas and pyarrow) once and forks each worker
    # from itself, so the workers start ready. Importing in every worker cost each of them
    # about 0.3 s of CPU on the 2-core benchmark machine.
    context.set_forkserver_preload([__name__])
    # The folder and any IPC files left in it are removed on error as well.
    with (
        ipc_files.temporary_folder(total) as folder,
        ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool,
    ):
        results = pool.map(partial(read_parts_to_files, folder=folder, min_bytes=FILE_MIN_BYTES), batches)
        return number_lines([_load_files(chunk) for chunks in results for chunk in chunks])


def assemble(
    chunks: Iterable[Chunk],
) -> tuple[dict[str, pd.DataFrame], dict[str, int], list[Record], int]:
    """Merge chunks into pandas tables, keeping one record per natural key.

    Returns the tables, the number of repeated records dropped per table, the records of
    other kinds (seats, billing, teams, legacy) and the number of records skipped.
    """
    chunks = list(chunks)
    other = [record for chunk in chunks for record in chunk.other]
    skipped = sum(chunk.skipped for chunk in chunks)
    offsets: dict[str, list[int]] = {}
    parents: dict[str, pa.Table] = {}
    for name in PARENT_KEYS:
        lengths = [chunk.tables[name].num_rows for chunk in chunks]
        offsets[name] = list(np.cumsum([0, *lengths[:-1]]))
        parents[name] = pa.concat_tables([chunk.tables[name] for chunk in chunks])

    frames: dict[str, pd.DataFrame] = {}
    dropped: dict[str, int] = {}
    kept_masks: dict[str, np.ndarray] = {}
    for name, keys in PARENT_KEYS.items():
        frame = to_pandas(parents[name])
        _fill_span(frame)
        kept = keep_latest(frame, keys)
        mask = np.zeros(len(frame), dtype=bool)
        mask[kept] = True
        kept_masks[name] = mask
        dropped[name] = len(frame) - len(kept)
        if dropped[name]:
            logger.info(
                "%s: dropped %d repeated records, keeping the newest report's copy",
                name,
                dropped[name],
            )
        frame = frame.iloc[np.sort(kept)]
        sort_keys = [key for key in keys if key in frame]
        frames[name] = frame.sort_values(sort_keys, kind="stable").reset_index(drop=True)

    parent_keys = {name: _key_columns(parents[name], keys) for name, keys in PARENT_KEYS.items()}

    def child_frame(name: str) -> pd.DataFrame:
        parent = CHILD_PARENTS[name]
        pieces = []
        for chunk, offset in zip(chunks, offsets[parent], strict=True):
            table = chunk.tables[name]
            index = table.column(PARENT_INDEX).to_numpy() + offset
            pieces.append((table, index))
        return _child_frame(parent_keys[parent], kept_masks[parent], pieces)

    # Most of this is Arrow takes and numpy copies, which release the GIL, so threads share
    # the child tables between the cores. Largest first, so that the last one is small.
    names = sorted(CHILD_PARENTS, key=lambda name: -sum(chunk.tables[name].num_rows for chunk in chunks))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as threads:
        children = dict(zip(names, threads.map(child_frame, names), strict=True))
    frames.update((name, children[name]) for name in CHILD_PARENTS)
    return frames, dropped, other, skipped


def _key_columns(parent: pa.Table, keys: tuple[str, ...]) -> pa.Table:
    """Return a parent's key columns converted once for all its children's rows.

    Child tables have ten times as many rows as their parent, so converting the days and
    encoding the categories before taking child rows saves most of the work.
    """
    table = parent.select(list(keys)).combine_chunks()
    for position, name in enumerate(table.column_names):
        column = table.column(name)
        if name == "day":
            table = table.set_column(position, name, _days(column))
    return encode_categories(table)


def _child_frame(parent_keys: pa.Table, mask: np.ndarray, pieces: list[tuple[pa.Table, np.ndarray]]) -> pd.DataFrame:
    table = pa.concat_tables([table for table, _ in pieces]).drop_columns([PARENT_INDEX])
    index = np.concatenate([index for _, index in pieces]) if pieces else np.array([], dtype=np.int64)
    keep = mask[index] if len(index) else np.array([], dtype=bool)
    if not keep.all():
        # Only when a repeated parent record was dropped: filtering copies every column.
        index = index[keep]
        table = table.filter(pa.array(keep, type=pa.bool_()))
    key_table = parent_keys.take(pa.array(index, type=pa.int64())).combine_chunks()
    key_columns = [_compact(column.chunk(0)) if column.num_chunks == 1 else column for column in key_table.columns]
    combined = pa.table([*key_columns, *table.columns], names=[*key_table.column_names, *table.column_names])
    return to_pandas(combined)


def _compact(column: pa.Array) -> pa.Array:
    """Keep only the dictionary values a taken column uses.

    Only the set of values matters, because :func:`to_pandas` sorts the categories. Marking
    the used values in a numpy array took 18 ms for 10 million rows, where a hash of the
    indices took 170 ms. A child table usually uses every value, so most columns are
    returned unchanged.
    """
    if not isinstance(column, pa.DictionaryArray):
        return column
    if column.null_count:
        used_values = pc.unique(column.indices)
        indices = pc.index_in(column.indices, value_set=used_values).cast(column.indices.type)
        return pa.DictionaryArray.from_arrays(indices, column.dictionary.take(used_values))
    codes = column.indices.to_numpy()
    used = np.zeros(len(column.dictionary), dtype=bool)
    used[codes] = True
    if used.all():
        return column
    renumbered = (np.cumsum(used) - 1)[codes].astype(codes.dtype)
    return pa.DictionaryArray.from_arrays(pa.array(renumbered), column.dictionary.filter(pa.array(used)))


def _days(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    return column.cast(pa.date32()).cast(pa.timestamp("ns"))


def encode_categories(table: pa.Table) -> pa.Table:
    """Dictionary-encode the category columns of ``table`` that are still plain text.

    Chunks encoded apart have dictionaries of their own, and pyarrow unifies them when it
    combines the chunks or converts them to pandas.
    """
    for position, name in enumerate(table.column_names):
        column = table.column(position)
        if name in CATEGORY_COLUMNS and not pa.types.is_dictionary(column.type):
            table = table.set_column(position, name, column.dictionary_encode())
    return table


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """Convert an Arrow table to pandas with nullable dtypes, days and categories."""
    for position, name in enumerate(table.column_names):
        column = table.column(name)
        if name == "day" and column.type == pa.string():
            table = table.set_column(position, name, _days(column))
    table = encode_categories(table)
    return sort_categories(table.to_pandas(types_mapper=_PANDAS_TYPES.get))


def sort_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Give every category column of ``frame`` its categories in sorted order, in place.

    Arrow's dictionaries list values in order of first appearance, which would make sorting
    by a category column depend on the order in which files were read.
    """
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            categories = column.cat.categories
            if not categories.is_monotonic_increasing:
                frame[name] = column.cat.reorder_categories(categories.sort_values())
    return frame


def as_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Convert the text columns typed "category" in the schema to sorted categories, in place."""
    for name in frame.columns:
        if name in CATEGORY_COLUMNS and not isinstance(frame[name].dtype, pd.CategoricalDtype):
            frame[name] = frame[name].astype("category")
    return sort_categories(frame)


def _fill_span(frame: pd.DataFrame) -> None:
    """Give records that name no report days the number of days their file covers."""
    missing = frame["report_span_days"].isna()
    if not missing.any():
        return
    per_file = frame.groupby("source_file", observed=True)["day"].nunique()
    spans = frame["source_file"].map(per_file).astype("Int64")
    frame.loc[missing, "report_span_days"] = spans[missing]


def keep_latest(frame: pd.DataFrame, keys: tuple[str, ...]) -> np.ndarray:
    """Return the positions of the rows that win their natural key (see the module text)."""
    positions = np.arange(len(frame))
    repeated = frame.duplicated(list(keys), keep=False).to_numpy()
    if not repeated.any():
        return positions
    subset = frame.loc[repeated, list(keys)].copy()
    subset["_created"] = frame.loc[repeated, "report_created_at"].fillna("").astype(str)
    subset["_span"] = -frame.loc[repeated, "report_span_days"].fillna(10_000).astype("int64")
    subset["_file"] = frame.loc[repeated, "source_file"].astype(str)
    subset["_line"] = frame.loc[repeated, "source_line"].astype("int64")
    subset["_position"] = positions[repeated]
    ordered = subset.sort_values(["_created", "_span", "_file", "_line", "_position"], kind="stable")
    winners = ordered.drop_duplicates(list(keys), keep="last")["_position"].to_numpy()
    return np.sort(np.concatenate([positions[~repeated], winners]))
