"""Local copies of an S3 history store's table files, against moto's server over HTTP."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest
from history_fixtures import *  # noqa: F403 - the fixtures these tests take as arguments
from history_fixtures import Fault, FaultProxy, new_bucket

from copilot_lib.errors import StoreError
from copilot_lib.history_tables import TableCache, load_store, parquet_bytes
from copilot_lib.store import LocalStore, S3Store

DAYS = ("2026-11-01", "2026-11-02", "2026-11-03")


def seats(*logins: str) -> pd.DataFrame:
    return pd.DataFrame(
        {"assignee_id": list(range(1, len(logins) + 1)), "assignee_login": list(logins), "plan_type": "business"}
    )


def key(day: str) -> str:
    return f"tables/seats/org=acme/day={day}/part-0.parquet"


@pytest.fixture
def s3_store(s3_proxy: FaultProxy) -> S3Store:
    s3_proxy.clear()
    store = S3Store(new_bucket(s3_proxy), "archive", endpoint_url=s3_proxy.url)
    for day in DAYS:
        store.put(key(day), parquet_bytes(seats("octocat", "hubot")))
    yield store
    s3_proxy.clear()


def logins(tables) -> list[str]:
    frame = tables.frames["seats"]
    return sorted(f"{day:%Y-%m-%d}:{login}" for day, login in zip(frame["day"], frame["assignee_login"], strict=True))


def test_second_load_reads_no_table_file(s3_store: S3Store, s3_proxy: FaultProxy, tmp_path: Path) -> None:
    first = load_store(s3_store, cache=tmp_path / "cache")
    s3_proxy.inject(Fault("GET", "/archive/tables/", 403, "AccessDenied"))

    second = load_store(s3_store, cache=tmp_path / "cache")

    assert s3_proxy.injected == []
    assert logins(second) == logins(first)
    assert len(logins(first)) == 6


def test_replaced_file_is_downloaded_again(s3_store: S3Store, s3_proxy: FaultProxy, tmp_path: Path) -> None:
    load_store(s3_store, cache=tmp_path / "cache")
    s3_store.put(key(DAYS[1]), parquet_bytes(seats("octocat", "hubot", "monalisa")))
    s3_proxy.inject(Fault("GET", f"{DAYS[0]}/part-0", 403, "AccessDenied"))
    s3_proxy.inject(Fault("GET", f"{DAYS[2]}/part-0", 403, "AccessDenied"))

    tables = load_store(s3_store, cache=tmp_path / "cache")

    assert s3_proxy.injected == []
    assert f"{DAYS[1]}:monalisa" in logins(tables)
    assert len(logins(tables)) == 7


def test_altered_copy_is_not_used(s3_store: S3Store, s3_proxy: FaultProxy, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_store(s3_store, cache=cache)
    copy = next(cache.rglob(f"day={DAYS[0]}/part-0.parquet"))
    copy.write_bytes(parquet_bytes(seats("mallory")))
    s3_proxy.inject(Fault("GET", f"{DAYS[0]}/part-0", 403, "AccessDenied"))

    with pytest.raises(StoreError, match="AccessDenied"):
        load_store(s3_store, cache=cache)

    s3_proxy.clear()
    tables = load_store(s3_store, cache=cache)
    assert "mallory" not in " ".join(logins(tables))
    assert len(logins(tables)) == 6


def test_unwritable_cache_still_loads(s3_store: S3Store, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder would be")

    with caplog.at_level(logging.WARNING, logger="copilot_lib.history_tables"):
        tables = load_store(s3_store, cache=blocked)

    assert len(logins(tables)) == 6
    assert "not caching store files" in caplog.text


def test_local_store_is_read_in_place(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    store.put(key(DAYS[0]), parquet_bytes(seats("octocat")))

    tables = load_store(store, cache=tmp_path / "cache")

    assert logins(tables) == [f"{DAYS[0]}:octocat"]
    assert not (tmp_path / "cache").exists()


def test_cache_folder_per_store(s3_store: S3Store, tmp_path: Path) -> None:
    other = S3Store(s3_store.bucket, "elsewhere", client=s3_store.client)

    assert TableCache.for_store(s3_store, tmp_path).folder != TableCache.for_store(other, tmp_path).folder
