"""The Seats tab on a seats table with GitHub's seat fields."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from copilot_lib import app, metrics, tabs, views
from copilot_lib.tables import Tables, load_folder
from copilot_lib.views import Filters

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "cmv-samples" / "reports"
TODAY = date(2026, 4, 25)


def seats_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "assignee_login": ["octocat", "hubot", "monalisa", "defunkt"],
            "plan_type": ["business", "enterprise", "business", "enterprise"],
            "assigning_team_slug": ["web", None, "web", "api"],
            "last_activity_at": pd.to_datetime(
                ["2026-04-24T10:00:00Z", "2026-03-30T10:00:00Z", None, "2026-02-01T10:00:00Z"],
                utc=True,
            ),
            "last_activity_editor": [
                "vscode/1.99.0/copilot/1.308.0",
                "jetbrains/2025.1",
                None,
                "vim/9",
            ],
            "pending_cancellation_date": pd.to_datetime([None, None, None, "2026-05-01"]),
        }
    )


@pytest.fixture
def tables_with_seats() -> Tables:
    samples = load_folder(SAMPLES)
    return Tables(frames=dict(samples.frames, seats=seats_frame()))


def test_seats_tab_threshold_changes_idle_count(tables_with_seats: Tables) -> None:
    view = tabs.SeatsView()
    selection = tabs.Selection(filters=Filters(since=date(2026, 3, 29), until=TODAY), today=TODAY)
    view.refresh(tables_with_seats, selection)
    assert 'data-seat="idle"' in view.summary.value
    assert ">2</p>" in view.summary.value.split('data-seat="idle"')[1]

    view.threshold.value = 7

    assert ">3</p>" in view.summary.value.split('data-seat="idle"')[1]


def test_seats_tab_search_filters_rows(tables_with_seats: Tables) -> None:
    view = tabs.SeatsView()
    view.refresh(tables_with_seats, tabs.Selection(filters=Filters(since=TODAY, until=TODAY), today=TODAY))

    view.search.value = "OCTO"

    assert list(view.tables["seats"].frame["user_login"]) == ["octocat"]


def test_seats_tab_without_seats_says_what_is_missing() -> None:
    dashboard = app.Dashboard(app.load_source({"COPILOT_DATA_DIR": str(SAMPLES)}))
    index = [view.title for view in dashboard.views].index("Seats")

    dashboard.tab_widget.selected_index = index

    view = dashboard.views[index]
    assert isinstance(view, tabs.SeatsView)
    assert "No seats file" in view.message.value
    assert view.body.layout.display == "none"


def snapshot_tables() -> Tables:
    """Sample reports with two daily seat snapshots, as a history store keeps them."""
    first = seats_frame().assign(assignee_id=[1, 2, 3, 4], day=pd.Timestamp("2026-04-10"))
    second = seats_frame().iloc[:2].assign(assignee_id=[1, 2], day=pd.Timestamp("2026-04-20"))
    samples = load_folder(SAMPLES)
    return Tables(frames=dict(samples.frames, seats=pd.concat([first, second], ignore_index=True)))


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [(date(2026, 4, 25), 2), (date(2026, 4, 20), 2), (date(2026, 4, 19), 4), (date(2026, 4, 1), 4), (None, 2)],
)
def test_assigned_seats_snapshot_on_day(as_of, expected) -> None:
    assert metrics.assigned_seats(snapshot_tables(), as_of) == expected


def test_seats_view_reads_one_snapshot() -> None:
    tables = snapshot_tables()

    late = views.seats_view(tables, Filters(since=date(2026, 4, 20), until=date(2026, 4, 24)))
    early = views.seats_view(tables, Filters(since=date(2026, 4, 12), until=date(2026, 4, 15)))

    assert late.assigned == 2
    assert early.assigned == 4
    assert len(early.table) == 4


def test_overview_adoption_per_window_snapshot() -> None:
    tables = snapshot_tables()
    result = views.overview(tables, Filters(since=date(2026, 4, 20), until=date(2026, 4, 24)))
    adoption = next(kpi for kpi in result.kpis if kpi.key == "seat_adoption")
    selection_users = metrics.distinct_active_users(tables.user_daily, date(2026, 4, 20), date(2026, 4, 24))
    previous_users = metrics.distinct_active_users(tables.user_daily, date(2026, 4, 15), date(2026, 4, 19))

    assert adoption.value == pytest.approx(selection_users / 2)
    assert adoption.previous == pytest.approx(previous_users / 4)
    assert any("daily seat snapshot" in note for note in result.notes)
