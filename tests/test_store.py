"""The history store and archive runs, against a local folder and moto's S3 server over HTTP."""

from __future__ import annotations

import gzip
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from history_fixtures import *  # noqa: F403 - the fixtures these tests take as arguments
from history_fixtures import NEWEST_SETTLED, TODAY, FakeSource, Fault, FaultProxy, new_bucket, store_contents

from copilot_lib.archive import GAP_AFTER_DAYS, ArchiveFailedError, archive, plan_days
from copilot_lib.config import SETTLING_DAYS
from copilot_lib.errors import AuthenticationError, StoreError
from copilot_lib.health import is_settling
from copilot_lib.history import DayOutcome, Entity, History
from copilot_lib.history_tables import day_status, load_store, parquet_bytes
from copilot_lib.store import LocalStore, ObjectStore, S3Store, open_store, s3_client
from copilot_lib.tables import build_tables

ACME = Entity("org", "acme")
DATA_DAYS = 5
SINCE = NEWEST_SETTLED - timedelta(days=DATA_DAYS + 1)


def run(store: ObjectStore, source: FakeSource, **options: Any):
    options.setdefault("since", SINCE)
    options.setdefault("lock_wait", 30)
    options.setdefault("concurrency", 4)
    return archive(source, History(store), ACME, today=TODAY, **options)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The store of one uninterrupted run, which every faulty run must converge to."""
    local = LocalStore(tmp_path_factory.mktemp("reference"))
    run(local, FakeSource(days=DATA_DAYS))
    return store_contents(local)


def test_store_put_get_list(store: ObjectStore) -> None:
    assert store.get("a/b.txt") is None
    assert store.put("a/b.txt", b"one")
    assert store.get("a/b.txt") == b"one"
    assert not store.put("a/b.txt", b"two", if_absent=True)
    assert store.get("a/b.txt") == b"one"
    assert store.put("a/b.txt", b"two")
    assert store.get("a/b.txt") == b"two"
    store.put("a/c.txt", b"x")
    store.put("ab/d.txt", b"y")
    assert store.list("a/") == ["a/b.txt", "a/c.txt"]
    assert store.list("a") == ["a/b.txt", "a/c.txt", "ab/d.txt"]
    assert store.list("missing/") == []


def test_archive_writes_layout(store: ObjectStore, reference: dict[str, Any]) -> None:
    source = FakeSource(days=DATA_DAYS)
    summary = run(store, source)

    assert summary.ok
    assert len(summary.written) == DATA_DAYS
    assert sorted(summary.not_available) == [(SINCE + timedelta(days=offset)).isoformat() for offset in range(2)]
    assert summary.seats == "written"
    assert summary.teams == "written"
    keys = store.list("")
    day = NEWEST_SETTLED
    assert f"raw/org=acme/report=users-1-day/day={day}/part-0.ndjson.gz" in keys
    assert f"tables/user_daily/org=acme/day={day}/part-0.parquet" in keys
    assert f"tables/entity_daily/org=acme/day={day}/part-0.parquet" in keys
    assert f"seats/org=acme/day={TODAY}/seats.json.gz" in keys
    assert f"tables/seats/org=acme/day={TODAY}/part-0.parquet" in keys
    assert f"teams/org=acme/day={TODAY}/teams.json.gz" in keys
    assert f"days/org=acme/day={day}.json" in keys
    assert len(store.list("runs/org=acme/")) == 1
    assert store_contents(store) == reference


def test_tables_read_back_with_pyarrow_dataset(store: ObjectStore, s3_proxy: FaultProxy) -> None:
    source = FakeSource(days=DATA_DAYS)
    run(store, source)

    if isinstance(store, S3Store):
        from pyarrow import fs

        filesystem = fs.S3FileSystem(
            endpoint_override=s3_proxy.url,
            scheme="http",
            access_key="testing",
            secret_key="testing",
            region="us-east-1",
        )
        path = f"{store.bucket}/archive/tables/user_daily"
    else:
        filesystem = None
        path = str(store.local_root() / "tables" / "user_daily")
    frame = ds.dataset(path, format="parquet", partitioning="hive", filesystem=filesystem).to_table().to_pandas()

    expected = source.data.reports["users-1-day"]
    assert len(frame) == len(expected)
    assert set(frame["org"]) == {"acme"}
    assert sorted(frame["day"].astype(str).unique()) == sorted({record["day"] for record in expected})
    assert sorted(frame["user_id"]) == sorted(record["user_id"] for record in expected)


def test_load_store_matches_source_tables(store: ObjectStore) -> None:
    source = FakeSource(days=DATA_DAYS)
    run(store, source)

    loaded = load_store(store)
    from copilot_lib.reports import Provenance, Record, classify

    records = [
        Record(classify(data), data, Provenance("x", 1, None, 1))
        for name in ("organization-1-day", "users-1-day")
        for data in source.data.reports[name]
    ]
    expected = build_tables(records)
    for name in ("entity_daily", "user_daily", "entity_by_feature", "user_by_ide"):
        ignore = ["report_created_at", "report_span_days", "source_file", "source_line"]
        got = loaded.frames[name].drop(columns=ignore, errors="ignore")
        want = expected.frames[name].drop(columns=ignore, errors="ignore")
        pd.testing.assert_frame_equal(
            got[want.columns].reset_index(drop=True),
            want.reset_index(drop=True),
            check_categorical=False,
        )
    assert len(loaded.frames["seats"]) == len(source.data.seats["seats"])
    assert set(loaded.frames["seats"]["day"]) == {pd.Timestamp(TODAY)}


def test_int32_counters_stored_as_int64() -> None:
    frame = build_tables([]).frames["user_daily"]
    assert frame["loc_added_sum"].dtype == "Int32"
    schema = pq.read_schema(pa.BufferReader(parquet_bytes(frame)))
    assert schema.field("loc_added_sum").type == pa.int64()
    assert schema.field("user_id").type == pa.int64()


def test_daily_run_refetches_three_settled_days(store: ObjectStore) -> None:
    # Every day without data is then older than GAP_AFTER_DAYS and recorded as a gap.
    source = FakeSource(days=GAP_AFTER_DAYS + 2)
    run(store, source, since=None, budget=None)
    source.calls.clear()

    summary = run(store, source, since=None)

    fetched_days = sorted({day for _, day in source.calls if day is not None})
    # Days D with TODAY - D <= SETTLING_DAYS are settling and never fetched.
    assert fetched_days == [TODAY - timedelta(days=offset) for offset in (6, 5, 4)]
    assert not [day for day in fetched_days if is_settling(day, TODAY)]
    assert len(source.calls) == 3 * 4 + 2
    assert sorted(summary.unchanged) == [day.isoformat() for day in fetched_days]
    assert summary.written == []
    assert summary.seats == "unchanged"


def test_download_with_fewer_rows_is_kept_out(store: ObjectStore) -> None:
    source = FakeSource(days=DATA_DAYS)
    run(store, source)
    day = NEWEST_SETTLED
    before = store_contents(store)
    users = source.by_day[("users-1-day", day.isoformat())]
    source.by_day[("users-1-day", day.isoformat())] = users[:-1]

    summary = run(store, source)

    assert summary.kept == [day.isoformat()]
    assert store_contents(store) == before


def test_download_with_more_rows_replaces_day(store: ObjectStore) -> None:
    source = FakeSource(days=DATA_DAYS)
    day = NEWEST_SETTLED
    users = source.by_day[("users-1-day", day.isoformat())]
    source.by_day[("users-1-day", day.isoformat())] = users[:-1]
    run(store, source)
    source.by_day[("users-1-day", day.isoformat())] = users

    summary = run(store, source)

    assert summary.updated == [day.isoformat()]
    frame = load_store(store).frames["user_daily"]
    assert (frame["day"] == pd.Timestamp(day)).sum() == len(users)


def test_github_failure_on_one_backfill_day(store: ObjectStore, reference: dict[str, Any]) -> None:
    source = FakeSource(days=DATA_DAYS)
    bad = NEWEST_SETTLED - timedelta(days=3)
    source.fail_days.add(bad)

    with pytest.raises(ArchiveFailedError) as raised:
        run(store, source)

    assert list(raised.value.summary.failed) == [bad.isoformat()]
    assert len(raised.value.summary.written) == DATA_DAYS - 1
    assert bad not in History(store).stored_days(ACME)
    source.fail_days.clear()
    summary = run(store, source)
    assert summary.written == [bad.isoformat()]
    assert store_contents(store) == reference


def test_exception_between_download_and_write(
    store: ObjectStore, reference: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = FakeSource(days=DATA_DAYS)
    original = History.save_day
    calls = {"count": 0}

    def crash_on_third(self: History, *args: Any, **kwargs: Any) -> DayOutcome:
        calls["count"] += 1
        if calls["count"] == 3:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(History, "save_day", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        run(store, source)
    monkeypatch.setattr(History, "save_day", original)

    stored = History(store).stored_days(ACME)
    assert 0 < len(stored) < DATA_DAYS
    run(store, source)
    assert store_contents(store) == reference


def test_failed_manifest_write_leaves_day_unstored(
    store: ObjectStore, reference: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = FakeSource(days=DATA_DAYS)
    original = type(store).put
    failures = {"left": 1}

    def failing_put(self: ObjectStore, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        if key.startswith("days/") and failures["left"]:
            failures["left"] -= 1
            raise StoreError(f"injected failure writing {key}")
        return original(self, key, data, if_absent=if_absent)

    monkeypatch.setattr(type(store), "put", failing_put)
    with pytest.raises(StoreError):
        run(store, source, concurrency=1)
    monkeypatch.setattr(type(store), "put", original)

    newest = NEWEST_SETTLED
    assert newest not in History(store).stored_days(ACME)
    assert store.list(f"tables/user_daily/org=acme/day={newest}/")
    assert pd.Timestamp(newest) not in set(load_store(store).frames["user_daily"]["day"])
    run(store, source)
    assert store_contents(store) == reference


def test_two_runs_at_once(store: ObjectStore, reference: dict[str, Any]) -> None:
    source = FakeSource(days=DATA_DAYS)
    results: list[Any] = []

    def one_run() -> None:
        try:
            results.append(run(store, source))
        except Exception as exc:  # recorded for the assertion below
            results.append(exc)

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [type(result).__name__ for result in results] == ["ArchiveSummary", "ArchiveSummary"]
    assert sorted(len(result.written) for result in results) == [0, DATA_DAYS]
    assert store_contents(store) == reference


def test_s3_slowdown_is_retried(s3_proxy: FaultProxy, reference: dict[str, Any]) -> None:
    store = S3Store(new_bucket(s3_proxy), "archive", endpoint_url=s3_proxy.url)
    s3_proxy.inject(Fault("PUT", "/tables/", 503, "SlowDown", times=3))
    s3_proxy.inject(Fault("GET", "list-type=2", 503, "SlowDown", times=1))

    run(store, FakeSource(days=DATA_DAYS))

    assert len(s3_proxy.injected) == 4
    s3_proxy.clear()
    assert store_contents(store) == reference


@pytest.mark.parametrize(
    "fault",
    [
        Fault("GET", "list-type=2", 403, "AccessDenied"),
        Fault("GET", "/days/", 403, "AccessDenied"),
        Fault("PUT", "/tables/", 403, "AccessDenied"),
        Fault("GET", "list-type=2", 503, "SlowDown"),
    ],
    ids=["list-denied", "read-denied", "write-denied", "slowdown-persists"],
)
def test_s3_errors_fail_the_run(s3_proxy: FaultProxy, reference: dict[str, Any], fault: Fault) -> None:
    # Two attempts keep botocore's backoff short; test_s3_slowdown_is_retried covers retries.
    client = s3_client(s3_proxy.url, max_attempts=2)
    store = S3Store(new_bucket(s3_proxy), "archive", client=client)
    source = FakeSource(days=DATA_DAYS)
    run(store, source, since=SINCE + timedelta(days=4))
    before = store_contents(store)
    s3_proxy.inject(fault)

    with pytest.raises(StoreError, match="S3"):
        run(store, source)

    s3_proxy.clear()
    after = store_contents(store)
    assert {key: after.get(key) for key in before} == before
    assert [key for key in after if key.startswith("days/")] == [key for key in before if key.startswith("days/")]
    run(store, source)
    assert store_contents(store) == reference


def test_plan_days_budget_and_window() -> None:
    stored = {TODAY - timedelta(days=offset) for offset in range(1, 40)}
    plan = plan_days(stored, kind="org", today=TODAY, budget=10)
    assert plan.refetch == [NEWEST_SETTLED - timedelta(days=offset) for offset in range(3)]
    assert plan.missing[0] == TODAY - timedelta(days=40)
    assert plan.missing == sorted(plan.missing, reverse=True)
    assert len(plan.missing) == 7
    assert plan.newest == NEWEST_SETTLED
    first_day = date(2025, 12, 12)
    all_days = (NEWEST_SETTLED - first_day).days + 1
    # The stored days from TODAY - 4 back to TODAY - 39 are in the range.
    stored_in_range = 39 - SETTLING_DAYS
    assert plan.remaining == all_days - stored_in_range - 7
    assert plan.already_stored == stored_in_range - 3

    enterprise = plan_days(set(), kind="enterprise", today=TODAY, budget=None, refetch_days=0)
    assert enterprise.missing[0] == NEWEST_SETTLED
    assert enterprise.missing[-1] == TODAY - timedelta(days=365)


def test_plan_refetches_newest_settled_days() -> None:
    stored = {TODAY - timedelta(days=offset) for offset in range(1, 40)}
    settled = [day for day in stored if not is_settling(day, TODAY)]

    plan = plan_days(stored, kind="org", today=TODAY, budget=None)

    assert plan.refetch == sorted(settled, reverse=True)[:3]
    assert [day for day in plan.days if is_settling(day, TODAY)] == []
    assert plan.missing[0] == TODAY - timedelta(days=40)


def test_plan_never_fetches_settling_days() -> None:
    settling = [TODAY - timedelta(days=offset) for offset in range(1, SETTLING_DAYS + 1)]

    plan = plan_days(set(), kind="org", today=TODAY, until=TODAY - timedelta(days=1), budget=None)

    assert plan.newest == NEWEST_SETTLED
    assert plan.days[0] == NEWEST_SETTLED
    assert [day for day in plan.days if day in settling] == []


def test_plan_with_until_before_newest_settled_day() -> None:
    until = NEWEST_SETTLED - timedelta(days=10)

    plan = plan_days(set(), kind="org", today=TODAY, until=until, refetch_days=0, budget=None)

    assert plan.newest == until
    assert plan.days[0] == until


def test_plan_with_since_after_newest_settled_day() -> None:
    plan = plan_days(set(), kind="org", today=TODAY, since=TODAY - timedelta(days=2), budget=None)

    assert plan.days == []
    assert plan.newest == NEWEST_SETTLED


def test_first_deployment_fills_newest_days_first() -> None:
    plan = plan_days(set(), kind="org", today=TODAY, budget=20)

    assert plan.days == [NEWEST_SETTLED - timedelta(days=offset) for offset in range(20)]


def test_s3_lock_held_by_another_run(s3_proxy: FaultProxy) -> None:
    store = S3Store(new_bucket(s3_proxy), "archive", endpoint_url=s3_proxy.url)
    lease = {"token": "other-run/1", "expires_at": (datetime.now(UTC) + timedelta(minutes=5)).isoformat()}
    store.put("locks/org-acme.json", orjson.dumps(lease))

    with pytest.raises(StoreError, match="waiting for the lock"):
        run(store, FakeSource(days=DATA_DAYS), lock_wait=0.5)

    assert History(store).stored_days(ACME) == set()
    assert orjson.loads(store.get("locks/org-acme.json") or b"{}")["token"] == "other-run/1"


def test_s3_expired_lock_is_taken_over(s3_proxy: FaultProxy, reference: dict[str, Any]) -> None:
    store = S3Store(new_bucket(s3_proxy), "archive", endpoint_url=s3_proxy.url)
    lease = {"token": "killed-run/1", "expires_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()}
    store.put("locks/org-acme.json", orjson.dumps(lease))

    run(store, FakeSource(days=DATA_DAYS), lock_wait=0.5)

    assert store.list("locks/") == []
    assert store_contents(store) == reference


def test_gap_days_skipped_until_backfill(store: ObjectStore) -> None:
    source = FakeSource(days=12)
    late = TODAY - timedelta(days=10)
    source.not_ready_days.add(late)
    since = TODAY - timedelta(days=12)
    run(store, source, since=since)
    assert History(store).gap_days(ACME) == {late}
    source.not_ready_days.clear()

    daily = run(store, source, since=since)
    backfill = run(store, source, since=since, refetch_days=0, snapshots=False, retry_gaps=True)

    assert late.isoformat() not in daily.written
    assert backfill.written == [late.isoformat()]
    assert late in History(store).stored_days(ACME)


def test_day_status_lists_stored_and_gap_days(store: ObjectStore) -> None:
    source = FakeSource(days=3)
    run(store, source, since=TODAY - timedelta(days=12))

    status = day_status(store)

    assert set(status["entity"]) == {"org=acme"}
    stored = status[status["status"] == "stored"]["day"].dt.date.tolist()
    gaps = status[status["status"] == "gap"]["day"].dt.date.tolist()
    assert stored == [TODAY - timedelta(days=offset) for offset in (6, 5, 4)]
    assert gaps == [TODAY - timedelta(days=offset) for offset in range(12, 7, -1)]


def test_authentication_error_stops_the_run(store: ObjectStore) -> None:
    source = FakeSource(days=DATA_DAYS)

    def reject(report: str, day: date) -> None:
        raise AuthenticationError("GitHub rejected the installation token", status=401)

    source.before_fetch = reject

    with pytest.raises(ArchiveFailedError) as raised:
        run(store, source, concurrency=1)

    summary = raised.value.summary
    assert len(summary.failed) == 1
    assert summary.remaining == summary.planned - 1
    assert len(source.calls) == 1
    assert summary.seats == "not fetched"
    assert History(store).stored_days(ACME) == set()


def test_every_table_reads_as_one_dataset(tmp_path: Any) -> None:
    store = LocalStore(tmp_path / "store")
    run(store, FakeSource(days=DATA_DAYS, users=8))

    tables = sorted({key.split("/")[1] for key in store.list("tables/")})
    assert {"entity_daily", "user_daily", "seats", "teams"} <= set(tables)
    for table in tables:
        dataset = ds.dataset(store.root / "tables" / table, format="parquet", partitioning="hive")
        frame = dataset.to_table().to_pandas()
        assert len(frame) > 0, table
        assert set(frame["org"]) == {"acme"}, table


def test_only_store_and_secrets_import_boto3() -> None:
    # copilot_lib.secrets reads the App key from Secrets Manager; every S3 call goes through the store.
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    importers = sorted(
        path.relative_to(root).as_posix()
        for folder in ("copilot_lib", "lambda_archiver")
        for path in (root / folder).rglob("*.py")
        if re.search(r"^\s*(import|from)\s+(boto3|botocore)\b", path.read_text(), re.MULTILINE)
    )
    assert importers == ["copilot_lib/secrets.py", "copilot_lib/store.py"]


def test_missing_user_report_blocks_only_recent_days(store: ObjectStore) -> None:
    source = FakeSource(days=12)
    # A settled day, but not yet GAP_AFTER_DAYS old: its users report may still come.
    old, recent = TODAY - timedelta(days=10), TODAY - timedelta(days=5)
    source.not_ready_reports |= {("users-1-day", old), ("users-1-day", recent)}

    summary = run(store, source, since=TODAY - timedelta(days=12))

    assert old.isoformat() in summary.written
    assert recent.isoformat() in summary.not_available
    manifest = History(store).manifest(ACME, old)
    assert manifest is not None
    assert manifest.reports["users-1-day"].rows == 0
    assert manifest.reports["organization-1-day"].rows == 1


def test_update_empties_a_table_with_no_rows(store: ObjectStore) -> None:
    source = FakeSource(days=DATA_DAYS)
    day = NEWEST_SETTLED
    run(store, source)
    assert (load_store(store).frames["entity_by_ide"]["day"] == pd.Timestamp(day)).any()
    entity_day = dict(source.by_day[("organization-1-day", day.isoformat())][0])
    entity_day.pop("totals_by_ide")
    source.by_day[("organization-1-day", day.isoformat())] = [entity_day]

    summary = run(store, source)

    assert summary.updated == [day.isoformat()]
    assert not (load_store(store).frames["entity_by_ide"]["day"] == pd.Timestamp(day)).any()
    manifest = History(store).manifest(ACME, day)
    assert manifest is not None
    assert "entity_by_ide" not in manifest.tables
    assert "entity_daily" in manifest.tables


def test_unreadable_report_fails_only_its_day(store: ObjectStore) -> None:
    source = FakeSource(days=DATA_DAYS)
    bad = NEWEST_SETTLED - timedelta(days=1)
    original = source.fetch_report

    def broken(report: str, day: date) -> Any:
        if report == "users-1-day" and day == bad:
            return [b'{"day": "' + bad.isoformat().encode() + b'", "user_id": 1}\n{not json\n']
        return original(report, day)

    source.fetch_report = broken  # type: ignore[method-assign]

    with pytest.raises(ArchiveFailedError) as raised:
        run(store, source)

    assert list(raised.value.summary.failed) == [bad.isoformat()]
    assert "part-0.ndjson.gz:2: invalid JSON" in raised.value.summary.failed[bad.isoformat()]
    assert len(raised.value.summary.written) == DATA_DAYS - 1
    assert not [key for key in store.list("") if f"day={bad}" in key]


def test_failed_snapshot_write_is_redone(
    store: ObjectStore, reference: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = FakeSource(days=DATA_DAYS)
    original = type(store).put

    def failing_put(self: ObjectStore, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        if key.startswith("seats/"):
            raise StoreError(f"injected failure writing {key}")
        return original(self, key, data, if_absent=if_absent)

    monkeypatch.setattr(type(store), "put", failing_put)
    with pytest.raises(StoreError):
        run(store, source)
    monkeypatch.setattr(type(store), "put", original)
    assert store.list("seats/") == []

    summary = run(store, source)

    assert summary.seats == "written"
    assert store_contents(store) == reference


def test_load_store_window(store: ObjectStore) -> None:
    run(store, FakeSource(days=DATA_DAYS))
    since, until = NEWEST_SETTLED - timedelta(days=4), NEWEST_SETTLED - timedelta(days=3)

    frame = load_store(store, since=since, until=until).frames["user_daily"]

    assert sorted(frame["day"].dt.date.unique()) == [since, until]


def test_enterprise_partition(tmp_path: Any) -> None:
    store = LocalStore(tmp_path / "store")
    octo = Entity("enterprise", "octo")
    archive(FakeSource(days=DATA_DAYS), History(store), octo, today=TODAY, since=SINCE, lock_wait=5)

    day = NEWEST_SETTLED
    assert f"tables/user_daily/enterprise=octo/day={day}/part-0.parquet" in store.list("tables/")
    assert History(store).stored_days(octo) == {NEWEST_SETTLED - timedelta(days=offset) for offset in range(DATA_DAYS)}
    assert set(load_store(store).frames["user_daily"]["enterprise"]) == {"octo"}


def test_rebuild_day_from_raw_parts(store: ObjectStore, reference: dict[str, Any]) -> None:
    run(store, FakeSource(days=DATA_DAYS))
    day = NEWEST_SETTLED
    history = History(store)
    table = f"tables/user_daily/org=acme/day={day}/part-0.parquet"
    store.put(table, b"stale bytes from an older table builder")

    with_rows = history.rebuild_day(ACME, day)

    assert with_rows == len(history.manifest(ACME, day).tables)  # type: ignore[union-attr]
    assert store_contents(store) == reference


def test_rebuild_day_rejects_changed_raw_parts(store: ObjectStore) -> None:
    run(store, FakeSource(days=DATA_DAYS))
    day = NEWEST_SETTLED
    raw = f"raw/org=acme/report=users-1-day/day={day}/part-0.ndjson.gz"
    store.put(raw, gzip.compress(b'{"day": "x"}\n'))
    before = store_contents(store)

    with pytest.raises(StoreError, match="do not match"):
        History(store).rebuild_day(ACME, day)

    assert store_contents(store) == before


@pytest.mark.parametrize("location", ["s3:/bucket", "s3:bucket/prefix", "S3:/bucket", "s3:"])
def test_open_store_rejects_mistyped_s3_url(location: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match=f"invalid store '{location}': write s3://BUCKET"):
        open_store(location)
    assert list(tmp_path.iterdir()) == []


def test_open_store_s3_url_and_folder(tmp_path: Any) -> None:
    store = open_store("s3://bucket/some/prefix")
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix) == ("bucket", "some/prefix/")
    assert isinstance(open_store(str(tmp_path / "s3")), LocalStore)
