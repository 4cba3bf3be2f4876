"""Seat chart data and figures on demo data and on the shared sample seat listing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from model_builders import SAMPLES

from copilot_lib import demo, seat_charts, tabs
from copilot_lib.tables import Tables, load_folder
from copilot_lib.views import Filters, seats_view
from copilot_lib.views.seats import activity_age_bins, days_since_activity

END = date(2026, 11, 30)
SAMPLE_SEATS = SAMPLES / "seats" / "organization_seats_response_sample.json"
SAMPLE_LAST_DAY = date(2026, 4, 25)


@pytest.fixture(scope="module")
def demo_data() -> demo.DemoData:
    return demo.generate(users=40, days=60, seed=5, end=END)


@pytest.fixture(scope="module")
def demo_tables(tmp_path_factory: pytest.TempPathFactory, demo_data: demo.DemoData) -> Tables:
    folder = tmp_path_factory.mktemp("demo-seats")
    demo.write(folder, demo_data)
    return load_folder(folder)


@pytest.fixture(scope="module")
def sample_tables() -> Tables:
    if not SAMPLES.is_dir():
        pytest.skip(f"shared samples not found at {SAMPLES}")
    return load_folder(SAMPLES)


@pytest.fixture(scope="module")
def sample_seats() -> list[dict[str, Any]]:
    return list(json.loads(SAMPLE_SEATS.read_text())["seats"])


def days_since(seat: dict[str, Any], as_of: date) -> int | None:
    """Whole days from a raw seat's last activity to ``as_of``, 0 for activity after it."""
    if not seat["last_activity_at"]:
        return None
    moment = datetime.fromisoformat(seat["last_activity_at"].replace("Z", "+00:00")).astimezone(UTC)
    return max((as_of - moment.date()).days, 0)


def expected_states(seats: list[dict[str, Any]], as_of: date, threshold: int) -> list[int]:
    ages = [days_since(seat, as_of) for seat in seats]
    active = sum(1 for age in ages if age is not None and age < threshold)
    never = sum(1 for age in ages if age is None)
    pending = sum(1 for seat in seats if seat["pending_cancellation_date"])
    return [active, len(seats) - active - never, never, pending]


def state_counts(tables: Tables, filters: Filters) -> list[int]:
    return seats_view(tables, filters).states["seats"].tolist()


def test_states_on_demo_match_seat_file(demo_tables: Tables, demo_data: demo.DemoData) -> None:
    seats = demo_data.seats["seats"]

    for threshold in (1, 7, 30):
        counts = state_counts(demo_tables, Filters(seat_threshold_days=threshold))
        assert counts == expected_states(seats, END, threshold), threshold


def test_states_on_samples_match_seat_file(sample_tables: Tables, sample_seats: list[dict[str, Any]]) -> None:
    counts = state_counts(sample_tables, Filters())

    assert counts == expected_states(sample_seats, SAMPLE_LAST_DAY, 30)
    assert counts[2] == sum(1 for seat in sample_seats if seat["last_activity_at"] is None)
    assert sum(counts[:3]) == len(sample_seats)


def test_states_agree_with_summary_cards(demo_tables: Tables) -> None:
    result = seats_view(demo_tables, Filters(seat_threshold_days=5))
    active, idle_used, never, pending = result.states["seats"].tolist()

    assert active == result.active
    assert idle_used + never == result.idle
    assert never == result.never_used
    assert pending == result.pending_cancellation
    assert result.states["state"].iloc[0] == "Active within 5 days"


def test_states_follow_search(demo_tables: Tables, demo_data: demo.DemoData) -> None:
    editor = next(seat["last_activity_editor"] for seat in demo_data.seats["seats"] if seat["last_activity_editor"])
    name = editor.split("/")[0]
    matching = [seat for seat in demo_data.seats["seats"] if name in (seat["last_activity_editor"] or "")]

    counts = state_counts(demo_tables, Filters(search=name.upper()))

    assert counts == expected_states(matching, END, 30)
    assert counts[2] == 0


def test_days_since_activity_counts_utc_days() -> None:
    moments = pd.Series(["2026-04-25T23:59:00Z", "2026-04-24T00:01:00Z", None, "2026-05-01T12:00:00Z"])

    days = days_since_activity(moments, pd.Timestamp("2026-04-25"))

    assert days.tolist() == [0, 1, pd.NA, 0]


