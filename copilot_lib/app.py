"""The dashboard as ipywidgets: data source, date-range controls, KPI cards and charts.

The notebook served by Voilà only calls :func:`show`; everything else lives here so it
can be tested without a browser. Widgets carry CSS classes (``copilot-*``) that tests and
themes select on.

Each chart is an ``Output`` widget whose outputs are replaced by a complete Plotly mime
bundle (see :class:`Chart`). Nothing calls ``display()`` inside an ``Output`` context while
the notebook runs, because that left Voilà 0.5 pages stuck at "Executing" on some loads.
"""

from __future__ import annotations

import html
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go

from copilot_lib import charts, config, demo, metrics
from copilot_lib.errors import CopilotDashboardError
from copilot_lib.tables import Tables, load_folder

logger = logging.getLogger(__name__)

DEMO_USERS = 60
DEMO_DAYS = 90
PRESETS = (("Last 7 days", 7), ("Last 28 days", 28), ("Whole range", 0))

STYLESHEET = Path(__file__).with_name("assets") / "dashboard.css"


@dataclass
class Source:
    """The tables the dashboard shows and where they came from.

    ``tables`` is None when loading failed, and ``error`` then explains the failure to the viewer.
    """

    tables: Tables | None
    label: str
    demo: bool = False
    error: str | None = None


def demo_tables(users: int = DEMO_USERS, days: int = DEMO_DAYS) -> Tables:
    """Generate demo report files in a temporary folder and build their tables."""
    data = demo.generate(users=users, days=days)
    with tempfile.TemporaryDirectory(prefix="copilot-demo-") as folder:
        demo.write(folder, data)
        return load_folder(folder)


def load_source(environ: Mapping[str, str] | None = None) -> Source:
    """Load the tables to show: the ``COPILOT_DATA_DIR`` folder when set, else demo data.

    Failures become a :class:`Source` with an error message instead of an exception, so the
    page shows a readable panel rather than a traceback.
    """
    env = os.environ if environ is None else environ
    folder = config.setting(None, config.ENV_DATA_DIR, environ=env)
    # TODO: read the history store (COPILOT_STORE) and live GitHub data when credentials
    # are configured; both belong here, before the demo-data fallback.
    try:
        if folder:
            path = os.path.expanduser(folder)
            return Source(tables=load_folder(path), label=f"Report files in {path}")
        return Source(
            tables=demo_tables(),
            label=f"Demo data: {DEMO_USERS} generated users over {DEMO_DAYS} days. "
            f"Set {config.ENV_DATA_DIR} to a folder of report files to see your own.",
            demo=True,
        )
    except CopilotDashboardError as exc:
        logger.warning("loading the dashboard data failed: %s", exc)
        return Source(tables=None, label=folder or "demo data", error=str(exc))
    except Exception as exc:  # the viewer sees a message panel, never a traceback
        logger.exception("loading the dashboard data failed unexpectedly")
        return Source(
            tables=None, label=folder or "demo data", error=f"{type(exc).__name__}: {exc}"
        )


