"""Chart builders on demo data, on the sample reports and on edge cases."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from copilot_lib import app, charts, metrics, seat_charts, tabs
from copilot_lib.tables import Tables, load_folder
from copilot_lib.views import Filters

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "cmv-samples" / "reports"


@pytest.fixture(scope="module")
def samples() -> Tables:
    return load_folder(SAMPLES)


@pytest.fixture(scope="module")
def demo() -> Tables:
    return app.demo_tables(users=20, days=30)


def test_active_users_figure_has_three_named_lines(samples: Tables) -> None:
    figure = charts.active_users_figure(metrics.active_users_series(samples))

    assert [trace.name for trace in figure.data] == [
        "Daily active users",
        "Weekly active users (7 days)",
        "Monthly active users (28 days)",
    ]
    assert len({trace.line.dash for trace in figure.data}) == 3
    assert len({trace.marker.symbol for trace in figure.data}) == 3
    assert all(trace.connectgaps is False for trace in figure.data)
    assert list(figure.data[2].y[-3:]) == [6.0, 6.0, 6.0]


def test_active_users_figure_draws_missing_days_as_gaps(samples: Tables) -> None:
    kept = samples.entity_daily["day"] != pd.Timestamp("2026-04-10")
    frames = dict(samples.frames, entity_daily=samples.entity_daily.loc[kept])
    tables = Tables(frames=frames)

    figure = charts.active_users_figure(metrics.active_users_series(tables))

    days = list(pd.to_datetime(figure.data[0].x))
    gap = days.index(pd.Timestamp("2026-04-10"))
    assert np.isnan(figure.data[0].y[gap])
    assert not np.isnan(figure.data[0].y[gap - 1])


def test_active_users_from_user_rows_only(samples: Tables) -> None:
    frames = dict(samples.frames, entity_daily=samples.entity_daily.iloc[0:0])
    series = metrics.active_users_series(Tables(frames=frames), date(2026, 4, 13), date(2026, 4, 13))

    assert series["daily_active_users"].tolist() == [4]
    assert series["weekly_active_users"].tolist() == [7]
    assert series["monthly_active_users"].tolist() == [8]


def test_activity_figure_rate_on_second_axis(samples: Tables) -> None:
    series = metrics.daily_series(samples)
    figure = charts.activity_figure(series)

    bars, rate = figure.data[:2], figure.data[2]
    assert [trace.type for trace in bars] == ["bar", "bar"]
    assert bars[0].marker.pattern.shape != bars[1].marker.pattern.shape
    assert rate.yaxis == "y2"
    assert figure.layout.yaxis2.overlaying == "y"
    # 2026-03-29 has no generations, so it has no rate: a gap, not zero.
    assert np.isnan(rate.y[0])
    last = samples.entity_daily.iloc[-1]
    expected = 100 * last["code_acceptance_activity_count"] / last["code_generation_activity_count"]
    assert rate.y[-1] == pytest.approx(expected)


def test_breakdown_figure_orders_and_limits(samples: Tables) -> None:
    totals = metrics.breakdown_totals(samples["entity_by_language_feature"], "language")
    figure = charts.breakdown_figure(totals, "language", "Activity by language", top=5)

    assert len(figure.data) == 3
    assert len(figure.data[0].y) == 5
    assert figure.layout.title.text == f"Activity by language (top 5 of {len(totals)})"
    # Largest activity is drawn at the top, which is the last category of a horizontal bar.
    assert figure.data[1].y[-1] == "typescript"


def test_breakdown_figure_by_ide_keeps_every_ide(samples: Tables) -> None:
    totals = metrics.breakdown_totals(samples["entity_by_ide"], "ide")
    figure = charts.breakdown_figure(totals, "ide", "Activity by IDE")

    assert set(figure.data[0].y) == {"vscode", "jetbrains", "neovim", "visualstudio"}
    assert figure.layout.title.text == "Activity by IDE"


VIEWS = {view.title: view for view in tabs.build_views()}
# The sentences a chart writes across an empty plot; other annotations label lines.
EMPTY_MESSAGES = {charts.NO_DATA, seat_charts.NO_SEATS_MATCH, seat_charts.NO_IDLE_SEATS, seat_charts.NO_SEAT_ACTIVITY}
SPECS = {
    spec.name: (view, spec) for view in VIEWS.values() if isinstance(view, tabs.ResultView) for spec in view.chart_specs
}


def build(tables: Tables, name: str, since: date, until: date, **controls: Any) -> go.Figure:
    selection = tabs.Selection(filters=Filters(since=since, until=until, **controls), today=until)
    view, spec = SPECS[name]
    result = view.compute(tables, selection)
    assert result.ok, result.missing
    return spec.figure(spec.frame(result), selection)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_chart_draws_demo_data(demo: Tables, name: str) -> None:
    first, last = metrics.data_range(demo)
    assert first is not None and last is not None

    figure = build(demo, name, first, last)

    assert len(figure.data) >= 1
    assert {note.text for note in figure.layout.annotations}.isdisjoint(EMPTY_MESSAGES)
    assert figure.layout.title.text


@pytest.mark.parametrize("name", ["active-users", "activity", "by-feature", "by-ide", "by-language", "by-model"])
def test_charts_draw_samples(samples: Tables, name: str) -> None:
    figure = build(samples, name, date(2026, 3, 29), date(2026, 4, 25))

    assert figure.layout.annotations == ()


def test_empty_frames_say_no_data() -> None:
    empty = pd.DataFrame()
    figures = [
        charts.lines_figure(empty, "period", [("active_users", "Users")], "Users", "Users"),
        charts.grouped_lines_figure(empty, "period", "slug", "active_users", "Teams", "Users"),
        charts.breakdown_figure(empty, "ide", "Activity by IDE"),
    ]

    for figure in figures:
        assert [note.text for note in figure.layout.annotations] == [charts.NO_DATA]


def test_grouped_lines_draw_one_line_per_group() -> None:
    frame = pd.DataFrame(
        {
            "period": pd.to_datetime(["2026-04-06", "2026-04-06", "2026-04-13"]),
            "slug": ["web", "data", "web"],
            "active_users": [3.0, 5.0, 4.0],
        }
    )

    figure = charts.grouped_lines_figure(frame, "period", "slug", "active_users", "Teams", "Users")

    assert [trace.name for trace in figure.data] == ["web", "data"]
    # The data team has no row in the second week: a gap, not a zero.
    assert np.isnan(figure.data[1].y[1])


@pytest.mark.parametrize("grain", ["week", "month"])
def test_grain_sums_counters_per_period(samples: Tables, grain: str) -> None:
    daily = build(samples, "activity", date(2026, 3, 29), date(2026, 4, 25))
    coarse = build(samples, "activity", date(2026, 3, 29), date(2026, 4, 25), grain=grain)

    assert len(coarse.data[0].x) < len(daily.data[0].x)
    assert np.nansum(coarse.data[0].y) == np.nansum(daily.data[0].y)


def test_exclude_weekends_drops_weekends(samples: Tables) -> None:
    figure = build(samples, "activity", date(2026, 4, 13), date(2026, 4, 26), exclude_weekends=True)

    days = pd.to_datetime(pd.Series(figure.data[0].x))
    assert len(days) == 10
    assert (days.dt.day_of_week < 5).all()


def test_hide_unknown_removes_unknown_language(demo: Tables) -> None:
    first, last = metrics.data_range(demo)
    assert first is not None and last is not None

    shown = build(demo, "by-language", first, last)
    hidden = build(demo, "by-language", first, last, hide_unknown=True)

    assert "unknown" in shown.data[1].y
    assert "unknown" not in hidden.data[1].y


def test_palette_is_okabe_ito() -> None:
    assert charts.PALETTE[:3] == ("#0072B2", "#E69F00", "#009E73")
    assert len(set(charts.PATTERNS)) == len(charts.PATTERNS)


def test_single_day_axis_spans_days() -> None:
    day = pd.Timestamp("2026-11-15")
    series = pd.DataFrame({"period": [day], "active_users": [4.0]})

    figure = charts.lines_figure(series, "period", (("active_users", "Active users"),), "Active users", "Users")

    low, high = (pd.Timestamp(value) for value in figure.layout.xaxis.range)
    assert low == day - pd.Timedelta(days=1)
    assert high == day + pd.Timedelta(days=1)
    assert figure.layout.xaxis.tickformat == "%Y-%m-%d"


def test_numeric_axis_keeps_its_range() -> None:
    frame = pd.DataFrame({"feature": ["chat"], "user_initiated_interaction_count": [3.0]})

    figure = charts.breakdown_figure(frame, "feature", "By feature")

    assert figure.layout.xaxis.range is None
