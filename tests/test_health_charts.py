"""Data health figures on demo data, on the shared samples and on edge cases."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from model_builders import SAMPLES

from copilot_lib import demo, health_charts, metrics, tabs
from copilot_lib.tables import Tables, load_folder
from copilot_lib.views import Filters, health

END = date(2026, 11, 30)
SAMPLE_DAYS = (date(2026, 3, 29), date(2026, 4, 25))
LATER = date(2027, 1, 1)


@pytest.fixture(scope="module")
def demo_tables(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    folder = tmp_path_factory.mktemp("demo-health")
    demo.write(folder, demo.generate(users=30, days=40, seed=3, end=END))
    return load_folder(folder)


@pytest.fixture(scope="module")
def sample_tables() -> Tables:
    if not SAMPLES.is_dir():
        pytest.skip(f"shared samples not found at {SAMPLES}")
    return load_folder(SAMPLES / "reports")


def generations(frame: pd.DataFrame) -> float:
    return float(frame[metrics.GENERATIONS].sum())


def trace_days(figure, name_start: str) -> list[pd.Timestamp]:
    trace = next(trace for trace in figure.data if trace.name.startswith(name_start))
    return [pd.Timestamp(day) for day in trace.x]


def test_day_strip_marks_missing_days(demo_tables: Tables) -> None:
    filters = Filters(since=END - timedelta(days=2), until=END + timedelta(days=3))
    days = health(demo_tables, filters, today=LATER).days

    figure = health_charts.day_status_figure(days)

    missing = [pd.Timestamp(END + timedelta(days=offset)) for offset in (1, 2, 3)]
    assert trace_days(figure, "Missing") == missing
    assert trace_days(figure, "Present") == [pd.Timestamp(END - timedelta(days=offset)) for offset in (2, 1, 0)]
    missing_trace = figure.data[1]
    assert list(missing_trace.y) == [1, 1, 1]  # full bars, never zeros
    assert list(missing_trace.text) == ["missing"] * 3
    assert len({trace.marker.pattern.shape for trace in figure.data}) == 3


def test_day_strip_marks_days_before_data(demo_tables: Tables) -> None:
    first = END - timedelta(days=39)
    filters = Filters(since=first - timedelta(days=2), until=first)

    figure = health_charts.day_status_figure(health(demo_tables, filters, today=LATER).days)

    assert trace_days(figure, "Missing") == [pd.Timestamp(first - timedelta(days=offset)) for offset in (2, 1)]
    assert trace_days(figure, "Present") == [pd.Timestamp(first)]


def test_day_strip_range_without_data(demo_tables: Tables) -> None:
    filters = Filters(since=date(2020, 1, 1), until=date(2020, 1, 3))

    figure = health_charts.day_status_figure(health(demo_tables, filters, today=LATER).days)

    assert trace_days(figure, "Missing") == list(pd.date_range("2020-01-01", "2020-01-03"))
    assert figure.layout.annotations == ()


def test_day_strip_marks_settling_days(demo_tables: Tables) -> None:
    days = health(demo_tables, Filters(), today=END + timedelta(days=1)).days

    figure = health_charts.day_status_figure(days)

    assert trace_days(figure, "Settling") == [pd.Timestamp(END - timedelta(days=offset)) for offset in (2, 1, 0)]
    assert sum(len(trace.x) for trace in figure.data) == 40


def test_day_strip_on_samples(sample_tables: Tables) -> None:
    days = health(sample_tables, Filters(), today=LATER).days

    figure = health_charts.day_status_figure(days)

    first, last = SAMPLE_DAYS
    assert trace_days(figure, "Present") == list(pd.date_range(first, last))
    assert figure.data[1].x == () or len(figure.data[1].x) == 0


def test_day_strip_single_day(demo_tables: Tables) -> None:
    days = health(demo_tables, Filters(since=END, until=END), today=LATER).days

    figure = health_charts.day_status_figure(days)

    assert trace_days(figure, "Present") == [pd.Timestamp(END)]
    assert figure.layout.annotations == ()


def test_unknown_share_figure_on_samples(sample_tables: Tables) -> None:
    language = sample_tables["entity_by_language_feature"]
    expected = generations(language.loc[language["language"] == "unknown"]) / generations(language)
    shares = health(sample_tables, Filters(), today=LATER).unknown_shares

    figure = health_charts.unknown_share_figure(shares)

    bar = figure.data[0]
    by_label = dict(zip(bar.y, bar.x, strict=True))
    assert expected > 0
    assert by_label["language"] == pytest.approx(100 * expected)
    assert by_label["ide"] == 0
    assert dict(zip(bar.y, bar.text, strict=True))["language"] == f"{100 * expected:.1f}%"
    assert figure.layout.xaxis.ticksuffix == "%"


def test_unknown_share_figure_on_demo(demo_tables: Tables) -> None:
    ide = demo_tables["entity_by_ide"]
    expected = generations(ide.loc[ide["ide"] == "unknown"]) / generations(ide)
    shares = health(demo_tables, Filters(), today=LATER).unknown_shares

    figure = health_charts.unknown_share_figure(shares)

    by_label = dict(zip(figure.data[0].y, figure.data[0].x, strict=True))
    assert set(by_label) == set(shares["dimension"])
    assert by_label["ide"] == pytest.approx(100 * expected)


def test_unknown_share_without_activity_is_not_zero() -> None:
    shares = pd.DataFrame({"dimension": ["ide", "model"], "unknown_share": [0.25, None]})

    figure = health_charts.unknown_share_figure(shares)

    bar = figure.data[0]
    assert list(bar.y) == ["model", "ide"]
    assert np.isnan(bar.x[0])
    assert list(bar.text) == ["n/a", "25.0%"]


def test_attribution_figure_on_samples(sample_tables: Tables) -> None:
    total = generations(sample_tables.entity_daily)
    expected_ide = generations(sample_tables["entity_by_ide"]) / total
    expected_feature = generations(sample_tables["entity_by_feature"]) / total
    attribution = health(sample_tables, Filters(), today=LATER).attribution

    figure = health_charts.attribution_figure(attribution)

    by_label = dict(zip(figure.data[0].y, figure.data[0].x, strict=True))
    assert by_label["IDE"] == pytest.approx(100 * expected_ide)
    assert by_label["Feature"] == pytest.approx(100 * expected_feature)
    assert "Model and feature (chat and agent only)" in by_label
    assert [shape.x0 for shape in figure.layout.shapes] == [100]
    assert figure.layout.annotations[0].text == "Totals: 100%"
    # The samples' breakdowns sum to more than the totals, so the axis reaches past them.
    assert figure.layout.xaxis.range[1] > max(by_label.values())


def test_attribution_figure_on_demo(demo_tables: Tables) -> None:
    expected = generations(demo_tables["entity_by_feature"]) / generations(demo_tables.entity_daily)
    attribution = health(demo_tables, Filters(), today=LATER).attribution

    figure = health_charts.attribution_figure(attribution)

    by_label = dict(zip(figure.data[0].y, figure.data[0].x, strict=True))
    assert by_label["Feature"] == pytest.approx(100 * expected)
    assert figure.layout.xaxis.range == (0, 120)


def test_attribution_figure_without_breakdowns() -> None:
    figure = health_charts.attribution_figure(pd.DataFrame())

    assert list(figure.data[0].y) == []
    assert [note.text for note in figure.layout.annotations] == ["No data in this date range", "Totals: 100%"]


def test_health_tab_draws_three_charts(sample_tables: Tables) -> None:
    view = tabs.HealthView()

    view.refresh(sample_tables, tabs.Selection(filters=Filters(), today=LATER))

    assert set(view.panels) == {"days", "unknown-shares", "attribution"}
    assert len(view.panels["days"].table.frame) == 28
    assert list(view.panels["attribution"].table.frame.columns) == ["breakdown", "counter", "attributed_share"]
    assert all(panel.chart.figure is not None for panel in view.panels.values())


def test_health_tab_without_data_says_so() -> None:
    view = tabs.HealthView()

    view.refresh(Tables(), tabs.Selection(filters=Filters(), today=LATER))

    assert "copilot-missing" in view.message.value
    assert view.body.layout.display == "none"
