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

import gc
import logging
import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from copilot_lib import schema
from copilot_lib.arrow_ndjson import user_day_tables
from copilot_lib.flatten import PARENT_INDEX, Flattener
from copilot_lib.reports import Record, read_bytes, read_part_values, read_values, records_from_object

logger = logging.getLogger(__name__)

# Files above this size are split into byte ranges of about this size, and small files
# are batched up to it, so that each worker gets a few tens of MB at a time.
PART_BYTES = 32 * 1024 * 1024
# Below this total size every file is read in the calling process.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024

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
CATEGORY_COLUMNS = (
    "scope",
    "entity_id",
    "organization_id",
    "enterprise_id",
    "source_file",
    "repo_visibility",
)
_PANDAS_TYPES = {
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
    pa.float64(): pd.Float64Dtype(),
}


@dataclass(frozen=True)
class Part:
    """A whole file (``start`` None) or the NDJSON lines in bytes [start, end) of one."""

    path: str
    start: int | None = None
    end: int | None = None
    first_line: int = 1


@dataclass
class Chunk:
    """Result of one worker: typed tables, the records of other kinds and a skip count."""

    tables: dict[str, pa.Table]
    other: list[Record] = field(default_factory=list)
    skipped: int = 0


def read_parts(parts: list[Part], *, arrow: bool = True) -> list[Chunk]:
    """Parse and flatten a batch of parts into chunks, in part order; runs in a worker process.

    Plain user-day NDJSON is read by :mod:`copilot_lib.arrow_ndjson` unless ``arrow`` is
    False; everything else goes through :class:`Flattener`.
    """
    chunks: list[Chunk] = []
    flattener = Flattener()
    # The row lists grow to millions of tuples, none in a reference cycle. The cyclic garbage
    # collector would rescan all of them again and again while they grow, so it is paused.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for part in parts:
            tables = _arrow_tables(part) if arrow else None
            if tables is not None:
                if _pending(flattener):
                    chunks.append(Chunk(flattener.tables(), flattener.other, flattener.skipped))
                    flattener = Flattener()
                chunks.append(Chunk(tables))
                continue
            if part.start is None or part.end is None:
                values = read_values(part.path)
            else:
                values = read_part_values(part.path, part.start, part.end, part.first_line)
            _add_values(flattener, values, part.path)
        if not chunks or _pending(flattener):
            chunks.append(Chunk(flattener.tables(), flattener.other, flattener.skipped))
        return chunks
    finally:
        if collecting:
            gc.enable()


def _pending(flattener: Flattener) -> bool:
    """Return True when the flattener holds anything, so that its chunk must be kept."""
    rows = flattener.user_rows or flattener.entity_rows or flattener.team_rows or flattener.repo_rows
    return bool(rows or flattener.other or flattener.skipped)


def _arrow_tables(part: Part) -> dict[str, pa.Table] | None:
    """Read a part with pyarrow when it is plain user-day NDJSON; None otherwise."""
    if part.start is None or part.end is None:
        raw = read_bytes(Path(part.path))
        first_line = 1
    else:
        with open(part.path, "rb") as handle:
            handle.seek(part.start)
            raw = handle.read(part.end - part.start)
        first_line = part.first_line
    return user_day_tables(raw, part.path, first_line)


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
    parts = []
    line = 1
    start = 0
    with open(path, "rb") as handle:
        while start < size:
            handle.seek(start)
            block = handle.read(target)
            if start + len(block) >= size:
                end = size
            else:
                cut = block.rfind(b"\n")
                if cut < 0:
                    # A single line longer than a part: take it whole.
                    rest = handle.read()
                    cut = len(block) + rest.find(b"\n") if b"\n" in rest else size - start - 1
                    block = block + rest[: cut + 1 - len(block)]
                end = start + cut + 1
                block = block[: cut + 1]
            parts.append((Part(str(path), start, end, line), end - start))
            line += block.count(b"\n")
            start = end
    return parts


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
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return [chunk for chunks in pool.map(read_parts, batches) for chunk in chunks]


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
    for name, parent in CHILD_PARENTS.items():
        pieces = []
        for chunk, offset in zip(chunks, offsets[parent], strict=True):
            table = chunk.tables[name]
            index = table.column(PARENT_INDEX).to_numpy() + offset
            pieces.append((table, index))
        frames[name] = _child_frame(parent_keys[parent], kept_masks[parent], pieces)
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
        elif name in CATEGORY_COLUMNS:
            table = table.set_column(position, name, column.dictionary_encode())
    return table


def _child_frame(parent_keys: pa.Table, mask: np.ndarray, pieces: list[tuple[pa.Table, np.ndarray]]) -> pd.DataFrame:
    table = pa.concat_tables([table for table, _ in pieces]).drop_columns([PARENT_INDEX])
    index = np.concatenate([index for _, index in pieces]) if pieces else np.array([], dtype=np.int64)
    keep = mask[index] if len(index) else np.array([], dtype=bool)
    index = index[keep]
    table = table.filter(pa.array(keep, type=pa.bool_()))
    key_table = parent_keys.take(pa.array(index, type=pa.int64())).combine_chunks()
    key_columns = [_compact(column.chunk(0)) if column.num_chunks == 1 else column for column in key_table.columns]
    combined = pa.table([*key_columns, *table.columns], names=[*key_table.column_names, *table.column_names])
    return to_pandas(combined)


def _compact(column: pa.Array) -> pa.Array:
    """Keep only the dictionary values a taken column uses, in order of first use.

    That is the dictionary ``dictionary_encode`` would build from the taken values, so
    the pandas categories come out the same.
    """
    if not isinstance(column, pa.DictionaryArray):
        return column
    used = pc.unique(column.indices)
    indices = pc.index_in(column.indices, value_set=used).cast(column.indices.type)
    return pa.DictionaryArray.from_arrays(indices, column.dictionary.take(used))


def _days(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    return column.cast(pa.date32()).cast(pa.timestamp("ns"))


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """Convert an Arrow table to pandas with nullable dtypes, days and categories."""
    for position, name in enumerate(table.column_names):
        column = table.column(name)
        if name == "day" and column.type == pa.string():
            table = table.set_column(position, name, _days(column))
        elif name in CATEGORY_COLUMNS and not pa.types.is_dictionary(column.type):
            table = table.set_column(position, name, column.dictionary_encode())
    return table.to_pandas(types_mapper=_PANDAS_TYPES.get)


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
