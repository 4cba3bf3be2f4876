"""Headline numbers on small hand-made cases, checked against GitHub's definitions."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import pytest

from copilot_lib.metrics import acceptance_rate, daily_series, kpis
from copilot_lib.tables import load_folder


def _user(day: str, user_id: int, interactions: int, generations: int = 0, acceptances: int = 0) -> dict:
    return {
        "day": day,
        "organization_id": "1",
        "user_id": user_id,
        "user_login": f"user-{user_id}",
        "user_initiated_interaction_count": interactions,
        "code_generation_activity_count": generations,
        "code_acceptance_activity_count": acceptances,
        "loc_added_sum": 0,
        "loc_deleted_sum": 0,
    }


def _org(day: str, generations: int, acceptances: int, **extra) -> dict:
    return {
        "day": day,
        "organization_id": "1",
        "user_initiated_interaction_count": 1,
        "code_generation_activity_count": generations,
        "code_acceptance_activity_count": acceptances,
        **extra,
    }


def _folder(tmp_path: Path, records: list[dict]):
    (tmp_path / "report.ndjson").write_text("\n".join(json.dumps(record) for record in records))
    return load_folder(tmp_path)


def test_acceptance_rate_is_ratio_of_sums(tmp_path):
    # Day one: 1 of 100 accepted (1 %); day two: 1 of 1 (100 %). Mean of daily rates: 50.5 %.
    tables = _folder(tmp_path, [_org("2026-11-01", 100, 1), _org("2026-11-02", 1, 1)])
    result = kpis(tables)
    assert result.acceptance_rate == pytest.approx(2 / 101)


def test_acceptance_rate_from_user_rows_is_ratio_of_sums(tmp_path):
    tables = _folder(tmp_path, [_user("2026-11-01", 1, 1, 100, 1), _user("2026-11-02", 2, 1, 1, 1)])
    assert kpis(tables).acceptance_rate == pytest.approx(2 / 101)


def test_acceptance_rate_is_none_without_generations(tmp_path):
    tables = _folder(tmp_path, [_org("2026-11-01", 0, 0)])
    assert kpis(tables).acceptance_rate is None
    assert acceptance_rate(0, 0) is None
    assert acceptance_rate(3, None) is None


def test_distinct_users_not_summed_across_days(tmp_path):
    records = [
        _user("2026-11-01", 1, 3),
        _user("2026-11-01", 2, 1),
        _user("2026-11-02", 1, 2),
        _user("2026-11-03", 1, 5),
        _user("2026-11-03", 3, 0),  # present but not active
    ]
    tables = _folder(tmp_path, records)
    result = kpis(tables)
    assert result.unique_active_users == 2  # daily counts would sum to 4
    assert result.daily_active_users == 1
    assert result.weekly_active_users == 2


def test_kpis_prefer_githubs_entity_totals(tmp_path):
    records = [
        _org("2026-11-02", 50, 10, daily_active_users=40, weekly_active_users=55, monthly_active_users=70),
        _user("2026-11-02", 1, 3, 5, 1),
    ]
    result = kpis(_folder(tmp_path, records))
    assert result.source == "entity"
    assert result.daily_active_users == 40
    assert result.monthly_active_users == 70
    assert result.code_generations == 50
    assert result.unique_active_users == 1


def test_missing_days_stay_missing(tmp_path):
    tables = _folder(tmp_path, [_org("2026-11-01", 10, 5), _org("2026-11-04", 10, 5)])
    series = daily_series(tables)
    assert [str(day.date()) for day in series["day"]] == ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"]
    assert series["code_generation_activity_count"].isna().tolist() == [False, True, True, False]
    assert math.isnan(float(series["acceptance_rate"].astype(float).iloc[1]))
    result = kpis(tables)
    assert result.days_covered == 2
    assert result.days_missing == 2


def test_last_day_missing_gives_no_daily_users(tmp_path):
    tables = _folder(tmp_path, [_org("2026-11-01", 10, 5, daily_active_users=3)])
    result = kpis(tables, date(2026, 11, 1), date(2026, 11, 3))
    assert result.daily_active_users is None
    assert result.days_missing == 2


def test_window_limits_the_sums(tmp_path):
    tables = _folder(tmp_path, [_org("2026-11-01", 10, 5), _org("2026-11-02", 30, 3), _org("2026-11-03", 50, 2)])
    result = kpis(tables, date(2026, 11, 2), date(2026, 11, 3))
    assert result.code_generations == 80
    assert result.code_acceptances == 5
    assert result.acceptance_rate == pytest.approx(5 / 80)
