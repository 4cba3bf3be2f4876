"""The dashboard widget tree, built without a browser."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest

from copilot_lib import app, cards, metrics
from copilot_lib.components import PLOTLY_MIME

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "cmv-samples" / "reports"


@pytest.fixture(scope="module")
def samples_dashboard() -> app.Dashboard:
    return app.Dashboard(app.load_source({"COPILOT_DATA_DIR": str(SAMPLES)}))


def overview(dashboard: app.Dashboard) -> app.OverviewView:
    view = dashboard.views[0]
    assert isinstance(view, app.OverviewView)
    return view


def kpi_value(dashboard: app.Dashboard, key: str) -> str:
    html = overview(dashboard).kpis.value
    start = html.index(f'data-kpi="{key}"')
    value_start = html.index('class="copilot-kpi-value">', start) + len(
        'class="copilot-kpi-value">'
    )
    return html[value_start : html.index("</p>", value_start)]


def test_demo_source_when_no_data_dir() -> None:
    source = app.load_source({})

    assert source.demo
    assert source.error is None
    assert source.tables is not None
    first, last = metrics.data_range(source.tables)
    assert first is not None and last is not None
    assert (last - first).days + 1 == app.DEMO_DAYS


def test_demo_banner_is_visible() -> None:
    dashboard = app.Dashboard(app.load_source({}))

    assert "copilot-banner" in dashboard.banner._dom_classes
    assert "Demo data." in dashboard.banner.value
    assert dashboard.banner in dashboard.widget.children


def test_samples_have_no_demo_banner(samples_dashboard: app.Dashboard) -> None:
    assert not samples_dashboard.source.demo
    assert "copilot-banner" not in samples_dashboard.banner._dom_classes
    assert str(SAMPLES) in samples_dashboard.banner.value


def test_samples_kpis_cover_whole_range(samples_dashboard: app.Dashboard) -> None:
    assert samples_dashboard.since.value == date(2026, 3, 29)
    assert samples_dashboard.until.value == date(2026, 4, 25)
    assert kpi_value(samples_dashboard, "interactions") == "2,489"
    assert kpi_value(samples_dashboard, "monthly_active_users") == "6"
    assert kpi_value(samples_dashboard, "acceptance_rate") == "74.1%"


def test_charts_are_plotly_bundles(samples_dashboard: app.Dashboard) -> None:
    charts = samples_dashboard.charts()

    assert set(charts) == {"active-users", "activity", "by-feature", "by-ide", "by-language"}
    for index in range(len(samples_dashboard.views)):
        samples_dashboard.tab_widget.selected_index = index
    samples_dashboard.tab_widget.selected_index = 0
    for name, chart in charts.items():
        assert f"copilot-chart-{name}" in chart.output._dom_classes
        assert chart.figure is not None
        (output,) = chart.output.outputs
        spec = output["data"][PLOTLY_MIME]
        assert len(spec["data"]) == len(chart.figure.data)
        assert spec["layout"]["title"]["text"] == chart.figure.layout.title.text
        json.dumps(output, allow_nan=False)


def test_range_change_updates_kpis_and_charts() -> None:
    dashboard = app.Dashboard(app.load_source({"COPILOT_DATA_DIR": str(SAMPLES)}))
    chart = dashboard.charts()["active-users"]
    days_before = len(chart.output.outputs[0]["data"][PLOTLY_MIME]["data"][0]["x"])

    dashboard.since.value = date(2026, 4, 19)

    assert kpi_value(dashboard, "interactions") != "2,489"
    days_after = len(chart.output.outputs[0]["data"][PLOTLY_MIME]["data"][0]["x"])
    assert days_after == 7 < days_before
    assert "2026-04-19 to 2026-04-25" in overview(dashboard).kpis.value


def test_preset_selects_last_days() -> None:
    dashboard = app.Dashboard(app.load_source({"COPILOT_DATA_DIR": str(SAMPLES)}))

    dashboard.select_last(7)
    assert dashboard.since.value == date(2026, 4, 19)
    assert dashboard.until.value == date(2026, 4, 25)

    dashboard.select_last(0)
    assert dashboard.since.value == date(2026, 3, 29)


def test_reversed_range_shows_message() -> None:
    dashboard = app.Dashboard(app.load_source({"COPILOT_DATA_DIR": str(SAMPLES)}))
    kpis_before = overview(dashboard).kpis.value

    dashboard.since.value = dashboard.until.value + timedelta(days=1)

    assert "after the end date" in dashboard.status.value
    assert overview(dashboard).kpis.value == kpis_before


def test_no_generations_shows_rate_as_not_available() -> None:
    dashboard = app.Dashboard(app.load_source({"COPILOT_DATA_DIR": str(SAMPLES)}))

    # 2026-03-29 has interactions but no code generations.
    dashboard.set_range(date(2026, 3, 29), date(2026, 3, 29))

    assert kpi_value(dashboard, "acceptance_rate") == "n/a"
    assert "no code generations in range" in overview(dashboard).kpis.value


def test_missing_folder_shows_message_panel(tmp_path: Path) -> None:
    missing = tmp_path / "absent"

    dashboard = app.Dashboard(app.load_source({"COPILOT_DATA_DIR": str(missing)}))

    panel = dashboard.widget.children[-1]
    assert "copilot-error" in panel._dom_classes
    assert "does not exist" in panel.value
    assert "Traceback" not in panel.value
    assert dashboard.views == []


def test_malformed_file_shows_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "broken.ndjson").write_text(
        '{"day": "2026-01-01", "organization_id": "1"}\n{not json\n'
    )

    source = app.load_source({"COPILOT_DATA_DIR": str(tmp_path)})

    assert source.tables is None
    assert source.error is not None
    assert "broken.ndjson:2" in source.error


def test_kpi_cards_show_missing_as_na() -> None:
    values = metrics.Kpis(
        since=date(2026, 1, 1),
        until=date(2026, 1, 2),
        source="users",
        scope=None,
        days_covered=2,
        days_missing=0,
        daily_active_users=None,
        weekly_active_users=None,
        monthly_active_users=None,
        unique_active_users=3,
        server_side_only_users=None,
        acceptance_rate=None,
        interactions=1234567,
        code_generations=None,
        code_acceptances=None,
        loc_added=None,
        loc_deleted=None,
    )

    html = cards.render_kpis(values)

    assert html.count('class="copilot-kpi"') == 8
    assert "1,234,567" in html
    assert html.count(">n/a<") == 6


def join_loader() -> None:
    for thread in threading.enumerate():
        if thread.name == "copilot-load":
            thread.join(timeout=60)


def test_show_fills_shell_in_background() -> None:
    shell = app.show({"COPILOT_DATA_DIR": str(SAMPLES)})
    join_loader()

    assert "copilot-dashboard" in shell._dom_classes
    assert any("copilot-tabs" in child._dom_classes for child in shell.children)
    assert not any("copilot-loading" in child._dom_classes for child in shell.children)


def test_show_failure_becomes_message_panel(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(app, "Dashboard", broken)

    shell = app.show({"COPILOT_DATA_DIR": str(SAMPLES)})
    join_loader()

    (panel,) = shell.children
    assert "copilot-error" in panel._dom_classes
    assert "boom" not in panel.value
    assert "Traceback" not in panel.value


def test_show_in_foreground_returns_dashboard() -> None:
    widget = app.show({"COPILOT_DATA_DIR": str(SAMPLES)}, background=False)

    assert any("copilot-tabs" in child._dom_classes for child in widget.children)
