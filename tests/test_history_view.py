"""The History view's series: grains, gaps, distinct users, legacy join and API-change marks."""

from __future__ import annotations

import pandas as pd
import pytest

from copilot_lib import history_view
from copilot_lib.history_view import history_figure, history_series
from copilot_lib.tables import Tables

GEN, ACC, INTER = (
    "code_generation_activity_count",
    "code_acceptance_activity_count",
    "user_initiated_interaction_count",
)


def user_rows(rows: list[tuple[str, int, int, int, int]]) -> pd.DataFrame:
    """User-day rows from (day, user_id, interactions, generations, acceptances)."""
    frame = pd.DataFrame(rows, columns=["day", "user_id", INTER, GEN, ACC])
    frame["day"] = pd.to_datetime(frame["day"]).astype("datetime64[ns]")
    frame["loc_added_sum"] = frame["loc_deleted_sum"] = 0
    frame["scope"] = "organization"
    frame["entity_id"] = "1"
    return frame


def tables_of(users: pd.DataFrame, **legacy: pd.DataFrame) -> Tables:
    return Tables(frames={"user_daily": users, **legacy})


# The ISO week of Monday 2026-01-05 has three user rows and the next week two. No user has
# data from 2026-01-19 to 2026-02-01, so those two weeks are gaps.
USERS = user_rows(
    [
        ("2026-01-05", 1, 2, 10, 4),
        ("2026-01-05", 2, 1, 10, 1),
        ("2026-01-06", 1, 3, 20, 5),
        ("2026-01-12", 3, 1, 4, 1),
        ("2026-01-13", 3, 0, 0, 0),
        ("2026-02-02", 1, 1, 6, 3),
    ]
)


def test_day_grain_has_every_calendar_day_and_gaps() -> None:
    series = history_series(tables_of(USERS), "day")
    assert len(series) == (pd.Timestamp("2026-02-02") - pd.Timestamp("2026-01-05")).days + 1
    first = series.iloc[0]
    assert first[GEN] == 20
    assert first[ACC] == 5
    assert first["active_users"] == 2
    assert first["acceptance_rate"] == pytest.approx(0.25)
    gap = series.loc[series["period"] == pd.Timestamp("2026-01-20")].iloc[0]
    assert pd.isna(gap[GEN])
    assert pd.isna(gap["active_users"])
    assert gap["days_with_data"] == 0


def test_week_grain_sums_counters_and_counts_distinct_users() -> None:
    series = history_series(tables_of(USERS), "week").set_index("period")
    assert list(series.index) == list(pd.date_range("2026-01-05", "2026-02-02", freq="W-MON"))
    week = series.loc["2026-01-05"]
    assert week[GEN] == 40
    assert week[ACC] == 10
    assert week["days_with_data"] == 2
    # User 1 was active on two days of the week and counts once.
    assert week["active_users"] == 2
    assert week["acceptance_rate"] == pytest.approx(10 / 40)
    # User 3 has rows on two days of the week but no interaction on the second.
    assert series.loc["2026-01-12", "active_users"] == 1
    for gap in ("2026-01-19", "2026-01-26"):
        assert pd.isna(series.loc[gap, GEN])
        assert pd.isna(series.loc[gap, "active_users"])


def test_period_without_active_user_counts_zero() -> None:
    users = user_rows([("2026-01-05", 1, 1, 2, 1), ("2026-01-12", 1, 0, 3, 0)])
    series = history_series(tables_of(users), "week").set_index("period")
    assert series.loc["2026-01-12", "active_users"] == 0
    assert series.loc["2026-01-12", GEN] == 3


def test_month_grain_rate_is_ratio_of_sums() -> None:
    series = history_series(tables_of(USERS), "month").set_index("period")
    january = series.loc["2026-01-01"]
    assert january[GEN] == 44
    assert january[ACC] == 11
    assert january["acceptance_rate"] == pytest.approx(11 / 44)
    assert january["active_users"] == 3
    assert series.loc["2026-02-01", "active_users"] == 1


