"""Data health: day status with a fixed "today", unknown shares, attribution and duplicates."""

from __future__ import annotations

from datetime import date

import pytest
from model_builders import counters, entity, load_records, write_ndjson

from copilot_lib import health
from copilot_lib.tables import load_folder


def test_day_status_present_missing_settling(tmp_path):
    days = ["2026-11-01", "2026-11-03", "2026-11-06", "2026-11-07"]
    tables = load_records(tmp_path, [entity(day, 1, 1, 1) for day in days])
    status = health.day_status(tables, today=date(2026, 11, 9))
    assert dict(zip(status["day"].dt.day, status["status"], strict=True)) == {
        1: "present",
        2: "missing",
        3: "present",
        4: "missing",
        5: "missing",
        6: "settling",
        7: "settling",
    }


def test_settling_boundary():
    assert health.is_settling(date(2026, 11, 6), date(2026, 11, 9))
    assert not health.is_settling(date(2026, 11, 5), date(2026, 11, 9))
    assert health.newest_final_day(date(2026, 11, 9)) == date(2026, 11, 5)


def test_unknown_share_per_dimension(tmp_path):
    record = entity(
        "2026-11-01",
        0,
        10,
        2,
        totals_by_language_feature=[
            {"language": "python", "feature": "code_completion", **counters(0, 6, 1)},
            {"language": "", "feature": "code_completion", **counters(0, 3, 1)},
            {"feature": "code_completion", **counters(0, 1, 0)},
        ],
    )
    tables = load_records(tmp_path, [record])
    assert health.unknown_shares(tables)["language"] == pytest.approx(0.4)
    assert health.unknown_shares(tables)["ide"] is None


def test_attribution_share_of_breakdowns(tmp_path):
    record = entity(
        "2026-11-01",
        0,
        10,
        2,
        totals_by_ide=[{"ide": "vscode", **counters(0, 7, 2)}],
        totals_by_feature=[{"feature": "code_completion", **counters(0, 10, 2)}],
    )
    shares = health.attribution_shares(load_records(tmp_path, [record]))
    assert shares["by_ide"] == pytest.approx(0.7)
    assert shares["by_feature"] == pytest.approx(1.0)


def test_report_counts_duplicates(tmp_path):
    write_ndjson(tmp_path / "a.ndjson", [entity("2026-11-01", 1, 1, 1)])
    write_ndjson(tmp_path / "b.ndjson", [entity("2026-11-01", 2, 2, 2)])
    report = health.health_report(load_folder(tmp_path), today=date(2026, 12, 1))
    assert report["duplicates_dropped"]["entity_daily"] == 1
    assert (report["days_present"], report["days_missing"], report["days_settling"]) == (1, 0, 0)


def test_report_counts_skipped_records(tmp_path):
    tables = load_records(tmp_path, [entity("not-a-day", 1, 1, 1), entity("2026-11-01", 1, 1, 1)])
    assert health.health_report(tables, today=date(2026, 12, 1))["records_skipped"] == 1


def test_attribution_share_missing_without_breakdown_rows(tmp_path):
    record = entity("2026-11-01", 0, 10, 2, totals_by_ide=[{"ide": "vscode", **counters(0, 10, 2)}])

    shares = health.attribution_shares(load_records(tmp_path, [record]))

    assert shares["by_ide"] == pytest.approx(1.0)
    assert shares["by_feature"] is None
