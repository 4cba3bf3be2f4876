"""The dashboard's tabs: each builds its widgets once and redraws on :meth:`View.refresh`.

A tab calls one view function of :mod:`copilot_lib.views` with the global controls and
draws the frames of its result as charts (each with a table of its numbers) and tables
(each with a CSV download). A result that has nothing to show becomes its sentence saying
what is missing and how to get it.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go

from copilot_lib import cards, charts, health_charts, metrics, seat_charts, views
from copilot_lib.components import ChartWithTable, Table
from copilot_lib.schema import PULL_REQUEST_MEDIANS
from copilot_lib.tables import Tables
from copilot_lib.views import Filters, ViewResult
from copilot_lib.views.features import SURFACES
from copilot_lib.views.filters import DEFAULT_SEAT_THRESHOLD_DAYS


@dataclass(frozen=True)
class Selection:
    """The global controls as the views' ``Filters``, the current day and the chart colours."""

    filters: Filters
    today: date
    colors: tuple[str, ...] = field(default=charts.PALETTE)

    @property
    def since(self) -> date | None:
        return self.filters.since

    @property
    def until(self) -> date | None:
        return self.filters.until


class View:
    """A tab of the dashboard."""

    title = ""

    def __init__(self) -> None:
        self.widget = widgets.VBox(layout=widgets.Layout(width="100%"))
        self.widget.add_class("copilot-view")

    def refresh(self, tables: Tables, selection: Selection) -> None:
        """Redraw the view for ``selection``."""
        raise NotImplementedError


Frame = Callable[[Any], pd.DataFrame]
Figure = Callable[[pd.DataFrame, Selection], go.Figure]


@dataclass
class ChartSpec:
    """One chart of a tab: the frame it takes from the view's result, and how to draw it."""

    name: str
    caption: str
    frame: Frame
    figure: Figure


@dataclass
class TableSpec:
    """One table of a tab: the frame it takes from the view's result."""

    name: str
    caption: str
    frame: Frame


def notes_html(notes: Sequence[str]) -> str:
    """Render a view's caveats as a list of short notes."""
    if not notes:
        return ""
    items = "".join(f"<li>{html.escape(note)}</li>" for note in notes)
    return f'<ul class="copilot-notes" aria-label="Notes on these numbers">{items}</ul>'


class ResultView(View):
    """A tab drawn from one view function's result: charts with tables, then tables."""

    def __init__(
        self,
        title: str,
        compute: Callable[[Tables, Selection], ViewResult],
        charts_: Sequence[ChartSpec] = (),
        tables_: Sequence[TableSpec] = (),
        intro: str = "",
    ):
        super().__init__()
        self.title = title
        self.compute = compute
        self.chart_specs = list(charts_)
        self.table_specs = list(tables_)
        self.panels = {spec.name: ChartWithTable(spec.name, spec.caption) for spec in self.chart_specs}
        self.tables = {spec.name: Table(spec.name, spec.caption) for spec in self.table_specs}
        self.message = widgets.HTML()
        self.message.add_class("copilot-message")
        self.extra: list[widgets.Widget] = []
        self.body = widgets.VBox(
            [panel.widget for panel in self.panels.values()] + [table.html for table in self.tables.values()],
            layout=widgets.Layout(width="100%"),
        )
        intro_widgets: list[widgets.Widget] = [widgets.HTML(intro)] if intro else []
        self.widget.children = [*intro_widgets, self.message, self.body]
        self.result: ViewResult | None = None

    def refresh(self, tables: Tables, selection: Selection) -> None:
        result = self.compute(tables, selection)
        self.result = result
        if not result.ok:
            self.message.value = f'<p role="note" class="copilot-missing">{html.escape(result.missing or "")}</p>'
            self.body.layout.display = "none"
            self.draw_missing(result)
            return
        self.message.value = notes_html(result.notes)
        self.body.layout.display = None
        for spec in self.chart_specs:
            frame = spec.frame(result)
            self.panels[spec.name].show(spec.figure(frame, selection), frame)
        for table_spec in self.table_specs:
            self.tables[table_spec.name].show(without_ids(table_spec.frame(result), selection))
        self.draw(result, selection)

    def draw(self, result: Any, selection: Selection) -> None:
        """Draw what the specs do not cover; subclasses add KPI cards and summaries here."""

    def draw_missing(self, result: Any) -> None:
        """Clear what :meth:`draw` drew when the result has nothing to show."""


