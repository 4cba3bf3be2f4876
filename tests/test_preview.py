"""The static preview of the first tab and the SVG charts it draws, built without a browser."""

from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from copilot_lib import app, charts, preview, svg_chart, tabs
from copilot_lib.views.result import ViewResult

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "cmv-samples" / "reports"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def samples_dashboard() -> app.Dashboard:
    return app.Dashboard(app.load_source({"COPILOT_DATA_DIR": str(SAMPLES)}))


def svg_elements(markup: str) -> list[ET.Element]:
    return [ET.fromstring(match) for match in re.findall(r"<svg.*?</svg>", markup, flags=re.S)]


def trace_paths(svg: ET.Element, kind: str) -> list[str]:
    return [
        path.get("d", "")
        for group in svg.iter(f"{SVG}g")
        if kind in group.get("class", "").split()
        for path in group.iter(f"{SVG}path")
    ]


def test_preview_shows_overview_kpis_and_charts(samples_dashboard: app.Dashboard) -> None:
    markup = preview.preview_html(samples_dashboard)
    assert markup is not None

    view = samples_dashboard.first_view()
    assert isinstance(view, tabs.OverviewView)
    assert view.kpis.value in markup
    assert 'data-kpi="interactions"' in markup
    assert markup.startswith(f'<div id="{preview.ELEMENT_ID}"')
    titles = [svg.find(f"{SVG}title").text for svg in svg_elements(markup)]
    assert titles == ["Chart: Active users", "Chart: Code generations, acceptances and acceptance rate"]
    for svg in svg_elements(markup):
        assert any(len(outline) > 3 for outline in trace_paths(svg, "trace"))
    # Nothing in the preview runs as a script or loads a file.
    assert "<script" not in markup
    assert "src=" not in markup.replace('src="data:', "")


def test_preview_absent_without_first_tab_data(samples_dashboard: app.Dashboard) -> None:
    view = samples_dashboard.first_view()
    assert view is not None
    drawn = view.result
    view.result = ViewResult(missing="No data in this date range")
    try:
        assert preview.preview_html(samples_dashboard) is None
    finally:
        view.result = drawn


def test_preview_absent_for_data_source_error(tmp_path: Path) -> None:
    dashboard = app.Dashboard(app.load_source({"COPILOT_DATA_DIR": str(tmp_path)}))

    assert dashboard.first_view() is None
    assert preview.preview_html(dashboard) is None


def test_show_keeps_error_panel_in_pool_kernel(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    displayed: list[object] = []
    monkeypatch.setattr(preview, "display", lambda *args, **kwargs: displayed.append(args))

    shell = app.show({"COPILOT_DATA_DIR": str(tmp_path), preview.VOILA_PREHEAT: "True"})

    assert displayed == []
    assert any("copilot-error" in child._dom_classes for child in shell.children)


def test_preview_enabled_in_pool_kernel_only() -> None:
    assert preview.enabled({preview.VOILA_PREHEAT: "True"})
    assert not preview.enabled({preview.VOILA_PREHEAT: "False"})
    assert not preview.enabled({})


def test_source_kind_follows_precedence() -> None:
    live = {"GITHUB_ORG": "acme", "GITHUB_TOKEN": "x"}
    assert app.source_kind(live) == "github"
    assert app.source_kind({**live, "COPILOT_DATA_DIR": "/data"}) == "folder"
    assert app.source_kind({**live, "COPILOT_STORE": "s3://bucket/prefix"}) == "store"
    assert app.source_kind({}) == "demo"


def shown_outputs(monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]) -> list[dict[str, Any]]:
    """Run ``app.show(environ)`` and return the outputs it displayed besides its widget."""
    displayed: list[dict[str, Any]] = []
    monkeypatch.setattr(preview, "display", lambda data, **kwargs: displayed.append({"data": data, **kwargs}))
    app.show(environ)
    for thread in threading.enumerate():
        if thread.name == "copilot-load":
            thread.join(timeout=60)
    return displayed


def test_show_displays_preview_in_pool_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    (output,) = shown_outputs(monkeypatch, {"COPILOT_DATA_DIR": str(SAMPLES), preview.VOILA_PREHEAT: "True"})

    assert output["metadata"] == {preview.METADATA_KEY: True}
    assert output["raw"] is True
    assert preview.ELEMENT_ID in output["data"]["text/html"]


