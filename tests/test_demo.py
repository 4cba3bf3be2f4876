"""The demo generator: deterministic, schema-faithful, and as untidy as real data."""

from __future__ import annotations

from datetime import date

import orjson

from copilot_lib import demo
from copilot_lib.metrics import kpis
from copilot_lib.tables import load_folder

END = date(2026, 11, 30)


def test_same_seed_same_records():
    first = demo.generate(users=20, days=14, seed=11, end=END)
    second = demo.generate(users=20, days=14, seed=11, end=END)
    assert orjson.dumps(first.reports) == orjson.dumps(second.reports)
    assert orjson.dumps(first.seats) == orjson.dumps(second.seats)


def test_other_seed_other_records():
    first = demo.generate(users=20, days=14, seed=11, end=END)
    second = demo.generate(users=20, days=14, seed=12, end=END)
    assert orjson.dumps(first.reports) != orjson.dumps(second.reports)


def test_covers_requested_days_and_users():
    data = demo.generate(users=60, days=90, seed=7, end=END)
    days = {row["day"] for row in data.reports["organization-1-day"]}
    assert len(days) == 90
    assert max(days) == "2026-11-30"
    assert len(data.seats["seats"]) == 61  # one per user plus a seat with a deleted assignee


def test_contains_real_data_quirks():
    data = demo.generate(users=60, days=90, seed=7, end=END)
    users = data.reports["users-1-day"]
    zero_users = [row for row in users if row["user_initiated_interaction_count"] == 0 and not row["totals_by_feature"]]
    assert zero_users, "expected users GitHub saw only server-side"
    languages = {item["language"] for row in users for item in row["totals_by_language_feature"]}
    models = {item["model"] for row in users for item in row["totals_by_model_feature"]}
    assert "unknown" in languages
    assert "unknown" in models
    short_ide = [
        row
        for row in users
        if row["totals_by_ide"]
        and row["totals_by_ide"][0]["code_generation_activity_count"] < row["code_generation_activity_count"]
    ]
    assert short_ide, "expected IDE breakdowns that sum to less than the totals"
    agent_edits = [item for row in users for item in row["totals_by_feature"] if item["feature"] == "agent_edit"]
    assert agent_edits
    assert all(item["loc_suggested_to_add_sum"] == 0 and item["loc_added_sum"] > 0 for item in agent_edits)


def test_feature_breakdown_reconciles_with_totals():
    data = demo.generate(users=30, days=10, seed=5, end=END)
    for row in data.reports["users-1-day"]:
        for field in ("code_generation_activity_count", "loc_added_sum"):
            assert sum(item[field] for item in row["totals_by_feature"]) == row[field]


def test_written_files_load_and_agree_with_user_rows(tmp_path):
    data = demo.generate(users=25, days=20, seed=9, end=END)
    tables = load_folder(demo.write(tmp_path, data))
    assert len(tables.entity_daily) == 20
    assert len(tables.user_daily) == len(data.reports["users-1-day"])
    entity = tables.entity_daily
    user_sum = tables.user_daily.groupby("day")["code_generation_activity_count"].sum()
    assert (entity.set_index("day")["code_generation_activity_count"] == user_sum).all()
    result = kpis(tables)
    assert result.daily_active_users == int(
        tables.user_daily.query("day == day.max() and user_initiated_interaction_count > 0")["user_id"].nunique()
    )
