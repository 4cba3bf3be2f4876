"""Archives of the retired /copilot/usage and /copilot/metrics APIs, loaded into legacy tables."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from model_builders import SAMPLES

from copilot_lib.legacy import add_legacy_tables, load_legacy
from copilot_lib.tables import load_folder

USAGE = json.loads((SAMPLES / "legacy" / "organization_usage_response_sample.json").read_text())
METRICS = json.loads((SAMPLES / "legacy" / "organization_metrics_response_sample.json").read_text())


@pytest.fixture(scope="module")
def sample_tables():
    return load_legacy(SAMPLES / "legacy")


def test_usage_sample_totals(sample_tables):
    daily = sample_tables["legacy_usage_daily"]
    assert len(daily) == len(USAGE)
    assert int(daily["total_suggestions_count"].sum()) == sum(day.get("total_suggestions_count", 0) for day in USAGE)
    breakdown = sample_tables["legacy_usage_breakdown"]
    items = [item for day in USAGE for item in day.get("breakdown") or []]
    assert len(breakdown) == len(items)
    assert int(breakdown["lines_accepted"].sum()) == sum(item["lines_accepted"] for item in items)


def test_metrics_sample_totals(sample_tables):
    daily = sample_tables["legacy_metrics_daily"]
    assert len(daily) == len(METRICS)
    assert int(daily["total_engaged_users"].sum()) == sum(day["total_engaged_users"] for day in METRICS)
    suggestions = 0
    rows = 0
    for day in METRICS:
        for editor in (day.get("copilot_ide_code_completions") or {}).get("editors", []):
            for model in editor.get("models", []):
                for language in model.get("languages", []):
                    suggestions += language.get("total_code_suggestions", 0)
                    rows += 1
    completions = sample_tables["legacy_code_completions"]
    assert len(completions) == rows
    assert int(completions["total_code_suggestions"].sum()) == suggestions
    chats = sum(
        model.get("total_chats", 0)
        for day in METRICS
        for editor in (day.get("copilot_ide_chat") or {}).get("editors", [])
        for model in editor.get("models", [])
    )
    assert int(sample_tables["legacy_ide_chat"]["total_chats"].sum()) == chats


def test_mixed_archive_fills_both_tables(tmp_path):
    (tmp_path / "archive.json").write_text(json.dumps(USAGE[:3] + METRICS[:2]))
    tables = load_legacy(tmp_path)
    assert len(tables["legacy_usage_daily"]) == 3
    assert len(tables["legacy_metrics_daily"]) == 2


def test_team_history_with_repeated_day(tmp_path):
    first = {**METRICS[0], "total_engaged_users": 1}
    again = {**METRICS[0], "total_engaged_users": 7}
    history = [
        {
            "team": {"name": "Payments", "slug": "payments", "id": 4},
            "data": [first, METRICS[1], again],
        },
        {"team": {"name": "Web", "slug": "web"}, "data": [METRICS[1]]},
    ]
    (tmp_path / "teams.json").write_text(json.dumps(history))
    daily = load_legacy(tmp_path)["legacy_metrics_daily"]
    payments = daily.loc[daily["team_slug"] == "payments"]
    assert len(payments) == 2
    day = pd.Timestamp(METRICS[0]["date"])
    assert payments.loc[payments["day"] == day, "total_engaged_users"].tolist() == [7]
    assert daily["team_slug"].value_counts().to_dict() == {"payments": 2, "web": 1}
    # The repeated day's child rows are replaced, not added a second time.
    completions = load_legacy(tmp_path)["legacy_code_completions"]
    per_day = completions.loc[(completions["team_slug"] == "payments") & (completions["day"] == day)]
    expected = sum(
        len(model.get("languages", []))
        for editor in (METRICS[0].get("copilot_ide_code_completions") or {}).get("editors", [])
        for model in editor.get("models", [])
    )
    assert len(per_day) == expected


def test_legacy_records_stay_out_of_current_tables():
    tables = add_legacy_tables(load_folder(SAMPLES / "legacy"))
    assert tables.entity_daily.empty
    assert tables.user_daily.empty
    assert len(tables["legacy_usage_daily"]) == len(USAGE)


def test_quiet_day_without_totals(tmp_path):
    (tmp_path / "usage.json").write_text(
        json.dumps(
            [
                {"day": "2025-01-31", "breakdown": None},
                {"day": "2025-02-01", "breakdown": [{"language": "go"}]},
            ]
        )
    )
    tables = load_legacy(tmp_path)
    assert tables["legacy_usage_daily"]["total_suggestions_count"].isna().all()
    assert tables["legacy_usage_breakdown"]["editor"].tolist() == ["unknown"]