@pytest.mark.parametrize("flag", ["False", None])
def test_show_skips_preview_outside_pool_kernel(monkeypatch: pytest.MonkeyPatch, flag: str | None) -> None:
    environ = {"COPILOT_DATA_DIR": str(SAMPLES)}
    if flag is not None:
        environ[preview.VOILA_PREHEAT] = flag
    assert shown_outputs(monkeypatch, environ) == []


def test_svg_line_breaks_at_missing_values() -> None:
    days = pd.date_range("2026-11-01", periods=5, freq="D")
    frame = pd.DataFrame({"period": days, "users": [3.0, 4.0, np.nan, 6.0, 5.0]})
    figure = charts.lines_figure(frame, "period", [("users", "Users")], "Active users", "Users")

    (svg,) = svg_elements(svg_chart.figure_svg(figure, "chart"))

    (outline,) = [d for d in trace_paths(svg, "lines") if d]
    assert outline.count("M") == 2
    assert outline.count("L") == 2
    labels = [text.text for text in svg.iter(f"{SVG}text")]
    assert "Nov 1" in labels
    assert "Users" in labels
    # One trace: no legend, as Plotly draws none.
    assert "Distinct active users" not in labels


def bar_heights(outline: str) -> list[float]:
    """Return the heights of the bars in a path of ``M x,bottom V top H x V bottom Z`` bars."""
    return [float(bottom) - float(top) for bottom, top in re.findall(r"M[\d.]+,([\d.]+)V([\d.]+)H", outline)]


def test_svg_bars_scale_with_values_and_keep_patterns() -> None:
    series = pd.DataFrame(
        {
            "period": pd.date_range("2026-11-01", periods=3, freq="D"),
            "code_generation_activity_count": [100, 200, np.nan],
            "code_acceptance_activity_count": [50, 100, np.nan],
            "acceptance_rate": [0.5, 0.5, np.nan],
        }
    )
    figure = charts.activity_figure(series, x="period")

    markup = svg_chart.figure_svg(figure, "activity")
    (svg,) = svg_elements(markup)

    generations, acceptances = trace_paths(svg, "bars")
    assert len(bar_heights(generations)) == 2  # the missing day draws no bar
    first, second = bar_heights(generations)
    assert second == pytest.approx(2 * first, rel=0.01)
    assert bar_heights(acceptances)[0] == pytest.approx(first / 2, rel=0.01)
    # The acceptance bars keep their hatching, so the series differ by more than colour.
    assert 'fill="url(#activity-pattern-1)"' in markup
    assert svg.find(f".//{SVG}pattern[@id='activity-pattern-1']") is not None
    # The rate uses the right-hand axis from 0% to 100%.
    labels = [text.text for text in svg.iter(f"{SVG}text")]
    assert "100%" in labels
    assert "20%" in labels
    assert "Acceptance rate (%)" in labels


def test_svg_draws_text_x_values_and_escapes_names() -> None:
    figure = go.Figure(go.Bar(x=["vscode", "jetbrains"], y=[3, 1], name="<b>IDE</b>"))
    figure.update_layout(title={"text": "Users & IDEs"}, yaxis={"title": {"text": "Users"}}, showlegend=True)

    markup = svg_chart.figure_svg(figure, "ides")
    (svg,) = svg_elements(markup)

    labels = [text.text for text in svg.iter(f"{SVG}text")]
    assert {"vscode", "jetbrains", "<b>IDE</b>", "Users & IDEs"} <= set(labels)
    assert "<b>" not in markup
    assert len(bar_heights(trace_paths(svg, "bars")[0])) == 2


def test_svg_of_empty_figure_shows_its_message() -> None:
    frame = pd.DataFrame({"period": pd.Series([], dtype="datetime64[ns]"), "users": pd.Series([], dtype=float)})
    figure = charts.lines_figure(frame, "period", [("users", "Users")], "Active users", "Users")
    figure.update_layout(annotations=[{"text": charts.NO_DATA}])

    (svg,) = svg_elements(svg_chart.figure_svg(figure, "empty"))

    assert charts.NO_DATA in [text.text for text in svg.iter(f"{SVG}text")]
