"""The Glue tables of template.yaml against the Parquet files a history store holds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from history_fixtures import NEWEST_SETTLED, TODAY, FakeSource
from model_builders import SAMPLES

from copilot_lib.archive import archive
from copilot_lib.history import Entity, History
from copilot_lib.history_tables import table_schemas
from copilot_lib.legacy import load_legacy
from copilot_lib.store import LocalStore
from lambda_archiver import glue_tables

ACME = Entity("org", "acme")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> LocalStore:
    """A store with 30 archived demo days, today's snapshots and the legacy sample archives."""
    store = LocalStore(tmp_path_factory.mktemp("glue-store"))
    history = History(store)
    since = NEWEST_SETTLED - timedelta(days=29)
    archive(FakeSource(days=30, users=8), history, ACME, today=TODAY, since=since, lock_wait=5)
    history.save_legacy(ACME, load_legacy(SAMPLES / "legacy"))
    return store


@pytest.fixture(scope="module")
def template_tables() -> dict[str, dict[str, Any]]:
    """The TableInput of every Glue table in template.yaml, by table name."""
    from cfnlint.decode import decode

    template, errors = decode(str(glue_tables.TEMPLATE))
    assert not errors
    inputs = [
        resource["Properties"]["TableInput"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Glue::Table"
    ]
    return {table["Name"]: table for table in inputs}


def _columns(table_input: dict[str, Any]) -> list[tuple[str, str]]:
    return [(column["Name"], column["Type"]) for column in table_input["StorageDescriptor"]["Columns"]]


def _written_files(store: LocalStore) -> dict[str, str]:
    """Return one written Parquet file per table, by table name."""
    files: dict[str, str] = {}
    for key in store.list("tables/"):
        files.setdefault(key.split("/")[1], key)
    return files


def test_every_written_table_has_glue_table(store: LocalStore, template_tables: dict[str, dict[str, Any]]) -> None:
    written = _written_files(store)

    assert {"entity_daily", "user_daily", "seats", "teams", "legacy_metrics_daily"} <= set(written)
    assert sorted(set(written) - set(template_tables)) == []


def test_glue_columns_match_written_files(store: LocalStore, template_tables: dict[str, dict[str, Any]]) -> None:
    for table, key in _written_files(store).items():
        schema = pq.read_schema(store.root / key)
        expected = [(column.name, glue_tables.glue_type(column.type)) for column in schema]

        assert _columns(template_tables[table]) == expected, table


def test_glue_tables_cover_every_table_schema(template_tables: dict[str, dict[str, Any]]) -> None:
    schemas = table_schemas()

    assert sorted(template_tables) == sorted(schemas)
    assert "billing" not in template_tables
    for table, schema in schemas.items():
        assert _columns(template_tables[table]) == glue_tables.glue_columns(schema), table


def test_glue_partitions_follow_store_layout(template_tables: dict[str, dict[str, Any]]) -> None:
    for table, table_input in template_tables.items():
        keys = [(key["Name"], key["Type"]) for key in table_input["PartitionKeys"]]
        location = table_input["Parameters"]["storage.location.template"]

        assert keys == [("entity", "string"), ("day", "date")], table
        assert f"/tables/{table}/${{Kind}}=${{!entity}}/day=${{!day}}/" in str(location), table
        assert table_input["Parameters"]["projection.enabled"] == "true", table
        assert {"entity", "day"}.isdisjoint(name for name, _ in _columns(table_input)), table


def test_legacy_tables_project_older_days(template_tables: dict[str, dict[str, Any]]) -> None:
    legacy = template_tables["legacy_usage_daily"]["Parameters"]["projection.day.range"]
    reports = template_tables["user_daily"]["Parameters"]["projection.day.range"]

    assert legacy == f"{glue_tables.FIRST_LEGACY_DAY},NOW"
    assert reports == "2025-10-10,NOW"


def test_template_is_generated_from_schemas() -> None:
    assert glue_tables.main(["--check"]) == 0


def test_generation_restores_stale_template() -> None:
    stale = glue_tables.TEMPLATE.read_text().replace("{Name: user_login, Type: string}\n", "", 1)

    assert glue_tables.updated_template(stale) != stale
    assert glue_tables.updated_template(stale) == glue_tables.TEMPLATE.read_text()


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (pa.string(), "string"),
        (pa.large_string(), "string"),
        (pa.int64(), "bigint"),
        (pa.int32(), "int"),
        (pa.float64(), "double"),
        (pa.bool_(), "boolean"),
        (pa.timestamp("ns", tz="UTC"), "timestamp"),
        (pa.timestamp("ns"), "timestamp"),
        (pa.date32(), "date"),
    ],
)
def test_glue_type(kind: pa.DataType, expected: str) -> None:
    assert glue_tables.glue_type(kind) == expected


def test_glue_type_rejects_unknown_types() -> None:
    with pytest.raises(ValueError, match="no Glue type"):
        glue_tables.glue_type(pa.list_(pa.int64()))
