"""Releasing the user tables after warm-up changes no number any view shows."""

from __future__ import annotations

import importlib.util
import math
from dataclasses import fields, is_dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from copilot_lib import demo
from copilot_lib.errors import ReleasedTableError
from copilot_lib.tables import Tables, load_folder
from copilot_lib.views import VIEWS, Filters, compact, old_client_users, team_options, warm
from copilot_lib.views.breakdowns import coded
from copilot_lib.views.prepared import prepare

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_dashboard_recompute.py"
RELEASED = (
    "user_daily",
    "user_teams",
    "user_by_feature",
    "user_by_ide",
    "user_by_language_feature",
    "user_by_language_model",
    "user_by_model_feature",
)

# Pseudonyms use a fixed key in these tests, so that aliases are the same in every run.
pytestmark = pytest.mark.usefixtures("fixed_salt")


def _bench_controls() -> Any:
    spec = importlib.util.spec_from_file_location("bench_dashboard_recompute", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bench = _bench_controls()
    folder = tmp_path_factory.mktemp("demo")
    demo.write(folder, demo.generate(users=60, days=120, seed=9, end=bench.END))
    return folder


def _without_entity_tables(tables: Tables) -> Tables:
    """Empty every organisation table, so breakdown views sum the user tables instead."""
    for name, frame in tables.frames.items():
        if name.startswith("entity_"):
            tables.frames[name] = frame.iloc[0:0]
    return tables


def assert_same(left: Any, right: Any, where: str) -> None:
    """Assert two view results are equal, DataFrames and NaN included."""
    if isinstance(left, pd.DataFrame):
        pd.testing.assert_frame_equal(left, right, obj=where)
    elif isinstance(left, pd.Series):
        pd.testing.assert_series_equal(left, right, obj=where)
    elif isinstance(left, np.ndarray):
        np.testing.assert_array_equal(left, right, err_msg=where)
    elif is_dataclass(left) and not isinstance(left, type):
        assert type(left) is type(right), where
        for item in fields(left):
            assert_same(getattr(left, item.name), getattr(right, item.name), f"{where}.{item.name}")
    elif isinstance(left, dict):
        assert left.keys() == right.keys(), where
        for key in left:
            assert_same(left[key], right[key], f"{where}[{key!r}]")
    elif isinstance(left, list | tuple):
        assert len(left) == len(right), where
        for index, (one, other) in enumerate(zip(left, right, strict=True)):
            assert_same(one, other, f"{where}[{index}]")
    elif isinstance(left, float) and math.isnan(left):
        assert isinstance(right, float) and math.isnan(right), where
    else:
        assert left == right, where


def _every_control(tables: Tables) -> list[tuple[str, dict[str, Any]]]:
    """Return every view's result, and the old-client list, after each bench control change."""
    bench = _bench_controls()
    first, second = team_options(tables)[:2]
    filters = Filters()
    results = []
    for label, change in bench.controls(first, second):
        filters = replace(filters, **change)
        result: dict[str, Any] = {name: view(tables, filters) for name, view in VIEWS.items()}
        result["old_client_users"] = old_client_users(tables, filters)
        results.append((label, result))
    return results


@pytest.mark.parametrize("entity_tables", [True, False], ids=["with-entity-tables", "users-only"])
def test_compact_changes_no_view(demo_folder: Path, entity_tables: bool) -> None:
    full = load_folder(demo_folder)
    compacted = load_folder(demo_folder)
    if not entity_tables:
        full, compacted = _without_entity_tables(full), _without_entity_tables(compacted)
    compact(compacted)
    warm(compacted)
    for name in RELEASED:
        assert name in compacted.released, name
    expected = _every_control(full)
    actual = _every_control(compacted)
    assert [label for label, _ in actual] == [label for label, _ in expected]
    for (label, want), (_, got) in zip(expected, actual, strict=True):
        assert_same(want, got, label)


def test_released_table_raises(demo_folder: Path) -> None:
    tables = load_folder(demo_folder)
    compact(tables)
    frame = tables["user_by_feature"]
    with pytest.raises(ReleasedTableError, match="user_by_feature"):
        _ = frame.empty
    with pytest.raises(ReleasedTableError):
        _ = frame["day"]
    with pytest.raises(ReleasedTableError):
        len(frame)
    assert tables.has_rows("user_by_feature")
    assert not tables.has_rows("user_copilot_app")


def test_structure_not_built_raises(demo_folder: Path) -> None:
    tables = load_folder(demo_folder)
    compact(tables)
    with pytest.raises(ReleasedTableError, match="user_by_language_feature"):
        coded(tables, prepare(tables), "user_by_language_feature", ("feature",), ("loc_added_sum",), summed=False)


def test_compact_keeps_other_tables(demo_folder: Path) -> None:
    tables = load_folder(demo_folder)
    compact(tables)
    for name in ("entity_daily", "entity_by_ide", "seats", "repo_daily"):
        assert isinstance(tables[name], pd.DataFrame), name
        assert not tables[name].empty, name
        assert name not in tables.released, name
