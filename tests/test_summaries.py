"""Frames behind the views: periods, users, pseudonyms, data health."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from copilot_lib import metrics, summaries
from copilot_lib.tables import Tables, load_folder

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "cmv-samples" / "reports"


@pytest.fixture(scope="module")
def samples() -> Tables:
    return load_folder(SAMPLES)


def test_previous_window_has_equal_length() -> None:
    assert summaries.previous_window(date(2026, 4, 19), date(2026, 4, 25)) == (
        date(2026, 4, 12),
        date(2026, 4, 18),
    )
    assert summaries.previous_window(date(2026, 4, 25), date(2026, 4, 25)) == (
        date(2026, 4, 24),
        date(2026, 4, 24),
    )


def test_relative_change_without_base_is_none() -> None:
    assert summaries.relative_change(5, 4) == pytest.approx(0.25)
    assert summaries.relative_change(5, 0) is None
    assert summaries.relative_change(None, 4) is None


def test_week_grain_keeps_rate_a_ratio_of_sums(samples: Tables) -> None:
    daily = metrics.daily_series(samples)
    weekly = summaries.resample_activity(daily, "week")

    week = weekly.loc[weekly["day"] == pd.Timestamp("2026-04-13")].iloc[0]
    days = daily.loc[(daily["day"] >= "2026-04-13") & (daily["day"] <= "2026-04-19")]
    generations = days[metrics.GENERATIONS].sum()
    acceptances = days[metrics.ACCEPTANCES].sum()
    assert week[metrics.GENERATIONS] == generations
    assert week["acceptance_rate"] == pytest.approx(acceptances / generations)
    assert weekly["day"].dt.day_of_week.eq(0).all()


def test_month_grain_takes_last_monthly_users(samples: Tables) -> None:
    series = metrics.active_users_series(samples)
    monthly = summaries.resample_active_users(series, "month")

    assert monthly["day"].tolist() == [pd.Timestamp("2026-03-01"), pd.Timestamp("2026-04-01")]
    assert monthly["monthly_active_users"].tolist() == [5, 6]


def test_user_table_sums_per_user(samples: Tables) -> None:
    table = summaries.user_table(samples, None, None)
    rows = samples.user_daily

    assert len(table) == rows["user_id"].nunique()
    assert table[metrics.INTERACTIONS].sum() == rows[metrics.INTERACTIONS].sum()
    assert table[metrics.INTERACTIONS].is_monotonic_decreasing
    octocat = table.loc[table["user_login"] == "octocat"].iloc[0]
    octocat_rows = rows.loc[rows["user_login"] == "octocat"]
    assert octocat[metrics.GENERATIONS] == octocat_rows[metrics.GENERATIONS].sum()
    active_days = (octocat_rows[metrics.INTERACTIONS] > 0).sum()
    assert octocat["active_days"] == active_days
    assert octocat["top_ide"] == "vscode"


def test_pseudonymised_table_has_no_login(samples: Tables) -> None:
    logins = set(samples.user_daily["user_login"].dropna())

    table = summaries.user_table(samples, None, None, pseudonymise=True)

    text = table.to_csv(index=False)
    for login in logins:
        assert login not in text
    assert set(table["user_login"]) == {summaries.alias(login) for login in logins}


def test_alias_is_stable_and_distinct() -> None:
    assert summaries.alias("octocat") == summaries.alias("octocat")
    assert summaries.alias("octocat") != summaries.alias("hubot")
    assert summaries.alias("octocat").startswith("user-")


def test_user_table_empty_range(samples: Tables) -> None:
    table = summaries.user_table(samples, date(2020, 1, 1), date(2020, 1, 2))

    assert table.empty
    assert "user_login" in table


def test_health_reports_missing_and_settling_days(samples: Tables) -> None:
    kept = samples.entity_daily["day"] != pd.Timestamp("2026-04-10")
    tables = Tables(frames=dict(samples.frames, entity_daily=samples.entity_daily.loc[kept]))

    health = summaries.health_table(tables, date(2026, 4, 1), date(2026, 4, 25), date(2026, 4, 26))

    rows = health.set_index("check")
    assert rows.loc["Days without data", "value"] == 1
    assert rows.loc["Days without data", "detail"] == "2026-04-10"
    assert rows.loc["Days still settling", "value"] == 1
    assert rows.loc["Days still settling", "detail"] == "2026-04-25"


def test_health_unknown_share_is_a_share_of_generations(samples: Tables) -> None:
    frame = samples["entity_by_language_feature"]
    unknown = frame.loc[frame["language"] == "unknown", metrics.GENERATIONS].sum()
    expected = unknown / frame[metrics.GENERATIONS].sum()

    share = summaries.unknown_share(frame, "language")

    assert share == pytest.approx(expected)


def test_drop_weekends_and_unknown() -> None:
    frame = pd.DataFrame(
        {
            "day": pd.to_datetime(["2026-04-17", "2026-04-18", "2026-04-19", "2026-04-20"]),
            "language": ["python", "unknown", "go", "unknown"],
        }
    )

    assert summaries.drop_weekends(frame)["day"].dt.day_name().tolist() == ["Friday", "Monday"]
    assert summaries.drop_unknown(frame, "language")["language"].tolist() == ["python", "go"]
