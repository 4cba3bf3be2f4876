"""The dashboard widget tree, built without a browser."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from copilot_lib import app, cards, metrics, tabs
from copilot_lib.components import PLOTLY_MIME
from copilot_lib.views import Kpi

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "cmv-samples" / "reports"


@pytest.fixture(scope="module")
def samples_dashboard() -> app.Dashboard:
    return app.Dashboard(app.load_source({"COPILOT_DATA_DIR": str(SAMPLES)}))


def overview(dashboard: app.Dashboard) -> tabs.OverviewView:
    view = dashboard.views[0]
    assert isinstance(view, tabs.OverviewView)
    return view


def kpi_value(dashboard: app.Dashboard, key: str) -> str:
    html = overview(dashboard).kpis.value
    start = html.index(f'data-kpi="{key}"')
    value_start = html.index('class="copilot-kpi-value">', start) + len('class="copilot-kpi-value">')
    return html[value_start : html.index("</p>", value_start)]


def test_demo_source_when_no_data_dir() -> None:
    source = app.load_source({})

    assert source.demo
    assert source.error is None
    assert source.tables is not None
    first, last = metrics.data_range(source.tables)
    assert first is not None and last is not None
    assert (last - first).days + 1 == app.DEMO_DAYS


@pytest.mark.parametrize(("users", "days"), [(20, 10), (app.DEMO_FILE_USERS + 500, 14)])
def test_demo_size_from_environment(users: int, days: int) -> None:
    source = app.load_source({"COPILOT_DEMO_USERS": str(users), "COPILOT_DEMO_DAYS": str(days)})

    assert source.error is None
    assert source.tables is not None
    assert f"{users:,} generated users over {days} days" in source.label
    first, last = metrics.data_range(source.tables)
    assert first is not None and last is not None
    assert (last - first).days + 1 == days
    logins = source.tables.user_daily["user_login"].nunique()
    assert 0 < logins <= users


def test_large_demo_counts_active_users_alike() -> None:
    """The entity reports' weekly active users equal the distinct active users of a week."""
    source = app.load_source({"COPILOT_DEMO_USERS": str(app.DEMO_FILE_USERS + 1), "COPILOT_DEMO_DAYS": "7"})
    dashboard = app.Dashboard(source)

    assert kpi_value(dashboard, "weekly_active_users") == kpi_value(dashboard, "active_users")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("COPILOT_DEMO_USERS", "ten"),
        ("COPILOT_DEMO_USERS", "0"),
        ("COPILOT_DEMO_USERS", "+7"),
        ("COPILOT_DEMO_USERS", "1_000"),
        ("COPILOT_DEMO_DAYS", "100000"),
    ],
)
def test_bad_demo_size_names_the_setting(name: str, value: str) -> None:
    source = app.load_source({name: value})

    assert source.tables is None
    assert source.error is not None
    assert f"{name}={value!r}" in source.error
    assert name in source.fix


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

    assert {"active-users", "activity", "by-feature", "by-ide", "by-language", "by-model"} <= set(charts)
    assert {"pull-requests", "team-totals", "team-active-users"} <= set(charts)
    for index in range(len(samples_dashboard.views)):
        samples_dashboard.tab_widget.selected_index = index
    samples_dashboard.tab_widget.selected_index = 0
    drawn = {name: chart for name, chart in charts.items() if chart.figure is not None}
    # The sample reports have no user-teams report and no seats file, so the Teams and Seats
    # tabs show a sentence instead.
    assert set(charts) - set(drawn) == {
        "team-totals",
        "team-active-users",
        "team-interactions",
        "seat-states",
        "seat-activity-age",
        "idle-cost",
    }
    assert {"days", "unknown-shares", "attribution"} <= set(drawn)
    for name, chart in drawn.items():
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
    (tmp_path / "broken.ndjson").write_text('{"day": "2026-01-01", "organization_id": "1"}\n{not json\n')

    source = app.load_source({"COPILOT_DATA_DIR": str(tmp_path)})

    assert source.tables is None
    assert source.error is not None
    assert "broken.ndjson:2" in source.error


def test_kpi_cards_show_missing_as_na() -> None:
    kpis = [
        Kpi("interactions", "Interactions", 1234567.0, None),
        Kpi("active_users", "Distinct active users in range", None, 3.0),
        Kpi("acceptance_rate", "Acceptance rate", None, None, unit="ratio"),
        Kpi("loc_added", "Lines added", 110.0, 100.0),
        Kpi("agent_adoption", "Agent adoption", 0.5, 0.25, unit="ratio"),
    ]

    html = cards.render_kpis(kpis, date(2026, 1, 1), date(2026, 1, 2))

    assert html.count('class="copilot-kpi"') == 5
    assert "1,234,567" in html
    assert html.count(">n/a<") == 2
    assert "no code generations in range" in html
    assert "▲ +10% vs previous period" in html
    assert "▲ +25.0 points vs previous period" in html