def test_activity_age_bins_on_demo(demo_tables: Tables, demo_data: demo.DemoData) -> None:
    threshold = 10
    bins = seats_view(demo_tables, Filters(seat_threshold_days=threshold)).activity_age
    ages = [age for seat in demo_data.seats["seats"] if (age := days_since(seat, END)) is not None]

    assert bins["seats"].sum() == len(ages)
    for row in bins.itertuples():
        inside = sum(1 for age in ages if row.from_days <= age < row.to_days)
        assert row.seats == inside, (row.from_days, row.to_days)
        assert row.to_days <= threshold or row.from_days >= threshold
        assert row.active == (row.to_days <= threshold)
    assert (bins["from_days"].iloc[1:].to_numpy() == bins["to_days"].iloc[:-1].to_numpy()).all()


def test_activity_age_bins_widen_for_old_seats() -> None:
    ages = pd.Series([0, 3, 100, 400], dtype="Int64")
    table = pd.DataFrame({"days_since_activity": ages})

    bins = activity_age_bins(table, threshold_days=30)

    widths = set((bins["to_days"] - bins["from_days"]).tolist())
    assert widths == {14, 2, 12}  # 14-day bins, with the one holding day 30 cut at 30
    assert bins["seats"].sum() == 4
    assert bins.loc[bins["from_days"] == 28, "to_days"].item() == 30


def test_activity_age_bins_without_used_seats() -> None:
    table = pd.DataFrame({"days_since_activity": pd.Series([pd.NA, pd.NA], dtype="Int64")})

    bins = activity_age_bins(table, threshold_days=30)

    assert bins.empty
    assert list(bins.columns) == ["from_days", "to_days", "seats", "active"]


def test_idle_cost_on_demo(demo_tables: Tables, demo_data: demo.DemoData) -> None:
    seats = demo_data.seats["seats"]
    idle = [seat for seat in seats if (age := days_since(seat, END)) is None or age >= 7]

    cost = seats_view(demo_tables, Filters(seat_threshold_days=7)).idle_cost
    priced = seats_view(demo_tables, Filters(seat_threshold_days=7, price_per_seat=10.0)).idle_cost

    assert cost["idle_seats"].sum() == len(idle)
    assert cost["idle_monthly_cost"].sum() == pytest.approx(19.0 * len(idle))  # every demo seat is Business
    assert priced["idle_monthly_cost"].sum() == pytest.approx(10.0 * len(idle))
    never = cost.loc[cost["editor"] == "never used", "idle_seats"].sum()
    assert never == sum(1 for seat in seats if seat["last_activity_at"] is None)


def test_idle_cost_on_samples(sample_tables: Tables, sample_seats: list[dict[str, Any]]) -> None:
    never = [seat for seat in sample_seats if seat["last_activity_at"] is None]

    cost = seats_view(sample_tables, Filters()).idle_cost

    assert cost[["editor", "plan_type", "idle_seats"]].values.tolist() == [
        ["never used", never[0]["plan_type"], len(never)]
    ]
    assert cost["idle_monthly_cost"].item() == pytest.approx(39.0 * len(never))


def test_seat_states_figure_labels_every_bar(demo_tables: Tables) -> None:
    states = seats_view(demo_tables, Filters()).states

    figure = seat_charts.seat_states_figure(states, search="vs")

    bar = figure.data[0]
    assert list(bar.y) == states["state"].tolist()[::-1]
    assert list(bar.x) == states["seats"].astype(float).tolist()[::-1]
    assert list(bar.text) == [f"{count:,}" for count in states["seats"].tolist()[::-1]]
    assert "matching “vs”" in figure.layout.title.text
    assert figure.layout.annotations == ()


def test_seat_states_figure_without_matches() -> None:
    states = pd.DataFrame({"state": ["Active within 30 days", "Idle but used"], "seats": [0, 0]})

    figure = seat_charts.seat_states_figure(states, search="nobody")

    assert figure.layout.annotations[0].text == seat_charts.NO_SEATS_MATCH


