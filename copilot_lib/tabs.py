"""The dashboard's tabs: each builds its widgets once and redraws on :meth:`View.refresh`.

A view receives the current :class:`Selection` (date range and global controls) and draws
only from the tables. A view whose table is absent shows a sentence naming what is missing.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go

from copilot_lib import charts, metrics, summaries
from copilot_lib.components import ChartWithTable, Table
from copilot_lib.tables import Tables


@dataclass(frozen=True)
class Selection:
    """The date range and the controls that apply to every view."""

    since: date
    until: date
    today: date
    grain: str = summaries.GRAIN_DAY
    weekdays_only: bool = False
    hide_unknown: bool = False
    pseudonymise: bool = False
    colors: tuple[str, ...] = field(default=charts.PALETTE)


class View:
    """A tab of the dashboard."""

    title = ""

    def __init__(self) -> None:
        self.widget = widgets.VBox(layout=widgets.Layout(width="100%"))
        self.widget.add_class("copilot-view")

    def refresh(self, tables: Tables, selection: Selection) -> None:
        """Redraw the view for ``selection``."""
        raise NotImplementedError


def _time_frame(frame: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    if selection.weekdays_only:
        frame = summaries.drop_weekends(frame)
    return frame


def active_users_frame(tables: Tables, selection: Selection) -> pd.DataFrame:
    """Return the active-users series for the selection, at its grain."""
    series = _time_frame(
        metrics.active_users_series(tables, selection.since, selection.until), selection
    )
    return summaries.resample_active_users(series, selection.grain)


def activity_frame(tables: Tables, selection: Selection) -> pd.DataFrame:
    """Return the daily generations, acceptances and rate for the selection, at its grain."""
    series = _time_frame(metrics.daily_series(tables, selection.since, selection.until), selection)
    return summaries.resample_activity(series, selection.grain)


def breakdown_frame(
    tables: Tables, table: str, dimension: str, selection: Selection
) -> pd.DataFrame:
    """Return a breakdown's totals per value of ``dimension`` for the selection."""
    rows = _time_frame(tables[table], selection)
    if selection.hide_unknown:
        rows = summaries.drop_unknown(rows, dimension)
    return metrics.breakdown_totals(rows, dimension, selection.since, selection.until)


def breakdown_table_name(tables: Tables, kind: str) -> str:
    """Return the entity breakdown table when the data has entity records, else the user one."""
    prefix = "entity" if tables.has_entity_records() else "user"
    return f"{prefix}_{kind}"


@dataclass
class ChartSpec:
    """The functions that compute one chart's frame and draw its figure."""

    name: str
    caption: str
    frame: Callable[[Tables, Selection], pd.DataFrame]
    figure: Callable[[pd.DataFrame, Selection], go.Figure]


class ChartsView(View):
    """A view made of charts, each with a table of its numbers."""

    def __init__(self, title: str, specs: Sequence[ChartSpec], intro: str = ""):
        super().__init__()
        self.title = title
        self.specs = list(specs)
        self.panels = {spec.name: ChartWithTable(spec.name, spec.caption) for spec in self.specs}
        children: list[widgets.Widget] = [widgets.HTML(intro)] if intro else []
        self.widget.children = children + [panel.widget for panel in self.panels.values()]

    def refresh(self, tables: Tables, selection: Selection) -> None:
        for spec in self.specs:
            frame = spec.frame(tables, selection)
            self.panels[spec.name].show(spec.figure(frame, selection), frame)


def overview_charts() -> list[ChartSpec]:
    """Return the charts of the overview: active users and code activity over time."""
    return [
        ChartSpec(
            "active-users",
            "Active users",
            active_users_frame,
            lambda frame, selection: charts.active_users_figure(frame, selection.colors),
        ),
        ChartSpec(
            "activity",
            "Code generations, acceptances and acceptance rate",
            activity_frame,
            lambda frame, selection: charts.activity_figure(frame, selection.colors),
        ),
    ]


def breakdown_chart(name: str, kind: str, dimension: str, title: str) -> ChartSpec:
    """Return the spec of a bar chart of a breakdown table per ``dimension``."""
    return ChartSpec(
        name,
        title,
        lambda tables, selection: breakdown_frame(
            tables, breakdown_table_name(tables, kind), dimension, selection
        ),
        lambda frame, selection: charts.breakdown_figure(frame, dimension, title, selection.colors),
    )


def features_view() -> ChartsView:
    return ChartsView(
        "Features and modes",
        [breakdown_chart("by-feature", "by_feature", "feature", "Activity by feature")],
        intro="<p>Code completion, chat modes (ask, edit, agent, plan, custom, inline), "
        "agent edits and the CLI, as GitHub's reports name them.</p>",
    )


def languages_view() -> ChartsView:
    return ChartsView(
        "Languages and IDEs",
        [
            breakdown_chart(
                "by-language", "by_language_feature", "language", "Activity by language"
            ),
            breakdown_chart("by-ide", "by_ide", "ide", "Activity by IDE"),
        ],
        intro="<p>Model breakdowns (chat and agent only) appear here once the loaded tables "
        "include a model breakdown; this data has none.</p>",
    )


