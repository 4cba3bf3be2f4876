"""The history archive's layout, its rules for replacing a stored day, and reading it back.

Layout, the same in a local folder and under an S3 prefix (``ENTITY`` is ``org=LOGIN`` or
``enterprise=SLUG``)::

    raw/ENTITY/report=REPORT/day=YYYY-MM-DD/part-N.ndjson.gz   each downloaded part, as sent
    tables/TABLE/ENTITY/day=YYYY-MM-DD/part-0.parquet          one file per table, entity, day
    legacy/ENTITY/SHA-NAME.gz                                  an imported legacy archive
    seats/ENTITY/day=YYYY-MM-DD/seats.json.gz                  the day's seat listing
    teams/ENTITY/day=YYYY-MM-DD/teams.json.gz                  the day's team list
    days/ENTITY/day=YYYY-MM-DD.json                            the day's manifest, written last
    gaps/ENTITY/day=YYYY-MM-DD.json                            a settled day without a report
    runs/ENTITY/STARTED-RUNID.json                             what each run did

A day counts as stored once its manifest exists. The manifest is written after the raw parts
and the tables, so a run that stops half-way leaves no manifest and the next run fetches the
day again. The manifest records each report's row count and content hash, which decide
whether a new download may replace a stored day: it may not when any report has fewer rows.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from copilot_lib.errors import StoreError
from copilot_lib.reports import Provenance, Record, RecordKind, read_report_bytes
from copilot_lib.store import ObjectStore, open_store
from copilot_lib.tables import Tables, build_tables, seats_table, teams_table

logger = logging.getLogger(__name__)

ENTITY_KINDS = ("org", "enterprise")
SNAPSHOT_KINDS = ("seats", "teams")
READ_THREADS = 16


@dataclass(frozen=True)
class Entity:
    """The organisation (by login) or enterprise (by slug) whose history is kept."""

    kind: str
    name: str

    def __post_init__(self) -> None:
        if self.kind not in ENTITY_KINDS:
            raise ValueError(f"entity kind {self.kind!r} is not one of {ENTITY_KINDS}")
        if not self.name or "/" in self.name or "=" in self.name:
            raise ValueError(f"invalid {self.kind} name {self.name!r}")

    @property
    def partition(self) -> str:
        """The Hive partition segment, e.g. ``org=acme``."""
        return f"{self.kind}={self.name}"

    def __str__(self) -> str:
        return self.partition


class DayOutcome(StrEnum):
    """The effect of saving a downloaded day on the store."""

    WRITTEN = "written"  # the day was not stored before
    UPDATED = "updated"  # a stored day was replaced by a download with at least as many rows
    UNCHANGED = "unchanged"  # the download is identical to the stored day
    KEPT = "kept"  # the download has fewer rows than the stored day, which stays


@dataclass(frozen=True)
class ReportPart:
    """One report of a stored day: its raw parts, rows and content hash."""

    parts: int
    rows: int
    sha256: str


@dataclass
class DayManifest:
    """The record of one stored day, written after everything else of the day."""

    entity: str
    day: str
    reports: dict[str, ReportPart]
    run_id: str
    fetched_at: str
    tables: list[str] = field(default_factory=list)  # the tables with rows on this day

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)

    @classmethod
    def from_json(cls, raw: bytes, key: str) -> DayManifest:
        try:
            data = orjson.loads(raw)
            reports = {name: ReportPart(**part) for name, part in data["reports"].items()}
            return cls(data["entity"], data["day"], reports, data["run_id"], data["fetched_at"], data.get("tables", []))
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise StoreError(
                f"the day manifest {key} is unreadable ({exc}): "
                "restore it from a backup or an earlier S3 object version"
            ) from exc


def day_key(entity: Entity, day: date) -> str:
    return f"days/{entity.partition}/day={day.isoformat()}.json"


def raw_key(entity: Entity, report: str, day: date, part: int) -> str:
    folder = f"raw/{entity.partition}/report={report.replace('/', '-')}/day={day.isoformat()}"
    return f"{folder}/part-{part}.ndjson.gz"


def table_key(table: str, entity: Entity, day: date) -> str:
    return f"tables/{table}/{entity.partition}/day={day.isoformat()}/part-0.parquet"


def snapshot_key(kind: str, entity: Entity, day: date) -> str:
    return f"{kind}/{entity.partition}/day={day.isoformat()}/{kind}.json.gz"


def compress(data: bytes) -> bytes:
    """Gzip ``data`` with a zero timestamp, so equal content gives equal bytes."""
    return gzip.compress(data, mtime=0)


def count_rows(parts: list[bytes]) -> int:
    """Return the number of non-blank NDJSON lines in a report's parts."""
    return sum(1 for part in parts for line in part.splitlines() if line.strip())


