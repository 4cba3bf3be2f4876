"""The real-format report samples parse, with totals checked against plain-JSON sums."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from copilot_lib.metrics import kpis
from copilot_lib.reports import read_report_file
from copilot_lib.tables import load_folder

SHARED = Path(os.environ.get("COPILOT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
REPORTS = SHARED / "cmv-samples" / "reports"

pytestmark = pytest.mark.skipif(not REPORTS.is_dir(), reason=f"sample reports not found at {REPORTS}")


def _day_totals(name: str) -> list[dict]:
    return json.loads((REPORTS / name).read_text())["day_totals"]


@pytest.mark.parametrize("path", sorted(REPORTS.glob("*.json")) if REPORTS.is_dir() else [], ids=lambda p: p.name)
def test_every_sample_file_parses(path):
    records = list(read_report_file(path))
    assert records, f"{path.name} produced no records"


def test_entity_rows_cover_the_28_days():
    tables = load_folder(REPORTS)
    expected_days = {record["day"] for record in _day_totals("organization-28-day-report.json")}
    expected_days |= {record["day"] for record in _day_totals("organization-1-day-report.json")}
    assert len(tables.entity_daily) == len(expected_days)


def test_entity_totals_match_plain_sums():
    tables = load_folder(REPORTS)
    by_day = {record["day"]: record for record in _day_totals("organization-28-day-report.json")}
    # The 1-day report was created at the same moment, so it wins its day.
    for record in _day_totals("organization-1-day-report.json"):
        by_day[record["day"]] = record
    for field in ("code_generation_activity_count", "code_acceptance_activity_count", "loc_added_sum"):
        expected = sum(record.get(field, 0) for record in by_day.values())
        assert int(tables.entity_daily[field].sum()) == expected, field


def test_user_rows_match_plain_counts():
    tables = load_folder(REPORTS)
    keys = {(row["day"], row["user_id"]) for row in _day_totals("organization-users-28-day-report.json")}
    keys |= {(row["day"], row["user_id"]) for row in _day_totals("organization-users-1-day-report.json")}
    assert len(tables.user_daily) == len(keys)
    active = {
        row["user_id"]
        for row in _day_totals("organization-users-28-day-report.json")
        if row["user_initiated_interaction_count"] > 0
    }
    active |= {
        row["user_id"]
        for row in _day_totals("organization-users-1-day-report.json")
        if row["user_initiated_interaction_count"] > 0
    }
    assert kpis(tables).unique_active_users == len(active)


def test_feature_breakdown_rows_match():
    tables = load_folder(REPORTS)
    by_day = {record["day"]: record for record in _day_totals("organization-28-day-report.json")}
    for record in _day_totals("organization-1-day-report.json"):
        by_day[record["day"]] = record
    expected = sum(len(record.get("totals_by_feature", [])) for record in by_day.values())
    assert len(tables["entity_by_feature"]) == expected


def test_sample_acceptance_rate_is_ratio_of_sums():
    tables = load_folder(REPORTS)
    by_day = {record["day"]: record for record in _day_totals("organization-28-day-report.json")}
    for record in _day_totals("organization-1-day-report.json"):
        by_day[record["day"]] = record
    accepted = sum(record["code_acceptance_activity_count"] for record in by_day.values())
    generated = sum(record["code_generation_activity_count"] for record in by_day.values())
    assert kpis(tables).acceptance_rate == pytest.approx(accepted / generated)
