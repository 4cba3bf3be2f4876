"""The history archive's layout and its rules for storing and replacing a day.

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
from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from copilot_lib.errors import StoreError
from copilot_lib.history_tables import SNAPSHOT_KINDS, parquet_bytes
from copilot_lib.legacy import legacy_tables
from copilot_lib.reports import Provenance, Record, RecordKind, read_report_bytes
from copilot_lib.store import ObjectStore
from copilot_lib.tables import build_tables, seats_table, teams_table

logger = logging.getLogger(__name__)

ENTITY_KINDS = ("org", "enterprise")
GZIP_MAGIC = b"\x1f\x8b"


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


def _parquet_file(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def _merge_legacy_day(stored: pa.Table, new: pa.Table) -> tuple[pa.Table, list[str]]:
    """Merge one legacy day's rows by team_slug; return the rows and the teams whose stored rows stayed.

    A team in ``new`` replaces its stored rows unless it has fewer of them. Teams are sorted
    by slug, so the result does not depend on the order of the imports.
    """
    stored_slugs = stored.column("team_slug").to_pylist()
    new_slugs = new.column("team_slug").to_pylist()
    parts = []
    kept = []
    for slug in sorted({*stored_slugs, *new_slugs}):
        old_rows = stored.filter(pa.array([value == slug for value in stored_slugs]))
        new_rows = new.filter(pa.array([value == slug for value in new_slugs]))
        if new_rows.num_rows == 0:
            parts.append(old_rows)
        elif old_rows.num_rows > new_rows.num_rows:
            kept.append(slug)
            parts.append(old_rows)
        else:
            parts.append(new_rows)
    return pa.concat_tables(parts, promote_options="permissive"), kept


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
        # because stored objects are never deleted. The manifest's part count gives the current ones.
        for name, parts in reports.items():
            for number, part in enumerate(parts):
                self.store.put(raw_key(entity, name, day, number), compress(part))
        for table, content in files.items():
            self.store.put(table_key(table, entity, day), content)
        manifest = DayManifest(entity.partition, day.isoformat(), new, run_id, fetched_at, with_rows)
        self.store.put(day_key(entity, day), manifest.to_json())
        return DayOutcome.WRITTEN if old is None else DayOutcome.UPDATED

    def rebuild_day(self, entity: Entity, day: date) -> int:
        """Rebuild a stored day's tables from its raw parts; return the number of tables with rows.

        Use it after the table builder changed, so stored days get the new columns. The raw
        parts must match the manifest's hashes, else StoreError is raised and nothing is written.
        """
        manifest = self.manifest(entity, day)
        if manifest is None:
            raise StoreError(f"{entity} {day} is not stored: archive the day before rebuilding it")
        reports: dict[str, list[bytes]] = {}
        for name, stored in manifest.reports.items():
            parts = [self._raw_part(entity, name, day, number) for number in range(stored.parts)]
            if report_part(parts).sha256 != stored.sha256:
                raise StoreError(
                    f"the raw parts of {name} for {entity} {day} do not match the day's manifest: "
                    "restore them from an earlier S3 object version, or archive the day again"
                )
            reports[name] = parts
        files = self._table_files(entity, day, reports)
        with_rows = sorted(files)
        template = build_tables([]).frames
        for table in manifest.tables:
            if table not in files and table in template:
                files[table] = parquet_bytes(template[table])
        for table, content in files.items():
            self.store.put(table_key(table, entity, day), content)
        manifest.tables = with_rows
        self.store.put(day_key(entity, day), manifest.to_json())
        return len(with_rows)

    def _raw_part(self, entity: Entity, report: str, day: date, number: int) -> bytes:
        key = raw_key(entity, report, day, number)
        content = self.store.get(key)
        if content is None:
            raise StoreError(
                f"{key} is missing: restore it from an earlier S3 object version, or archive the day again"
            )
        return gzip.decompress(content)

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
        """Merge legacy tables into the store, one file per (table, entity, day); return days by outcome.

        Rows are merged by their natural key (team_slug, day). An import replaces the rows of
        the teams it contains and keeps every other team's stored rows, so importing several
        files in any order gives their union. The organisation's or enterprise's own rows have
        ``team_slug`` "". A stored team day is replaced only by one with at least as many rows.
        """
        outcomes = {outcome.value: 0 for outcome in DayOutcome}
        for table, frame in frames.items():
            for day_value, rows in frame.groupby("day", sort=True):
                day = pd.Timestamp(day_value).date()
                key = table_key(table, entity, day)
                new = pq.read_table(io.BytesIO(parquet_bytes(rows)))
                stored = self.store.get(key)
                if stored is None:
                    self.store.put(key, _parquet_file(new))
                    outcomes[DayOutcome.WRITTEN.value] += 1
                    continue
                merged, kept = _merge_legacy_day(pq.read_table(io.BytesIO(stored)), new)
                for slug in kept:
                    logger.warning(
                        "%s %s %s team %r: kept the stored rows, which are more than the imported ones",
                        table,
                        entity,
                        day,
                        slug,
                    )
                content = _parquet_file(merged)
                if content == stored:
                    outcome = DayOutcome.KEPT if kept else DayOutcome.UNCHANGED
                else:
                    self.store.put(key, content)
                    outcome = DayOutcome.UPDATED
                outcomes[outcome.value] += 1
        return outcomes

    def save_legacy_source(self, entity: Entity, name: str, raw: bytes) -> str:
        """Store an imported legacy file as it was, once per content."""
        digest = hashlib.sha256(raw).hexdigest()[:16]
        key = f"legacy/{entity.partition}/{digest}-{os.path.basename(name)}.gz"
        self.store.put(key, compress(raw), if_absent=True)
        return key

    def rebuild_legacy(self, entity: Entity) -> dict[str, int]:
        """Rebuild the ``legacy_*`` tables from the stored legacy files; return days by outcome.

        The files are read as one import of all of them, and merged into the stored tables as
        :meth:`save_legacy` merges an import, so a team day whose stored rows outnumber the
        rebuilt ones is kept. Use it after the legacy table builder changed.
        """
        records: list[Record] = []
        for key in self.store.list(f"legacy/{entity.partition}/"):
            content = self.store.get(key)
            if content is None:
                raise StoreError(f"{key} vanished while the legacy files were read: run again")
            raw = gzip.decompress(content)
            if raw.startswith(GZIP_MAGIC):
                # The imported file was gzipped itself, and is stored as it was.
                raw = gzip.decompress(raw)
            # The original file name comes first, so records sort as an import of the files did.
            # NOTE: two imported files with the same name sort by content hash, not by import
            # order, so a day both contain may be taken from the older file.
            name = key.rsplit("/", 1)[1].split("-", 1)[1].removesuffix(".gz")
            records.extend(read_report_bytes(raw, f"{name} ({key})"))
        return self.save_legacy(entity, legacy_tables(records))

    def save_run(self, entity: Entity, started_at: str, run_id: str, status: Mapping[str, Any]) -> str:
        key = f"runs/{entity.partition}/{started_at.replace(':', '')}-{run_id}.json"
        self.store.put(key, orjson.dumps(dict(status), option=orjson.OPT_INDENT_2, default=str))
        return key