def legacy_usage(rows: list[tuple[str, str, int, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["team_slug", "day", "total_suggestions_count", "total_acceptances_count"])
    frame["day"] = pd.to_datetime(frame["day"]).astype("datetime64[ns]")
    return frame


def legacy_completions(rows: list[tuple[str, str, int, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["team_slug", "day", "total_code_suggestions", "total_code_acceptances"])
    frame["day"] = pd.to_datetime(frame["day"]).astype("datetime64[ns]")
    return frame


def test_legacy_days_join_as_their_own_columns() -> None:
    usage = legacy_usage([("", "2025-12-29", 100, 30), ("payments", "2025-12-29", 50, 10), ("", "2025-12-30", 80, 20)])
    # /copilot/metrics rows for 2025-12-30 replace the /copilot/usage day; two rows are summed.
    completions = legacy_completions([("", "2025-12-30", 60, 15), ("", "2025-12-30", 40, 5)])
    tables = tables_of(USERS, legacy_usage_daily=usage, legacy_code_completions=completions)
    series = history_series(tables, "week").set_index("period")
    legacy_week = series.loc["2025-12-29"]
    assert legacy_week["legacy_suggestions"] == 200
    assert legacy_week["legacy_acceptances"] == 50
    assert legacy_week["legacy_acceptance_rate"] == pytest.approx(0.25)
    # Legacy numbers never flow into the current columns, and current ones never into legacy.
    assert pd.isna(legacy_week[GEN])
    assert legacy_week["days_with_data"] == 0
    assert pd.isna(series.loc["2026-01-05", "legacy_suggestions"])


def test_status_days_count_stored_and_gap_days() -> None:
    days = pd.DataFrame(
        {
            "entity": ["org=a", "org=a", "org=b"],
            "day": pd.to_datetime(["2026-01-05", "2026-01-07", "2026-01-05"]).astype("datetime64[ns]"),
            "status": ["stored", "gap", "stored"],
        }
    )
    series = history_series(tables_of(USERS), "week", days).set_index("period")
    assert series.loc["2026-01-05", "stored_days"] == 1
    assert series.loc["2026-01-05", "gap_days"] == 1
    assert series.loc["2026-01-19", "stored_days"] == 0


def test_empty_tables_give_an_empty_series_and_figure() -> None:
    series = history_series(Tables(), "month")
    assert series.empty
    assert "period" in series
    figure = history_figure(series)
    assert [annotation.text for annotation in figure.layout.annotations] == ["No data in this date range"]


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("2025-01-01", "2026-12-31", 4),
        ("2025-10-10", "2025-12-11", 1),
        ("2026-04-03", "2026-12-31", 0),
    ],
)
def test_api_changes_marked_within_the_series(first: str, last: str, expected: int) -> None:
    changes = history_view.api_changes_in(pd.Timestamp(first), pd.Timestamp(last))
    assert len(changes) == expected
    users = user_rows([(first, 1, 1, 2, 1), (last, 1, 1, 2, 1)])
    figure = history_figure(history_series(tables_of(users), "month"), "month")
    lines = [shape for shape in figure.layout.shapes if shape.type == "line"]
    # Month periods run from the first day of the first month to the last of the last month.
    start = pd.Timestamp(first).to_period("M").start_time
    end = pd.Timestamp(last).to_period("M").end_time
    in_range = [change for change in history_view.API_CHANGES if start <= pd.Timestamp(change.day) <= end]
    assert len(lines) == len(in_range) >= expected
    assert {annotation.text for annotation in figure.layout.annotations} == {change.label for change in in_range}
    assert {shape.x0 for shape in lines} == {change.day.isoformat() for change in in_range}


def test_period_end() -> None:
    start = pd.Timestamp("2026-02-02")
    assert history_view.period_end(start, "day") == start
    assert history_view.period_end(start, "week") == pd.Timestamp("2026-02-08")
    assert history_view.period_end(pd.Timestamp("2026-02-01"), "month") == pd.Timestamp("2026-02-28")