# GitHub user ids are public, so a pseudonymised table must not carry them either.
USER_ID_COLUMNS = ("user_id", "assignee_id")


def without_ids(frame: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """Drop the user id columns from ``frame`` when logins are pseudonymised."""
    if not selection.filters.pseudonymise:
        return frame
    return frame.drop(columns=[name for name in USER_ID_COLUMNS if name in frame])


def view_of(name: str) -> Callable[[Tables, Selection], ViewResult]:
    """Return a compute function that calls view ``name`` of ``copilot_lib.views``."""
    function = views.VIEWS[name]
    return lambda tables, selection: function(tables, selection.filters)


def _attr(name: str) -> Frame:
    return lambda result: getattr(result, name)


COUNTER_BARS = charts.BREAKDOWN_BARS
CODE_BARS = ((metrics.GENERATIONS, "Code generations"), (metrics.ACCEPTANCES, "Code acceptances"))


def bars(dimension: str, title: str, columns: Sequence[tuple[str, str]] = COUNTER_BARS) -> Figure:
    return lambda frame, selection: charts.breakdown_figure(frame, dimension, title, selection.colors, bars=columns)


def lines(x: str, columns: Sequence[tuple[str, str]], title: str, y_title: str) -> Figure:
    return lambda frame, selection: charts.lines_figure(frame, x, columns, title, y_title, selection.colors)


def grouped(group: str, value: str, title: str, y_title: str) -> Figure:
    return lambda frame, selection: charts.grouped_lines_figure(
        frame, "period", group, value, title, y_title, selection.colors
    )


def features_view() -> ResultView:
    surfaces = [(label, label) for label in SURFACES.values()]
    return ResultView(
        "Features and modes",
        view_of("features"),
        [
            ChartSpec("by-feature", "Activity by feature", _attr("totals"), bars("label", "Activity by feature")),
            ChartSpec(
                "feature-series",
                "Interactions per feature and period",
                _attr("series"),
                grouped("label", metrics.INTERACTIONS, "Interactions per feature", "Interactions"),
            ),
            ChartSpec(
                "surfaces",
                "Distinct users per surface and period",
                _attr("surfaces"),
                lines("period", surfaces, "Distinct users per surface", "Users"),
            ),
            ChartSpec(
                "cli",
                "Copilot CLI sessions and requests per period",
                _attr("cli"),
                lines(
                    "period",
                    (("session_count", "CLI sessions"), ("request_count", "CLI requests")),
                    "Copilot CLI sessions and requests",
                    "Count",
                ),
            ),
        ],
        [
            TableSpec("copilot-app", "Copilot app sessions, requests and tokens per period", _attr("copilot_app")),
            TableSpec("third-party-agents", "Third-party agents in the range", _attr("third_party_agents")),
        ],
        intro="<p>Code completion, chat modes (ask, edit, agent, plan, custom, inline), agent "
        "edits, the CLI, the Copilot app, code review, the cloud agent and third-party agents, "
        "as GitHub's reports name them.</p>",
    )


def languages_view() -> ResultView:
    return ResultView(
        "Languages",
        view_of("languages"),
        [
            ChartSpec(
                "by-language",
                "Code activity by language",
                _attr("totals"),
                bars("language", "Code activity by language", CODE_BARS),
            ),
            ChartSpec(
                "language-series",
                "Code generations per language and period",
                _attr("series"),
                grouped("language", metrics.GENERATIONS, "Code generations per language", "Code generations"),
            ),
        ],
        [TableSpec("language-features", "Code activity by language and feature", _attr("by_feature"))],
    )


def _versions(result: Any) -> pd.DataFrame:
    """Return the client version table with a text flag for clients too old to report lines."""
    frame = result.versions
    if frame.empty:
        return frame
    flags = {
        "none": "too old: reports no lines",
        "some": "reports lines for some features",
        "all": "reports lines",
        "unknown": "unknown: no minimum version published",
    }
    return frame.assign(lines_of_code=frame["lines_reported"].map(flags).fillna(frame["lines_reported"]))


class IdesView(ResultView):
    """Activity per IDE, the client versions users last ran, and users on too-old clients."""

    def __init__(self) -> None:
        super().__init__(
            "IDEs",
            view_of("ides"),
            [ChartSpec("by-ide", "Activity by IDE", _attr("totals"), bars("ide", "Activity by IDE"))],
            [
                TableSpec(
                    "ide-versions",
                    "Users per IDE and Copilot plugin version they last ran in the range",
                    _versions,
                )
            ],
            intro="<p>Clients older than the minimum IDE and plugin versions GitHub lists report no "
            "lines of code, so their users add nothing to lines added and deleted.</p>",
        )
        self.old_clients = Table("old-clients", "Users whose last client in the range reports no lines")
        self.body.children = (*self.body.children, self.old_clients.html)

    def draw(self, result: Any, selection: Selection) -> None:
        old = views.old_client_users(self._tables, selection.filters)
        self.old_clients.show(without_ids(old, selection))

    def refresh(self, tables: Tables, selection: Selection) -> None:
        self._tables = tables
        super().refresh(tables, selection)


def models_view() -> ResultView:
    return ResultView(
        "Models (chat and agent)",
        view_of("models"),
        [
            ChartSpec(
                "by-model",
                "Chat and agent activity by model",
                _attr("totals"),
                bars("model", "Chat and agent activity by model"),
            ),
            ChartSpec(
                "model-series",
                "Chat and agent interactions per model and period",
                _attr("series"),
                grouped("model", metrics.INTERACTIONS, "Chat and agent interactions per model", "Interactions"),
            ),
        ],
        [TableSpec("model-features", "Chat and agent activity by model and feature", _attr("by_feature"))],
        intro="<p><strong>Chat and agent only.</strong> GitHub's model breakdowns do not cover "
        "code completions, so these totals are below the Overview's.</p>",
    )


PULL_REQUEST_LINES = (
    ("total_created", "Created"),
    ("total_reviewed", "Reviewed"),
    ("total_merged", "Merged"),
    ("total_created_by_copilot", "Created by Copilot"),
    ("total_reviewed_by_copilot", "Reviewed by Copilot"),
    ("total_applied_suggestions", "Review suggestions applied"),
)
REPOSITORY_BARS = (
    ("total_created", "Created"),
    ("total_merged", "Merged"),
    ("total_created_by_copilot", "Created by Copilot"),
)
MEDIAN_LABELS = {
    "median_minutes_to_merge": "All pull requests",
    "median_minutes_to_merge_copilot_authored": "Created by Copilot",
    "median_minutes_to_merge_copilot_reviewed": "Reviewed by Copilot",
}


def pull_requests_view() -> ResultView:
    medians = [(name, MEDIAN_LABELS.get(name, name)) for name in PULL_REQUEST_MEDIANS]
    return ResultView(
        "Pull requests",
        view_of("pull_requests"),
        [
            ChartSpec(
                "pull-requests",
                "Pull requests per period",
                _attr("series"),
                lines("period", PULL_REQUEST_LINES, "Pull requests", "Pull requests"),
            ),
            ChartSpec(
                "merge-medians",
                "GitHub's median minutes to merge, per day",
                _attr("daily_medians"),
                lines("day", medians, "Median minutes to merge (per day)", "Minutes"),
            ),
            ChartSpec(
                "by-repository",
                "Pull requests by repository",
                _attr("by_repository"),
                bars(
                    "repo_name",
                    "Pull requests by repository",
                    REPOSITORY_BARS,
                ),
            ),
        ],
        [TableSpec("repository-days", "Pull requests per repository and day", _attr("repository_daily"))],
    )


def _team_series(result: Any) -> pd.DataFrame:
    return result.series


class TeamsView(ResultView):
    """One team in depth or several side by side, with the unattributed bucket."""

    def __init__(self) -> None:
        super().__init__(
            "Teams",
            view_of("teams"),
            [
                ChartSpec(
                    "team-totals",
                    "Activity per team in the range, with users in no reported team",
                    _attr("totals"),
                    bars("slug", "Activity per team"),
                ),
                ChartSpec(
                    "team-active-users",
                    "Distinct active members per team and period",
                    _team_series,
                    grouped("slug", "active_users", "Active members per team", "Users"),
                ),
                ChartSpec(
                    "team-interactions",
                    "Interactions per team and period",
                    _team_series,
                    grouped("slug", metrics.INTERACTIONS, "Interactions per team", "Interactions"),
                ),
            ],
            [
                TableSpec(
                    "team-reconciliation",
                    "How team sums, overlap and the unattributed bucket add up to the total",
                    _attr("reconciliation"),
                ),
            ],
            intro="<p>Pick one team in the Teams control to see it in depth, or several to compare "
            "them side by side. Each day's activity counts for the teams a user belonged to that "
            "day; <code>unattributed</code> is activity of users in no reported team. A user in two "
            "teams counts in both.</p>",
        )
        self.team_list = Table("team-list", "Teams, and why a team is absent from the user-teams report")
        self.widget.children = (*self.widget.children, self.team_list.html)

    def draw(self, result: Any, selection: Selection) -> None:
        self.team_list.show(result.teams)

    def draw_missing(self, result: Any) -> None:
        teams = getattr(result, "teams", pd.DataFrame())
        if teams is not None and not teams.empty:
            self.team_list.show(teams)
        else:
            self.team_list.html.value = ""


class OverviewView(ResultView):
    """KPI cards with their change against the previous period, and activity over time."""

    def __init__(self) -> None:
        super().__init__(
            "Overview",
            view_of("overview"),
            [
                ChartSpec(
                    "active-users",
                    "Distinct active users per period",
                    _attr("series"),
                    lines("period", (("active_users", "Distinct active users"),), "Active users", "Users"),
                ),
                ChartSpec(
                    "activity",
                    "Code generations, acceptances and acceptance rate",
                    _attr("series"),
                    lambda frame, selection: charts.activity_figure(frame, selection.colors, x="period"),
                ),
            ],
            [TableSpec("kpis", "KPIs and their change against the previous period", _attr("table"))],
        )
        self.kpis = widgets.HTML()
        self.kpis.add_class("copilot-kpis")
        self.body.children = (self.kpis, *self.body.children)

    def draw(self, result: Any, selection: Selection) -> None:
        self.kpis.value = cards.render_kpis(result.kpis, result.since, result.until)


class UsersView(ResultView):
    """One row per user; the global pseudonymise switch replaces logins by stable aliases."""

    def __init__(self) -> None:
        super().__init__(
            "Users",
            view_of("users"),
            [],
            [TableSpec("users", "Users active in the range, most interactions first", _attr("table"))],
        )


class HealthView(ResultView):
    """Missing and settling days, unknown shares and attribution shares."""

    def __init__(self) -> None:
        super().__init__(
            "Data health",
            lambda tables, selection: views.health(tables, selection.filters, selection.today),
            [
                ChartSpec(
                    "days",
                    "Each day: status and which records it has",
                    _attr("days"),
                    lambda frame, selection: health_charts.day_status_figure(frame, selection.colors),
                ),
                ChartSpec(
                    "unknown-shares",
                    "Share of code generations filed under unknown",
                    _attr("unknown_shares"),
                    lambda frame, selection: health_charts.unknown_share_figure(frame, selection.colors),
                ),
                ChartSpec(
                    "attribution",
                    "Share of the totals each breakdown accounts for",
                    _attr("attribution"),
                    lambda frame, selection: health_charts.attribution_figure(frame, selection.colors),
                ),
            ],
            [
                TableSpec("day-status", "Days in the range by status", _attr("status_counts")),
                TableSpec("duplicates", "Duplicate rows dropped while loading", _attr("duplicates")),
            ],
            intro="<p>A day is <em>settling</em> while GitHub may still revise it, and "
            "<em>missing</em> when no report covers it. The day strip marks both; every other "
            "chart leaves missing days as gaps, never zeros.</p>",
        )


class SeatsView(ResultView):
    """Assigned, active and idle seats, the monthly cost of idle seats, and a seat table."""

    def __init__(self) -> None:
        super().__init__(
            "Seats",
            view_of("seats"),
            [
                ChartSpec(
                    "seat-states",
                    "Seats by state on the range's last day",
                    _attr("states"),
                    lambda frame, selection: seat_charts.seat_states_figure(
                        frame, selection.filters.search, selection.colors
                    ),
                ),
                ChartSpec(
                    "seat-activity-age",
                    "Seats per bin of days since last activity",
                    _attr("activity_age"),
                    lambda frame, selection: seat_charts.activity_age_figure(
                        frame, selection.filters.seat_threshold_days, selection.filters.search, selection.colors
                    ),
                ),
                ChartSpec(
                    "idle-cost",
                    "Idle seats and their monthly cost by last-activity editor and plan type",
                    _attr("idle_cost"),
                    lambda frame, selection: seat_charts.idle_cost_figure(
                        frame, selection.filters.search, selection.colors
                    ),
                ),
            ],
            [TableSpec("seats", "Seats, idle first", _attr("table"))],
        )
        style = {"description_width": "initial"}
        # Sized to their labels; the default width left the price input about 10 px wide.
        layout = {"width": "auto", "margin": "0 2em 0.5em 0"}
        self.threshold = widgets.BoundedIntText(
            value=DEFAULT_SEAT_THRESHOLD_DAYS,
            min=1,
            max=365,
            description="Active within (days)",
            style=style,
            layout=widgets.Layout(**layout),
        )
        self.threshold.add_class("copilot-seat-threshold")
        self.price = widgets.BoundedFloatText(
            value=0.0,
            min=0.0,
            max=1000.0,
            description="Price per seat and month (USD, 0: plan list price)",
            style=style,
            layout=widgets.Layout(**layout),
        )
        self.price.add_class("copilot-seat-price")
        self.search = widgets.Text(
            description="Search seats",
            placeholder="login, editor, team or plan",
            style=style,
            layout=widgets.Layout(**layout),
        )
        self.search.add_class("copilot-seat-search")
        self.summary = widgets.HTML()
        self.summary.add_class("copilot-seat-summary")
        self.controls = widgets.HBox(
            [self.threshold, self.price, self.search], layout=widgets.Layout(flex_flow="row wrap")
        )
        self.body.children = (self.controls, self.summary, *self.body.children)
        self._last: tuple[Tables, Selection] | None = None
        for control in (self.threshold, self.price, self.search):
            control.observe(self._on_control, names="value")

    def seat_filters(self, selection: Selection) -> Filters:
        """Add the seat threshold, price and search of this tab to the global controls."""
        return replace(
            selection.filters,
            seat_threshold_days=max(1, int(self.threshold.value or DEFAULT_SEAT_THRESHOLD_DAYS)),
            price_per_seat=float(self.price.value) if self.price.value else None,
            search=self.search.value.strip(),
        )

    def _on_control(self, _change: object) -> None:
        if self._last is not None:
            self.refresh(*self._last)

    def refresh(self, tables: Tables, selection: Selection) -> None:
        # The view and every chart see this tab's threshold, price and search as filters.
        self._last = (tables, selection)
        super().refresh(tables, replace(selection, filters=self.seat_filters(selection)))

    def draw(self, result: Any, selection: Selection) -> None:
        self.summary.value = render_seat_summary(result)


def render_seat_summary(result: Any) -> str:
    """Render the seat counts and idle cost as text cards."""
    as_of = result.as_of.date() if result.as_of is not None else "the last day"
    cards = [
        ("assigned", "Assigned seats", f"{result.assigned:,}"),
        ("active", f"Active within {result.threshold_days} days of {as_of}", f"{result.active:,}"),
        ("idle", "Idle seats", f"{result.idle:,}"),
        ("never_used", "Never used", f"{result.never_used:,}"),
        ("pending_cancellation", "Pending cancellation", f"{result.pending_cancellation:,}"),
        ("idle_monthly_cost", "Monthly cost of idle seats", f"${result.idle_monthly_cost:,.0f}"),
    ]
    body = "".join(
        f'<div class="copilot-kpi" role="group" aria-label="{html.escape(label)}"'
        f' data-seat="{key}">'
        f'<p class="copilot-kpi-label">{html.escape(label)}</p>'
        f'<p class="copilot-kpi-value">{html.escape(value)}</p></div>'
        for key, label, value in cards
    )
    return f'<div class="copilot-kpi-grid">{body}</div>'


# Every tab in order: its title, and how to build its view. The page builds a tab's
# widgets when the tab is first selected, because every widget that exists when the page
# opens is sent to the browser and rendered there before the first chart shows.
TABS: tuple[tuple[str, Callable[[], View]], ...] = (
    ("Overview", OverviewView),
    ("Features and modes", features_view),
    ("Languages", languages_view),
    ("IDEs", IdesView),
    ("Models (chat and agent)", models_view),
    ("Pull requests", pull_requests_view),
    ("Seats", SeatsView),
    ("Teams", TeamsView),
    ("Users", UsersView),
    ("Data health", HealthView),
)


def build_views() -> list[View]:
    """Return every view, in tab order."""
    return [build() for _, build in TABS]
