"""Edge states: every tab draws or explains itself, never raises, on thin or odd data."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from copilot_lib import app

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "cmv-samples" / "reports"


def draw_every_tab(dashboard: app.Dashboard) -> None:
    for index in range(len(dashboard.views)):
        dashboard.tab_widget.selected_index = index
    for control in (dashboard.grain,):
        for value in ("week", "month", "day"):
            control.value = value
    dashboard.weekdays_only.value = True
    dashboard.hide_unknown.value = True
    dashboard.pseudonymise.value = True


def dashboard_for(folder: Path) -> app.Dashboard:
    dashboard = app.Dashboard(app.load_source({"COPILOT_DATA_DIR": str(folder)}), today=date(2026, 5, 1))
    assert dashboard.source.error is None
    return dashboard


def copy_samples(tmp_path: Path, *names: str) -> Path:
    for name in names:
        shutil.copy(SAMPLES / name, tmp_path / name)
    return tmp_path


def test_users_report_only(tmp_path: Path) -> None:
    dashboard = dashboard_for(copy_samples(tmp_path, "organization-users-28-day-report.json"))

    draw_every_tab(dashboard)

    assert "n/a" not in dashboard.views[0].kpis.value.split('data-kpi="interactions"')[1][:120]


def test_organisation_report_only(tmp_path: Path) -> None:
    dashboard = dashboard_for(copy_samples(tmp_path, "organization-28-day-report.json"))

    draw_every_tab(dashboard)

    users = dashboard.views[[view.title for view in dashboard.views].index("Users")]
    assert "No user-level reports" in users.message.value
    assert "copilot-missing" in users.message.value


def test_single_day(tmp_path: Path) -> None:
    dashboard = dashboard_for(copy_samples(tmp_path, "organization-1-day-report.json"))

    assert dashboard.first == dashboard.last
    draw_every_tab(dashboard)
    dashboard.select_last(7)


def test_all_zero_day(tmp_path: Path) -> None:
    record = {
        "day": "2026-04-01",
        "organization_id": "1",
        "daily_active_users": 0,
        "weekly_active_users": 0,
        "monthly_active_users": 0,
        "user_initiated_interaction_count": 0,
        "code_generation_activity_count": 0,
        "code_acceptance_activity_count": 0,
        "loc_added_sum": 0,
        "loc_deleted_sum": 0,
        "totals_by_feature": [],
        "totals_by_ide": [],
        "totals_by_language_feature": [],
    }
    (tmp_path / "day.ndjson").write_text(json.dumps(record) + "\n")

    dashboard = dashboard_for(tmp_path)
    draw_every_tab(dashboard)

    kpis = dashboard.views[0].kpis.value
    assert 'data-kpi="acceptance_rate"' in kpis
    assert "no code generations in range" in kpis


def test_range_without_data(tmp_path: Path) -> None:
    dashboard = dashboard_for(copy_samples(tmp_path, "organization-28-day-report.json"))

    dashboard.set_range(date(2020, 1, 1), date(2020, 1, 7))
    draw_every_tab(dashboard)

    assert "No data between 2020-01-01 and 2020-01-07" in dashboard.views[0].message.value
    for view in dashboard.views:
        if view.title != "Data health":  # it lists the range's days, all missing
            assert "copilot-missing" in view.message.value, view.title


@pytest.mark.parametrize("content", ["", "\n\n"])
def test_folder_of_empty_files(tmp_path: Path, content: str) -> None:
    (tmp_path / "empty.ndjson").write_text(content)

    dashboard = app.Dashboard(app.load_source({"COPILOT_DATA_DIR": str(tmp_path)}))

    panel = dashboard.widget.children[-1]
    assert "copilot-error" in panel._dom_classes
