"""Encode history tables as Parquet and read a whole store back into tables.

Every file of a table has the same schema, so ``pyarrow.dataset``, DuckDB, Spark and Athena
can read a table folder (``tables/TABLE/``) with Hive partitioning, and :func:`load_store`
builds the same :class:`~copilot_lib.tables.Tables` that report folders give.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from copilot_lib.errors import StoreError
from copilot_lib.legacy import legacy_tables
from copilot_lib.store import ObjectStore, open_store
from copilot_lib.tables import Tables, build_tables

logger = logging.getLogger(__name__)

SNAPSHOT_KINDS = ("seats", "teams")
READ_THREADS = 16
CACHE_INDEX = "index.json"
# Tables that build_tables makes but the store never writes: no archive run fetches billing.
UNSTORED_TABLES = frozenset({"billing"})


def is_self_contained(table: str) -> bool:
    """Return True for tables whose files are complete alone, without a day manifest."""
    return table in SNAPSHOT_KINDS or table.startswith("legacy_")


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Encode a table as Parquet without its ``day`` column, which the partition path carries.

    Categorical and all-empty text columns become plain strings, so every file of a table has
    the same schema and readers such as ``pyarrow.dataset``, DuckDB and Athena can combine them.
    ``Int32`` counters are written as int64, the type of the files written before the tables
    kept them in 32 bits, and :func:`load_store` reads them back as ``Int32``.
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
        if pa.types.is_int32(kind):
            kind = pa.int64()
        fields.append(pa.field(column.name, kind))
    table = table.cast(pa.schema(fields)).replace_schema_metadata(None)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def table_schemas() -> dict[str, pa.Schema]:
    """Return the Parquet schema of every table the store can write, by table name.

    The schemas come from the empty tables, which :meth:`History.save_day` also writes when a
    replaced day loses a table's rows, so they match the files written from downloads.
    """
    frames = {name: frame for name, frame in build_tables([]).frames.items() if name not in UNSTORED_TABLES}
    frames.update(legacy_tables([]))
    return {name: pq.read_schema(pa.BufferReader(parquet_bytes(frame))) for name, frame in sorted(frames.items())}


def load_store(
    store: ObjectStore | str | os.PathLike[str] | None = None,
    *,
    since: date | None = None,
    until: date | None = None,
    cache: str | os.PathLike[str] | None = None,
) -> Tables:
    """Read every stored day of every entity into the same tables :func:`build_tables` makes.

    Only days whose manifest exists are read, so a day a run left half-written is skipped.
    Seat and team snapshots become the ``seats`` and ``teams`` tables, with the snapshot's
    ``day``; imported legacy days become the ``legacy_*`` tables. ``since`` and ``until``
    (inclusive) limit the days read, which saves requests on a large S3 store. With
    ``cache``, a folder, the table files of a remote store are kept there and read again
    from it while their ETag is unchanged, so a later load downloads only new and replaced
    files.
    """
    first = f"day={since.isoformat()}" if since else ""
    last = f"day={until.isoformat()}" if until else "day=9999"
    if not isinstance(store, ObjectStore):
        store = open_store(store)
    copies = TableCache.for_store(store, cache) if cache is not None and store.local_root() is None else None
    committed = set()
    for key in store.list("days/"):
        entity, _, name = key[len("days/") :].rpartition("/")
        committed.add((entity, name.removesuffix(".json")))
    tags = store.list_tags("tables/")
    keys = []
    for key in tags:
        parts = key.split("/")
        # Snapshot and legacy tables are complete when written, report tables once their day
        # has a manifest.
        if len(parts) != 5 or not first <= parts[3] <= last:
            continue
        if is_self_contained(parts[1]) or (parts[2], parts[3]) in committed:
            keys.append(key)

    def read(key: str) -> bytes | None:
        return copies.read(store, key, tags[key]) if copies is not None else store.get(key)

    with ThreadPoolExecutor(READ_THREADS) as pool:
        frames = list(pool.map(lambda key: _read_table_file(read, key), keys))
    if copies is not None:
        copies.save(tags)
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


def _read_table_file(read: Callable[[str], bytes | None], key: str) -> pd.DataFrame:
    raw = read(key)
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


class TableCache:
    """Local copies of a remote store's table files, each valid while its ETag is unchanged.

    A copy is used only when the index records the ETag the store lists now and, for an ETag
    that is the MD5 of the content (a single-part upload), when the copy's MD5 matches it.
    Anything else is downloaded again. A cache that cannot be written only costs downloads.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.index: dict[str, str] = {}
        self.hits = self.downloads = 0
        self._writable = True
        self._lock = threading.Lock()
        try:
            self.index = json.loads((folder / CACHE_INDEX).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.index = {}

    @classmethod
    def for_store(cls, store: ObjectStore, cache: str | os.PathLike[str]) -> TableCache:
        """Return the cache of ``store`` in its own subfolder of ``cache``."""
        digest = hashlib.sha256(store.url.encode()).hexdigest()[:16]
        return cls(Path(cache).expanduser() / digest)

    def read(self, store: ObjectStore, key: str, tag: str) -> bytes | None:
        """Return the object's bytes from the copy when it is current, else from the store."""
        path = self.folder / key
        if tag and self.index.get(key) == tag:
            try:
                raw = path.read_bytes()
            except OSError:
                raw = None
            if raw is not None and _matches(raw, tag):
                with self._lock:
                    self.hits += 1
                return raw
        raw = store.get(key)
        with self._lock:
            self.downloads += 1
        if raw is not None and tag:
            self._keep(path, key, raw, tag)
        return raw

    def _keep(self, path: Path, key: str, raw: bytes, tag: str) -> None:
        if not self._writable:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(handle, "wb") as stream:
                stream.write(raw)
            os.replace(temporary, path)
        except OSError as exc:
            self._writable = False
            logger.warning("not caching store files in %s: %s", self.folder, exc)
            return
        with self._lock:
            self.index[key] = tag

    def save(self, listed: dict[str, str]) -> None:
        """Write the index, keeping only copies of keys the store still lists with that tag."""
        current = {key: tag for key, tag in self.index.items() if listed.get(key) == tag}
        logger.info("read %d store files from the cache in %s, downloaded %d", self.hits, self.folder, self.downloads)
        if not self._writable:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(current, stream)
            os.replace(temporary, self.folder / CACHE_INDEX)
        except OSError as exc:
            logger.warning("cannot write the cache index in %s: %s", self.folder, exc)


def _matches(raw: bytes, tag: str) -> bool:
    """Return False when ``tag`` is a plain MD5 ETag that ``raw`` does not have."""
    digest = tag.strip('"')
    if "-" in digest or len(digest) != 32:
        return True
    return hashlib.md5(raw, usedforsecurity=False).hexdigest() == digest