class UsersView(View):
    """One row per user; the global pseudonymise switch replaces logins by stable aliases."""

    title = "Users"

    def __init__(self) -> None:
        super().__init__()
        self.table = Table("users", "Users active in the range, most interactions first")
        self.widget.children = [self.table.html]

    def refresh(self, tables: Tables, selection: Selection) -> None:
        if tables.user_daily.empty:
            self.table.html.value = (
                "<p>The loaded data has no user-day rows: add the users report files.</p>"
            )
            return
        frame = summaries.user_table(
            tables, selection.since, selection.until, pseudonymise=selection.pseudonymise
        )
        self.table.show(frame)


class HealthView(View):
    """Missing and settling days, unknown shares and attribution shares."""

    title = "Data health"

    def __init__(self) -> None:
        super().__init__()
        self.table = Table("data-health", "Checks on the data in the range")
        self.widget.children = [self.table.html]

    def refresh(self, tables: Tables, selection: Selection) -> None:
        self.table.show(
            summaries.health_table(tables, selection.since, selection.until, selection.today)
        )


class MissingTableView(View):
    """A view whose table the loaded data lacks, with one sentence naming what is missing."""

    def __init__(self, title: str, table: str, sentence: str):
        super().__init__()
        self.title = title
        self.table = table
        self.message = widgets.HTML(f'<p role="note">{html.escape(sentence)}</p>')
        self.message.add_class("copilot-missing")
        self.widget.children = [self.message]

    def refresh(self, tables: Tables, selection: Selection) -> None:
        # NOTE: the view only reports the absence; drawing these tables is not built yet.
        return


def missing_views() -> list[MissingTableView]:
    """Return the views for data the loaded tables do not have yet."""
    return [
        MissingTableView(
            "Pull requests",
            "repo_daily",
            "No pull request table is loaded. Pull request activity comes from GitHub's "
            "repository usage reports, which this dashboard does not read yet.",
        ),
        MissingTableView(
            "Teams",
            "user_teams",
            "No team table is loaded. Team membership comes from GitHub's user-teams reports, "
            "which this dashboard does not read yet.",
        ),
    ]


class SeatsView(View):
    """Assigned, active and idle seats, the monthly cost of idle seats, and a seat table."""

    title = "Seats"

    def __init__(self) -> None:
        super().__init__()
        style = {"description_width": "initial"}
        self.threshold = widgets.BoundedIntText(
            value=summaries.SEAT_THRESHOLD_DAYS,
            min=1,
            max=365,
            description="Active within (days)",
            style=style,
        )
        self.threshold.add_class("copilot-seat-threshold")
        self.price = widgets.BoundedFloatText(
            value=0.0,
            min=0.0,
            max=1000.0,
            description="Price per seat and month (USD, 0: plan list price)",
            style=style,
        )
        self.price.add_class("copilot-seat-price")

        self.search = widgets.Text(
            description="Search login", placeholder="part of a login", style=style
        )
        self.search.add_class("copilot-seat-search")
        self.summary = widgets.HTML()
        self.summary.add_class("copilot-seat-summary")
        self.table = Table("seats", "Seats, idle first")

        self.controls = widgets.HBox(
            [self.threshold, self.price, self.search], layout=widgets.Layout(flex_flow="row wrap")
        )
        self.widget.children = [self.controls, self.summary, self.table.html]
        self._last: tuple[Tables, Selection] | None = None
        for control in (self.threshold, self.price, self.search):
            control.observe(self._on_control, names="value")

    def _on_control(self, _change: object) -> None:
        if self._last is not None:
            self.refresh(*self._last)

    def refresh(self, tables: Tables, selection: Selection) -> None:
        self._last = (tables, selection)
        seats = tables.frames.get("seats")
        if seats is None or seats.empty:
            self.controls.layout.display = "none"
            self.summary.value = (
                '<p role="note" class="copilot-missing">No seat table is loaded. Seat assignments '
                "come from GitHub's Copilot billing seats endpoint; put its response (seats.json) "
                "in the data folder.</p>"
            )
            self.table.html.value = ""
            return
        self.controls.layout.display = None
        table = summaries.seat_table(
            seats, selection.until, self.threshold.value, pseudonymise=selection.pseudonymise
        )
        counts = summaries.seat_summary(table, self.price.value or None)
        self.summary.value = render_seat_summary(counts, self.threshold.value, selection.until)
        needle = self.search.value.strip().lower()
        if needle:
            table = table.loc[
                table["user_login"].astype(str).str.lower().str.contains(needle, regex=False)
            ]
        self.table.show(table)


def render_seat_summary(counts: dict[str, float | int], threshold: int, until: date) -> str:
    """Render the seat counts and idle cost as text cards."""
    cards = [
        ("assigned", "Assigned seats", f"{counts['assigned']:,}"),
        ("active", f"Active within {threshold} days of {until}", f"{counts['active']:,}"),
        ("idle", "Idle seats", f"{counts['idle']:,}"),
        ("never_used", "Never used", f"{counts['never_used']:,}"),
        ("pending_cancellation", "Pending cancellation", f"{counts['pending_cancellation']:,}"),
        ("idle_monthly_cost", "Monthly cost of idle seats", f"${counts['idle_monthly_cost']:,.0f}"),
    ]
    body = "".join(
        f'<div class="copilot-kpi" role="group" aria-label="{html.escape(label)}"'
        f' data-seat="{key}">'
        f'<p class="copilot-kpi-label">{html.escape(label)}</p>'
        f'<p class="copilot-kpi-value">{html.escape(value)}</p></div>'
        for key, label, value in cards
    )
    return f'<div class="copilot-kpi-grid">{body}</div>'