def test_scope_and_team_controls_filter_views() -> None:
    dashboard = app.Dashboard(app.load_source({}))
    labels = [label for label, _value in dashboard.scope.options]
    assert labels[0].startswith("All")
    assert any(label.startswith("Organisation ") for label in labels)
    assert len(dashboard.teams.options) >= 2
    everyone = kpi_value(dashboard, "interactions")

    dashboard.teams.value = tuple(dashboard.teams.options[:1])

    assert kpi_value(dashboard, "interactions") != everyone
    teams_index = [view.title for view in dashboard.views].index("Teams")
    dashboard.tab_widget.selected_index = teams_index
    series = dashboard.views[teams_index].result.series
    assert set(series["slug"]) == {dashboard.teams.options[0]}


def test_pseudonymise_redraws_every_tab() -> None:
    source = app.load_source({})
    assert source.tables is not None
    logins = set(source.tables.user_daily["user_login"].astype(str))
    dashboard = app.Dashboard(source)

    dashboard.pseudonymise.value = True

    for view in dashboard.views:
        assert isinstance(view, tabs.ResultView)
        text = " ".join(str(child.value) for child in walk(view.widget) if hasattr(child, "value"))
        assert not [login for login in logins if login in text], view.title
    users = dashboard.views[[view.title for view in dashboard.views].index("Users")]
    assert isinstance(users, tabs.ResultView)
    assert "user_id" not in users.tables["users"].frame


def walk(widget: object) -> list[object]:
    found = [widget]
    for child in getattr(widget, "children", ()):
        found.extend(walk(child))
    return found


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


def test_ides_tab_flags_old_clients() -> None:
    dashboard = app.Dashboard(app.load_source({}))
    titles = [view.title for view in dashboard.views]
    dashboard.tab_widget.selected_index = titles.index("IDEs")
    view = dashboard.views[titles.index("IDEs")]
    assert isinstance(view, tabs.IdesView)

    versions = view.tables["ide-versions"].frame
    old = versions.loc[versions["lines_reported"] == "none"]

    assert not old.empty
    assert set(old["lines_of_code"]) == {"too old: reports no lines"}
    assert set(view.old_clients.frame["ide"]) <= set(old["ide"])


def test_models_tab_is_labelled_chat_and_agent() -> None:
    dashboard = app.Dashboard(app.load_source({}))
    titles = [view.title for view in dashboard.views]

    dashboard.tab_widget.selected_index = titles.index("Models (chat and agent)")

    view = dashboard.views[titles.index("Models (chat and agent)")]
    assert isinstance(view, tabs.ResultView)
    assert "Chat and agent activity only" in view.message.value
    assert view.panels["by-model"].chart.figure is not None


def test_tab_titles_match_their_views():
    for title, build in tabs.TABS:
        assert build().title == title


def test_tabs_are_built_when_first_selected():
    dashboard = app.Dashboard(app.load_source({"COPILOT_DATA_DIR": str(SAMPLES)}))
    built = [index for index, slot in enumerate(dashboard.tab_widget.children) if slot.children]
    assert built == [0]
    dashboard.tab_widget.selected_index = 3
    assert dashboard.tab_widget.children[3].children
    assert dashboard._built[3].result is not None


def test_history_tab_after_release(tmp_path: Path) -> None:
    from history_fixtures import TODAY, FakeSource

    from copilot_lib import history_view
    from copilot_lib.archive import archive
    from copilot_lib.history import Entity, History
    from copilot_lib.history_tables import load_store
    from copilot_lib.store import LocalStore

    archive(FakeSource(days=20), History(LocalStore(tmp_path)), Entity("org", "acme"), today=TODAY)
    dashboard = app.Dashboard(app.store_source(str(tmp_path)))
    assert "user_daily" in dashboard.tables.released
    index = [view.title for view in dashboard.views].index("History")
    history = dashboard.views[index]
    assert isinstance(history, history_view.HistoryView)
    dashboard.tab_widget.selected_index = index

    full = load_store(str(tmp_path))
    for grain in metrics.GRAINS:
        dashboard.grain.value = grain
        expected = history_view.history_series(full, grain, dashboard.source.days)
        assert len(expected) > 0, grain
        pd.testing.assert_frame_equal(history.table.frame, expected, obj=grain)