def _number(value: int | float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def kpi_cards(values: metrics.Kpis) -> list[tuple[str, str, str, str]]:
    """Return (key, label, value text, note) for each KPI card, numbers formatted as text."""
    last_day = values.until.isoformat() if values.until else "the last day"
    rate_note = (
        "acceptances / generations"
        if values.acceptance_rate is not None
        else "no code generations in range"
    )
    return [
        (
            "daily_active_users",
            "Daily active users",
            _number(values.daily_active_users),
            f"on {last_day}",
        ),
        (
            "weekly_active_users",
            "Weekly active users",
            _number(values.weekly_active_users),
            f"7 days to {last_day}",
        ),
        (
            "monthly_active_users",
            "Monthly active users",
            _number(values.monthly_active_users),
            f"28 days to {last_day}",
        ),
        (
            "unique_active_users",
            "Distinct active users",
            _number(values.unique_active_users),
            "in the range",
        ),
        ("acceptance_rate", "Acceptance rate", _percent(values.acceptance_rate), rate_note),
        ("interactions", "Interactions", _number(values.interactions), "in the range"),
        ("loc_added", "Lines added", _number(values.loc_added), "in the range"),
        ("loc_deleted", "Lines deleted", _number(values.loc_deleted), "in the range"),
    ]


def render_kpis(values: metrics.Kpis) -> str:
    """Render the KPI cards as HTML text (not images), one labelled group per card."""
    cards = []
    for key, label, text, note in kpi_cards(values):
        cards.append(
            f'<div class="copilot-kpi" role="group" aria-label="{html.escape(label)}"'
            f' data-kpi="{key}">'
            f'<p class="copilot-kpi-label">{html.escape(label)}</p>'
            f'<p class="copilot-kpi-value">{html.escape(text)}</p>'
            f'<p class="copilot-kpi-note">{html.escape(note)}</p></div>'
        )
    missing = (
        f" {values.days_missing} days without data are drawn as gaps."
        if values.days_missing
        else ""
    )
    summary = (
        f"<p>{values.since} to {values.until}: {values.days_covered} days with data.{missing}</p>"
    )
    return f'<div class="copilot-kpi-grid">{"".join(cards)}</div>{summary}'


FigureBuilder = Callable[[Tables, date, date], go.Figure]


def _active_users(tables: Tables, since: date, until: date) -> go.Figure:
    return charts.active_users_figure(metrics.active_users_series(tables, since, until))


def _activity(tables: Tables, since: date, until: date) -> go.Figure:
    return charts.activity_figure(metrics.daily_series(tables, since, until))


def _breakdown(table: str, dimension: str, title: str) -> FigureBuilder:
    def build(tables: Tables, since: date, until: date) -> go.Figure:
        totals = metrics.breakdown_totals(tables[table], dimension, since, until)
        return charts.breakdown_figure(totals, dimension, title)

    return build


def chart_builders(tables: Tables) -> dict[str, FigureBuilder]:
    """Return the builder of each chart, by name, reading entity or user breakdowns."""
    prefix = "entity" if tables.has_entity_records() else "user"
    return {
        "active-users": _active_users,
        "activity": _activity,
        "by-feature": _breakdown(f"{prefix}_by_feature", "feature", "Activity by feature"),
        "by-ide": _breakdown(f"{prefix}_by_ide", "ide", "Activity by IDE"),
        "by-language": _breakdown(
            f"{prefix}_by_language_feature", "language", "Activity by language"
        ),
    }


PLOTLY_MIME = "application/vnd.plotly.v1+json"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


class Chart:
    """A Plotly figure on the page, drawn by JupyterLab's Plotly renderer in an Output widget.

    The figure travels as a Plotly mime bundle assigned to ``Output.outputs``. A
    ``go.FigureWidget`` would also work, but each one carries plotly.js (about 5 MB) in its
    widget state, which slowed the first page load by seconds per chart.
    """

    def __init__(self, name: str, figure: go.Figure):
        self.name = name
        self.output = widgets.Output(layout=widgets.Layout(width="100%"))
        self.output.add_class("copilot-chart")
        self.output.add_class(f"copilot-chart-{name}")
        self.figure = figure
        self.show(figure)

    def show(self, figure: go.Figure) -> None:
        """Replace the drawn figure with ``figure``."""
        self.figure = figure
        spec = json.loads(figure.to_json())
        spec["config"] = PLOTLY_CONFIG
        bundle = {PLOTLY_MIME: spec, "text/plain": f"<{figure.layout.title.text} chart>"}
        self.output.outputs = ({"output_type": "display_data", "data": bundle, "metadata": {}},)


class Dashboard:
    """The widget tree of the dashboard for one data source."""

    def __init__(self, source: Source):
        self.source = source
        style = f"<style>{STYLESHEET.read_text(encoding='utf-8')}</style>"
        self.header = widgets.HTML(style + "<h1>GitHub Copilot usage</h1>")
        self.banner = widgets.HTML(self._banner_text(), layout=widgets.Layout(width="100%"))
        self.banner.add_class("copilot-banner" if source.demo else "copilot-source")
        self.figures: dict[str, Chart] = {}

        if source.tables is None:
            self.widget = self._error_view(source.error or "no data")
            return
        self.tables = source.tables
        self.builders = chart_builders(self.tables)
        first, last = metrics.data_range(self.tables)
        if first is None or last is None:
            self.widget = self._error_view("the data source holds no day records")
            return
        self.first, self.last = first, last

        self._build_controls()
        self.kpis = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.kpis.add_class("copilot-kpis")
        self._build_figures()
        self.kpis.value = render_kpis(metrics.kpis(self.tables, self.first, self.last))

        self.widget = widgets.VBox(
            [
                self.header,
                self.banner,
                self.controls,
                self.status,
                self.kpis,
                *(chart.output for chart in self.figures.values()),
            ],
            layout=widgets.Layout(width="100%"),
        )
        self.widget.add_class("copilot-dashboard")

    def _banner_text(self) -> str:
        prefix = "<strong>Demo data.</strong> " if self.source.demo else ""
        label = (
            html.escape(self.source.label.removeprefix("Demo data: "))
            if self.source.demo
            else html.escape(self.source.label)
        )
        return f'<p role="note">{prefix}{label}</p>'

    def _error_view(self, message: str) -> widgets.VBox:
        panel = widgets.HTML(
            f'<div role="alert"><h2>The dashboard could not load its data</h2>'
            f"<p>{html.escape(message)}</p>"
            f"<p>Check {config.ENV_DATA_DIR} (now {html.escape(self.source.label)}) "
            "and reload the page.</p></div>"
        )
        panel.add_class("copilot-error")
        view = widgets.VBox([self.header, panel])
        view.add_class("copilot-dashboard")
        return view

    def _build_controls(self) -> None:
        style = {"description_width": "initial"}
        self.since = widgets.DatePicker(description="From", value=self.first, style=style)
        self.until = widgets.DatePicker(description="To", value=self.last, style=style)
        self.since.add_class("copilot-since")
        self.until.add_class("copilot-until")
        buttons = []
        for label, days in PRESETS:
            button = widgets.Button(description=label, tooltip=f"Show {label.lower()} of the data")
            button.add_class("copilot-preset")
            button.on_click(lambda _button, days=days: self.select_last(days))
            buttons.append(button)
        self.status = widgets.HTML()
        self.status.add_class("copilot-status")
        self._updating = False
        self.since.observe(self._on_range, names="value")
        self.until.observe(self._on_range, names="value")
        self.controls = widgets.HBox(
            [self.since, self.until, *buttons], layout=widgets.Layout(flex_flow="row wrap")
        )
        self.controls.add_class("copilot-controls")

    def _build_figures(self) -> None:
        for name, build in self.builders.items():
            self.figures[name] = Chart(name, build(self.tables, self.first, self.last))

    def select_last(self, days: int) -> None:
        """Set the range to the last ``days`` days of the data (0: the whole range)."""
        since = self.first if days <= 0 else max(self.first, self.last - timedelta(days=days - 1))
        self.set_range(since, self.last)

    def set_range(self, since: date, until: date) -> None:
        """Set both ends of the range and redraw once."""
        self._updating = True
        try:
            self.since.value = since
            self.until.value = until
        finally:
            self._updating = False
        self.refresh()

    def _on_range(self, _change: Mapping[str, Any]) -> None:
        if not self._updating:
            self.refresh()

    def refresh(self) -> None:
        """Recompute the KPIs and every chart for the selected range."""
        since, until = self.since.value, self.until.value
        if since is None or until is None:
            self.status.value = '<p role="status">Choose both a start and an end date.</p>'
            return
        if since > until:
            message = f"The start date {since} is after the end date {until}: swap them."
            self.status.value = f'<p role="status">{message}</p>'
            return
        self.status.value = ""
        self.kpis.value = render_kpis(metrics.kpis(self.tables, since, until))
        for name, chart in self.figures.items():
            chart.show(self.builders[name](self.tables, since, until))


def log_to_server() -> None:
    """Send copilot_lib's log records to the kernel process's own stderr.

    In a kernel, ``sys.stderr`` is shown on the page, while ``sys.__stderr__`` is the stream
    the kernel inherited from Voilà, which ends up in the server's log. Viewers therefore
    never see log lines or tracebacks.
    """
    package = logging.getLogger("copilot_lib")
    if any(getattr(handler, "_copilot_server", False) for handler in package.handlers):
        return
    stream = sys.__stderr__ if sys.__stderr__ is not None else sys.stderr
    handler = logging.StreamHandler(stream)
    handler._copilot_server = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    package.addHandler(handler)
    package.setLevel(logging.INFO)
    package.propagate = False


def show(environ: Mapping[str, str] | None = None) -> widgets.Widget:
    """Load the data source and return the dashboard widget for the notebook to display."""
    log_to_server()
    return Dashboard(load_source(environ)).widget