def report_part(parts: list[bytes]) -> ReportPart:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return ReportPart(len(parts), count_rows(parts), digest.hexdigest())


class History:
    """The history archive in one store."""

    def __init__(self, store: ObjectStore):
        self.store = store

    def stored_days(self, entity: Entity) -> set[date]:
        """Return the days stored for ``entity``, from one listing of its manifests."""
        prefix = f"days/{entity.partition}/day="
        days = set()
        for key in self.store.list(prefix):
            name = key[len(prefix) :].removesuffix(".json")
            try:
                days.add(date.fromisoformat(name))
            except ValueError:
                logger.warning("ignored %s: not a day manifest", key)
        return days

    def gap_days(self, entity: Entity) -> set[date]:
        """Return the days GitHub still reported "not available" for long after they ended."""
        prefix = f"gaps/{entity.partition}/day="
        days = set()
        for key in self.store.list(prefix):
            try:
                days.add(date.fromisoformat(key[len(prefix) :].removesuffix(".json")))
            except ValueError:
                logger.warning("ignored %s: not a gap record", key)
        return days

    def save_gap(self, entity: Entity, day: date, reason: str) -> None:
        """Record that GitHub has no report for a settled day, so later runs stop asking."""
        record = orjson.dumps({"day": day.isoformat(), "reason": reason})
        self.store.put(f"gaps/{entity.partition}/day={day.isoformat()}.json", record, if_absent=True)

    def manifest(self, entity: Entity, day: date) -> DayManifest | None:
        key = day_key(entity, day)
        raw = self.store.get(key)
        return None if raw is None else DayManifest.from_json(raw, key)

    def save_day(
        self,
        entity: Entity,
        day: date,
        reports: Mapping[str, list[bytes]],
        *,
        run_id: str,
        fetched_at: str,
    ) -> DayOutcome:
        """Store one completely downloaded day, unless the stored copy has more rows.

        ``reports`` maps each report name to its downloaded parts (an empty list when GitHub
        has no data for that report and day).
        """
        new = {name: report_part(parts) for name, parts in reports.items()}
        old = self.manifest(entity, day)
        if old is not None:
            if {name: part.sha256 for name, part in old.reports.items()} == {
                name: part.sha256 for name, part in new.items()
            }:
                return DayOutcome.UNCHANGED
            shrunk = [
                f"{name} {part.rows} -> {new[name].rows if name in new else 'missing'} rows"
                for name, part in old.reports.items()
                if name not in new or new[name].rows < part.rows
            ]
            if shrunk:
                logger.warning(
                    "%s %s: kept the stored day because the new download has fewer rows (%s)",
                    entity,
                    day,
                    ", ".join(shrunk),
                )
                return DayOutcome.KEPT
        # Parse before writing anything, so a report that cannot be read leaves the store as it was.
        files = self._table_files(entity, day, reports)
        with_rows = sorted(files)
        if old is not None:
            # A table that had rows on the replaced day gets an empty file, not the old rows.
            template = build_tables([]).frames
            for table in old.tables:
                if table not in files and table in template:
                    files[table] = parquet_bytes(template[table])
        # NOTE: a replacement with fewer parts leaves the old higher-numbered parts in place,
        # because stored objects are never deleted. The manifest's part count tells which are current.
        for name, parts in reports.items():
            for number, part in enumerate(parts):
                self.store.put(raw_key(entity, name, day, number), compress(part))
        for table, content in files.items():
            self.store.put(table_key(table, entity, day), content)
        manifest = DayManifest(entity.partition, day.isoformat(), new, run_id, fetched_at, with_rows)
        self.store.put(day_key(entity, day), manifest.to_json())
        return DayOutcome.WRITTEN if old is None else DayOutcome.UPDATED

    def _table_files(self, entity: Entity, day: date, reports: Mapping[str, list[bytes]]) -> dict[str, bytes]:
        records: list[Record] = []
        for name, parts in reports.items():
            for number, part in enumerate(parts):
                records.extend(read_report_bytes(part, raw_key(entity, name, day, number)))
        return {table: parquet_bytes(frame) for table, frame in build_tables(records).frames.items() if not frame.empty}

    def save_snapshot(self, kind: str, entity: Entity, day: date, payload: Any) -> bool:
        """Store the day's seat listing or team list, unless one is stored already.

        The first complete snapshot of a day is kept, so repeated runs on one day write it once.
        """
        if kind not in SNAPSHOT_KINDS:
            raise ValueError(f"snapshot kind {kind!r} is not one of {SNAPSHOT_KINDS}")
        key = snapshot_key(kind, entity, day)
        if self.store.get(key) is not None:
            return False
        # The table goes first and the snapshot last, so a run that stops in between leaves no
        # snapshot and the next run writes both.
        if kind == "seats":
            frame = seats_table([Record(RecordKind.SEATS, payload, Provenance(key, 1, None, None))])
        else:
            frame = teams_table([Record(RecordKind.TEAM, team, Provenance(key, 1, None, None)) for team in payload])
        self.store.put(table_key(kind, entity, day), parquet_bytes(frame))
        return self.store.put(key, compress(orjson.dumps(payload)), if_absent=True)

    def save_legacy(self, entity: Entity, frames: Mapping[str, pd.DataFrame]) -> dict[str, int]:
        """Store legacy tables, one file per (table, entity, day); return days by outcome.

        A stored legacy day is replaced only by one with at least as many rows.
        """
        outcomes = {outcome.value: 0 for outcome in DayOutcome}
        for table, frame in frames.items():
            for day_value, rows in frame.groupby("day", sort=True):
                day = pd.Timestamp(day_value).date()
                key = table_key(table, entity, day)
                content = parquet_bytes(rows)
                stored = self.store.get(key)
                if stored == content:
                    outcome = DayOutcome.UNCHANGED
                elif stored is not None and pq.read_metadata(io.BytesIO(stored)).num_rows > len(rows):
                    logger.warning("%s %s %s: kept the stored day, which has more rows", table, entity, day)
                    outcome = DayOutcome.KEPT
                else:
                    self.store.put(key, content)
                    outcome = DayOutcome.WRITTEN if stored is None else DayOutcome.UPDATED
                outcomes[outcome.value] += 1
        return outcomes

    def save_legacy_source(self, entity: Entity, name: str, raw: bytes) -> str:
        """Store an imported legacy file as it was, once per content."""
        digest = hashlib.sha256(raw).hexdigest()[:16]
        key = f"legacy/{entity.partition}/{digest}-{os.path.basename(name)}.gz"
        self.store.put(key, compress(raw), if_absent=True)
        return key

    def save_run(self, entity: Entity, started_at: str, run_id: str, status: Mapping[str, Any]) -> str:
        key = f"runs/{entity.partition}/{started_at.replace(':', '')}-{run_id}.json"
        self.store.put(key, orjson.dumps(dict(status), option=orjson.OPT_INDENT_2, default=str))
        return key


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