def test_activity_age_figure_draws_threshold_line(demo_tables: Tables) -> None:
    bins = seats_view(demo_tables, Filters(seat_threshold_days=3)).activity_age

    figure = seat_charts.activity_age_figure(bins, threshold_days=3)

    active, idle = figure.data
    assert sum(active.y) == bins.loc[bins["active"], "seats"].sum()
    assert sum(idle.y) == bins.loc[~bins["active"], "seats"].sum()
    assert active.marker.pattern.shape != idle.marker.pattern.shape
    assert active.name == "Active: under 3 days"
    assert [shape.x0 for shape in figure.layout.shapes] == [3]
    assert [note.text for note in figure.layout.annotations] == ["Threshold: 3 days"]
    assert figure.layout.xaxis.range[1] >= bins["to_days"].max()


def test_activity_age_figure_shows_distant_threshold() -> None:
    bins = pd.DataFrame({"from_days": [0], "to_days": [1], "seats": [2], "active": [True]})

    figure = seat_charts.activity_age_figure(bins, threshold_days=90)

    assert figure.layout.xaxis.range[1] > 90
    assert [note.text for note in figure.layout.annotations] == ["Threshold: 90 days"]


def test_activity_age_figure_without_activity() -> None:
    bins = pd.DataFrame({"from_days": [0], "to_days": [1], "seats": [0], "active": [True]})

    unused = seat_charts.activity_age_figure(bins.iloc[0:0], threshold_days=30)
    unmatched = seat_charts.activity_age_figure(bins, threshold_days=30, search="nobody")

    assert [note.text for note in unused.layout.annotations] == [seat_charts.NO_SEAT_ACTIVITY, "Threshold: 30 days"]
    assert [note.text for note in unmatched.layout.annotations] == [seat_charts.NO_SEATS_MATCH, "Threshold: 30 days"]


def test_idle_cost_figure_stacks_plan_types() -> None:
    idle_cost = pd.DataFrame(
        {
            "editor": ["vscode", "never used", "vscode"],
            "plan_type": ["enterprise", "business", "business"],
            "idle_seats": [2, 3, 1],
            "idle_monthly_cost": [78.0, 57.0, 19.0],
        }
    )

    figure = seat_charts.idle_cost_figure(idle_cost)

    assert [trace.name for trace in figure.data] == ["Plan: enterprise", "Plan: business"]
    assert list(figure.data[0].y) == ["never used", "vscode"]  # the costliest editor on top
    assert list(figure.data[1].text) == ["$57 (3 seats)", "$19 (1 seat)"]
    assert figure.layout.barmode == "stack"


def test_idle_cost_figure_without_idle_seats() -> None:
    empty = pd.DataFrame(columns=["editor", "plan_type", "idle_seats", "idle_monthly_cost"])

    figure = seat_charts.idle_cost_figure(empty)

    assert figure.data == ()
    assert figure.layout.annotations[0].text == seat_charts.NO_IDLE_SEATS


def chart_of(view: tabs.SeatsView, name: str) -> Any:
    return view.panels[name].chart.figure


def test_seats_tab_charts_follow_controls(demo_tables: Tables) -> None:
    view = tabs.SeatsView()
    view.refresh(demo_tables, tabs.Selection(filters=Filters(), today=END + timedelta(days=5)))
    assert [shape.x0 for shape in chart_of(view, "seat-activity-age").layout.shapes] == [30]
    everyone = sum(chart_of(view, "seat-states").data[0].x[1:])

    view.threshold.value = 2
    view.search.value = "zzz-no-such-seat"

    assert [shape.x0 for shape in chart_of(view, "seat-activity-age").layout.shapes] == [2]
    assert everyone > 0
    assert sum(chart_of(view, "seat-states").data[0].x) == 0
    assert view.panels["seat-states"].table.frame["seats"].sum() == 0
    assert "zzz-no-such-seat" in chart_of(view, "idle-cost").layout.title.text


def test_seats_tab_single_day_range(demo_tables: Tables) -> None:
    view = tabs.SeatsView()

    view.refresh(demo_tables, tabs.Selection(filters=Filters(since=END, until=END), today=END))

    assert view.message.value.find("copilot-missing") == -1
    assert view.panels["seat-states"].table.frame["seats"].iloc[:3].sum() > 0
