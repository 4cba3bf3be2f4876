"""Encode history tables as Parquet and read a whole store back into tables.

Every file of a table has the same schema, so ``pyarrow.dataset``, DuckDB, Spark and Athena
can read a table folder (``tables/TABLE/``) with Hive partitioning, and :func:`load_store`
builds the same :class:`~copilot_lib.tables.Tables` that report folders give.
"""

from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from copilot_lib.errors import StoreError
from copilot_lib.store import ObjectStore, open_store
from copilot_lib.tables import Tables, build_tables

SNAPSHOT_KINDS = ("seats", "teams")
READ_THREADS = 16


def is_self_contained(table: str) -> bool:
    """Return True for tables whose files are complete alone, without a day manifest."""
    return table in SNAPSHOT_KINDS or table.startswith("legacy_")


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Encode a table as Parquet without its ``day`` column, which the partition path carries.

    Categorical and all-empty text columns become plain strings, so every file of a table has
    the same schema and readers such as ``pyarrow.dataset``, DuckDB and Athena can combine them.
    """
    frame = frame.drop(columns=["day"], errors="ignore")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = []
    for column in table.schema:
        kind = column.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if pa.types.is_null(kind):
            kind = pa.string()
        fields.append(pa.field(column.name, kind))
    table = table.cast(pa.schema(fields)).replace_schema_metadata(None)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def load_store(
    store: ObjectStore | str | os.PathLike[str] | None = None,
    *,
    since: date | None = None,
    until: date | None = None,
) -> Tables:
    """Read every stored day of every entity into the same tables :func:`build_tables` makes.

    Only days whose manifest exists are read, so a day a run left half-written is skipped.
    Seat and team snapshots become the ``seats`` and ``teams`` tables, with the snapshot's
    ``day``; imported legacy days become the ``legacy_*`` tables. ``since`` and ``until``
    (inclusive) limit the days read, which saves requests on a large S3 store.
    """
    first = f"day={since.isoformat()}" if since else ""
    last = f"day={until.isoformat()}" if until else "day=9999"
    # NOTE: this reads one object per table and day. A year on S3 is several thousand GET
    # requests, made 16 at a time, so a dashboard on a large S3 store loads slowly.
    if not isinstance(store, ObjectStore):
        store = open_store(store)
    committed = set()
    for key in store.list("days/"):
        entity, _, name = key[len("days/") :].rpartition("/")
        committed.add((entity, name.removesuffix(".json")))
    keys = []
    for key in store.list("tables/"):
        parts = key.split("/")
        # Snapshot and legacy tables are complete when written, report tables once their day
        # has a manifest.
        if len(parts) != 5 or not first <= parts[3] <= last:
            continue
        if is_self_contained(parts[1]) or (parts[2], parts[3]) in committed:
            keys.append(key)
    with ThreadPoolExecutor(READ_THREADS) as pool:
        frames = list(pool.map(lambda key: _read_table_file(store, key), keys))
    template = build_tables([])
    grouped: dict[str, list[pd.DataFrame]] = {}
    for key, frame in zip(keys, frames, strict=True):
        grouped.setdefault(key.split("/")[1], []).append(frame)
    tables = Tables()
    names = list(dict.fromkeys([*template.frames, *grouped]))
    for name in names:
        parts = grouped.get(name, [])
        empty = template.frames.get(name)
        if not parts:
            tables.frames[name] = empty if empty is not None else pd.DataFrame()
            continue
        frame = pd.concat(parts, ignore_index=True)
        tables.frames[name] = _restore_types(frame, empty)
    return tables


def day_status(store: ObjectStore | str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Return one row per day with a manifest or a gap record: ``entity``, ``day``, ``status``.

    ``status`` is ``stored`` for a day with a manifest and ``gap`` for a settled day GitHub
    had no report for, so a history view can tell a missing day from one never fetched.
    """
    if not isinstance(store, ObjectStore):
        store = open_store(store)
    rows = []
    for folder, status in (("days/", "stored"), ("gaps/", "gap")):
        for key in store.list(folder):
            entity, _, name = key[len(folder) :].rpartition("/")
            rows.append({"entity": entity, "day": name.removeprefix("day=").removesuffix(".json"), "status": status})
    frame = pd.DataFrame(rows, columns=["entity", "day", "status"])
    frame["day"] = pd.to_datetime(frame["day"], format="%Y-%m-%d").astype("datetime64[ns]")
    return frame.sort_values(["entity", "day"], kind="stable").reset_index(drop=True)


def _read_table_file(store: ObjectStore, key: str) -> pd.DataFrame:
    raw = store.get(key)
    if raw is None:
        raise StoreError(f"{key} vanished while the store was read: run again")
    frame = pq.read_table(io.BytesIO(raw)).to_pandas()
    _, _, partition, day, _ = key.split("/")
    kind, _, name = partition.partition("=")
    frame[kind] = name
    frame["day"] = pd.Timestamp(day.removeprefix("day="))
    return frame


def _restore_types(frame: pd.DataFrame, template: pd.DataFrame | None) -> pd.DataFrame:
    frame["day"] = frame["day"].astype("datetime64[ns]")
    if template is None:
        return frame.reset_index(drop=True)
    # An empty template has the right nullable (extension) and category dtypes but not the
    # dtype of every plain column, so only those are restored from it.
    for name, dtype in template.dtypes.items():
        if name not in frame or name == "day":
            continue
        if isinstance(dtype, pd.CategoricalDtype):
            frame[name] = frame[name].astype("category")
        elif isinstance(dtype, pd.api.extensions.ExtensionDtype):
            frame[name] = frame[name].astype(dtype)
    ordered = [name for name in template.columns if name in frame]
    extra = [name for name in frame.columns if name not in template.columns]
    frame = frame[ordered + extra]
    sort_keys = [name for name in ("scope", "entity_id", "day", "user_id") if name in frame]
    return frame.sort_values(sort_keys, kind="stable").reset_index(drop=True)
