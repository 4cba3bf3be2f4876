"""The History tab: every day of a history store at day, ISO week or month grain.

:func:`history_series` is a pure function of the tables; :class:`HistoryView` draws it.
Counters are summed per period and the acceptance rate is the ratio of the sums. Distinct
users per period come from user-day rows, because daily counts cannot be added up. A period
without data stays NaN, so charts draw a gap.

Days from the retired APIs (the ``legacy_*`` tables) are joined as their own columns where
a legacy field maps to a current one (docs/data-model.md): suggestions shown and accepted
by code completion. They count something different from the current reports' generations
and acceptances, so they are labelled as such and never added to the current columns.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go

from copilot_lib import charts, metrics
from copilot_lib.components import ChartWithTable, Table
from copilot_lib.github import ENTERPRISE_FIRST_DAY, ORG_FIRST_DAY
from copilot_lib.tables import Tables
from copilot_lib.tabs import Selection, View


@dataclass(frozen=True)
class ApiChange:
    """A day on which GitHub changed the API that Copilot usage data comes from."""

    day: date
    label: str


# /copilot/usage has no data after 2025-02-01 and answers 404 from 2025-03-01. GitHub's
# closing-down notice of 2026-01-29 set the /copilot/metrics sunset to 2026-04-02.
API_CHANGES = (
    ApiChange(date(2025, 3, 1), "/copilot/usage retired"),
    ApiChange(ENTERPRISE_FIRST_DAY, "Usage metrics reports start (enterprise)"),
    ApiChange(ORG_FIRST_DAY, "Usage metrics reports start (organisation)"),
    ApiChange(date(2026, 4, 2), "/copilot/metrics sunset"),
)

LEGACY_SUGGESTIONS = "legacy_suggestions"
LEGACY_ACCEPTANCES = "legacy_acceptances"
LEGACY_RATE = "legacy_acceptance_rate"
COMPLETION_GENERATIONS = "code_completion_generations"
COMPLETION_ACCEPTANCES = "code_completion_acceptances"
ACTIVE_USERS = "active_users"
CODE_COMPLETION = "code_completion"
# The legacy tables' rows for the whole organisation or enterprise, not one team.
ORG_LEVEL = ""
COUNTERS = (metrics.INTERACTIONS, metrics.GENERATIONS, metrics.ACCEPTANCES)


def history_series(tables: Tables, grain: str = "day", days: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return one row per day, ISO week or month from the first to the last day with data.

    Columns: ``period`` (its first day), ``days_with_data``, the current counters summed,
    ``acceptance_rate``, ``active_users`` (distinct users active in the period), the code
    completion generations and acceptances, and the legacy suggestions, acceptances and
    acceptance rate. ``days`` is :func:`~copilot_lib.history_tables.day_status` output; with
    it, ``stored_days`` and ``gap_days`` count the store's days per period.
    """
    daily = _current_days(tables).merge(_legacy_days(tables), on="day", how="outer")
    if days is not None and not days.empty:
        daily = daily.merge(_status_days(days), on="day", how="outer")
    if daily.empty:
        return _empty_series(days is not None)
    calendar = pd.DataFrame({"day": pd.date_range(daily["day"].min(), daily["day"].max(), freq="D")})
    daily = calendar.merge(daily, on="day", how="left")
    daily["period"] = metrics.period_start(daily["day"], grain)
    sums = [name for name in daily.columns if name not in ("day", "period")]
    grouped = daily.groupby("period", sort=True)
    series = grouped[sums].sum(min_count=1).reset_index()
    series.insert(1, "days_with_data", grouped[metrics.GENERATIONS].count().to_numpy())
    series["acceptance_rate"] = _ratio(series[metrics.ACCEPTANCES], series[metrics.GENERATIONS])
    series[LEGACY_RATE] = _ratio(series[LEGACY_ACCEPTANCES], series[LEGACY_SUGGESTIONS])
    series = series.merge(_active_users(tables, grain), on="period", how="left")
    for name in ("stored_days", "gap_days"):
        if name in series:
            series[name] = series[name].fillna(0).astype("int64")
    return series[[name for name in _columns(days is not None) if name in series]]


def _columns(with_status: bool) -> list[str]:
    status = ["stored_days", "gap_days"] if with_status else []
    return [
        "period",
        "days_with_data",
        *status,
        *COUNTERS,
        "acceptance_rate",
        ACTIVE_USERS,
        COMPLETION_GENERATIONS,
        COMPLETION_ACCEPTANCES,
        LEGACY_SUGGESTIONS,
        LEGACY_ACCEPTANCES,
        LEGACY_RATE,
    ]


def _empty_series(with_status: bool) -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series(dtype="Float64") for name in _columns(with_status)})
    frame["period"] = pd.Series(dtype="datetime64[ns]")
    return frame


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return (numerator / denominator.where(denominator > 0)).astype("Float64")


def _current_days(tables: Tables) -> pd.DataFrame:
    """Return the current reports' counters per day, and code completion's share of them."""
    frame = metrics.daily_series(tables)[["day", *COUNTERS]]
    frame = frame.loc[frame[metrics.GENERATIONS].notna()]
    prefix = "entity" if tables.has_entity_records() else "user"
    features = tables.frames.get(f"{prefix}_by_feature")
    if features is None or features.empty:
        completion = _day_frame(COMPLETION_GENERATIONS, COMPLETION_ACCEPTANCES)
    else:
        rows = features.loc[features["feature"].astype(str) == CODE_COMPLETION]
        completion = (
            rows.groupby("day")[[metrics.GENERATIONS, metrics.ACCEPTANCES]]
            .sum(min_count=1)
            .rename(
                columns={
                    metrics.GENERATIONS: COMPLETION_GENERATIONS,
                    metrics.ACCEPTANCES: COMPLETION_ACCEPTANCES,
                }
            )
            .reset_index()
        )
    frame = frame.merge(completion, on="day", how="left")
    # A day with report data but no code completion rows had no code completion activity.
    frame[[COMPLETION_GENERATIONS, COMPLETION_ACCEPTANCES]] = frame[
        [COMPLETION_GENERATIONS, COMPLETION_ACCEPTANCES]
    ].fillna(0)
    return frame.astype({name: "Float64" for name in frame.columns if name != "day"})


def _day_frame(*columns: str) -> pd.DataFrame:
    """Return an empty frame with a ``day`` column and the given number columns."""
    frame = pd.DataFrame({name: pd.Series(dtype="Float64") for name in columns})
    frame.insert(0, "day", pd.Series(dtype="datetime64[ns]"))
    return frame


def _legacy_days(tables: Tables) -> pd.DataFrame:
    """Return the legacy suggestions and acceptances per day of the organisation or enterprise.

    A day in both legacy APIs takes the ``/copilot/metrics`` numbers, the later API.
    """
    parts = []
    usage = tables.frames.get("legacy_usage_daily")
    if usage is not None and not usage.empty:
        usage = usage.loc[usage["team_slug"].fillna(ORG_LEVEL) == ORG_LEVEL]
        parts.append(
            usage.rename(
                columns={
                    "total_suggestions_count": LEGACY_SUGGESTIONS,
                    "total_acceptances_count": LEGACY_ACCEPTANCES,
                }
            )[["day", LEGACY_SUGGESTIONS, LEGACY_ACCEPTANCES]]
        )
    completions = tables.frames.get("legacy_code_completions")
    if completions is not None and not completions.empty:
        completions = completions.loc[completions["team_slug"].fillna(ORG_LEVEL) == ORG_LEVEL]
        per_day = completions.groupby("day")[["total_code_suggestions", "total_code_acceptances"]]
        parts.append(
            per_day.sum(min_count=1)
            .rename(
                columns={
                    "total_code_suggestions": LEGACY_SUGGESTIONS,
                    "total_code_acceptances": LEGACY_ACCEPTANCES,
                }
            )
            .reset_index()
        )
    if not parts:
        return _day_frame(LEGACY_SUGGESTIONS, LEGACY_ACCEPTANCES)
    frame = pd.concat(parts, ignore_index=True)
    frame["day"] = pd.to_datetime(frame["day"]).astype("datetime64[ns]")
    frame = frame.drop_duplicates("day", keep="last")
    return frame.astype({LEGACY_SUGGESTIONS: "Float64", LEGACY_ACCEPTANCES: "Float64"})


def _status_days(days: pd.DataFrame) -> pd.DataFrame:
    """Return per day whether any entity has it stored, and whether any recorded a gap."""
    flags = days.assign(
        stored_days=(days["status"] == "stored").astype("int64"),
        gap_days=(days["status"] == "gap").astype("int64"),
    )
    return flags.groupby("day", as_index=False)[["stored_days", "gap_days"]].max()


def _active_users(tables: Tables, grain: str) -> pd.DataFrame:
    """Return the distinct users active in each period, counted from user-day rows."""
    rows = tables.user_daily
    if rows.empty:
        return pd.DataFrame({"period": pd.Series(dtype="datetime64[ns]"), ACTIVE_USERS: pd.Series(dtype="Int64")})
    # Periods with user rows but no active user count 0; periods without user rows stay NaN.
    reported = metrics.period_start(rows["day"], grain).drop_duplicates()
    active = metrics.active_user_rows(rows)
    counts = active.groupby(metrics.period_start(active["day"], grain))["user_id"].nunique()
    counts = counts.reindex(pd.Index(reported, name="period"), fill_value=0)
    return counts.rename(ACTIVE_USERS).astype("Int64").reset_index()


def api_changes_in(first: pd.Timestamp, last: pd.Timestamp) -> list[ApiChange]:
    """Return the API changes that fall within [first, last]."""
    return [change for change in API_CHANGES if first <= pd.Timestamp(change.day) <= last]


def history_figure(
    series: pd.DataFrame,
    grain: str = "day",
    colors: tuple[str, ...] = charts.PALETTE,
) -> go.Figure:
    """Draw current and legacy code activity per period, with a marker at each API change.

    A vertical dotted line and a note mark each day GitHub changed the API, when one of the
    periods of ``series`` contains it. The legacy lines are dotted and named as a different
    definition.
    """
    figure = go.Figure()
    lines = (
        (metrics.GENERATIONS, "Code generations (usage metrics reports)", "solid", "circle"),
        (metrics.ACCEPTANCES, "Code acceptances (usage metrics reports)", "solid", "square"),
        (LEGACY_SUGGESTIONS, "Legacy API: suggestions shown (different definition)", "dot", "circle-open"),
        (LEGACY_ACCEPTANCES, "Legacy API: suggestions accepted (different definition)", "dot", "square-open"),
    )
    for index, (column, label, dash, marker) in enumerate(lines):
        figure.add_trace(
            go.Scatter(
                x=series["period"],
                y=charts.float_values(series[column]),
                name=label,
                mode="lines+markers",
                connectgaps=False,
                line={"color": colors[index % len(colors)], "dash": dash, "width": 2},
                marker={"symbol": marker, "size": 5},
                hovertemplate="%{y:,.0f}",
            )
        )
    has_data = not series.empty and not (
        series[metrics.GENERATIONS].isna().all() and series[LEGACY_SUGGESTIONS].isna().all()
    )
    charts.apply_layout(figure, "Code activity over the stored history", y_title="Count", empty=not has_data)
    _legend_below(figure)
    if has_data:
        _mark_api_changes(figure, series, grain)
    return figure


def period_end(start: pd.Timestamp, grain: str) -> pd.Timestamp:
    """Return the last day of the day, ISO week or month that starts on ``start``."""
    if grain == "week":
        return start + pd.Timedelta(days=6)
    if grain == "month":
        return start + pd.offsets.MonthEnd(0)
    return start


def _legend_below(figure: go.Figure) -> None:
    """Put the legend under the plot: its long names would cover the title above it."""
    figure.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.15, "xanchor": "left", "x": 0},
        height=charts.HEIGHT + 100,
        margin={"b": 120},
    )


def _mark_api_changes(figure: go.Figure, series: pd.DataFrame, grain: str) -> None:
    first, last = series["period"].min(), period_end(series["period"].max(), grain)
    for change in api_changes_in(first, last):
        day = change.day.isoformat()
        figure.add_shape(
            type="line",
            xref="x",
            yref="paper",
            x0=day,
            x1=day,
            y0=0,
            y1=1,
            line={"color": "#555555", "dash": "dot", "width": 1},
        )
        # The note runs up along the line's right side, inside the plot, so it is never clipped.
        figure.add_annotation(
            x=day,
            xref="x",
            yref="paper",
            y=1,
            yanchor="top",
            xanchor="left",
            text=html.escape(change.label),
            showarrow=False,
            textangle=-90,
            bgcolor="rgba(255, 255, 255, 0.8)",
            font={"size": 11},
        )


def users_figure(
    series: pd.DataFrame,
    grain: str = "day",
    colors: tuple[str, ...] = charts.PALETTE,
) -> go.Figure:
    """Draw the distinct active users per period and the acceptance rates, current and legacy."""
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            x=series["period"],
            y=charts.float_values(series[ACTIVE_USERS]) if ACTIVE_USERS in series else [],
            name="Distinct active users",
            marker={"color": colors[0]},
            hovertemplate="%{y:,.0f}",
        )
    )
    rates = (
        ("acceptance_rate", "Acceptance rate (%)", "solid"),
        (LEGACY_RATE, "Legacy API acceptance rate (%) (different definition)", "dot"),
    )
    for index, (column, label, dash) in enumerate(rates, start=1):
        figure.add_trace(
            go.Scatter(
                x=series["period"],
                y=charts.float_values(series[column]) * 100,
                name=label,
                mode="lines+markers",
                connectgaps=False,
                yaxis="y2",
                line={"color": colors[index % len(colors)], "dash": dash, "width": 2},
                hovertemplate="%{y:.1f}%",
            )
        )
    charts.apply_layout(figure, "Active users and acceptance rate", y_title="Users", empty=series.empty)
    _legend_below(figure)
    charts.add_rate_axis(figure)
    if not series.empty:
        _mark_api_changes(figure, series, grain)
    return figure


def series_by_grain(tables: Tables, days: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Return :func:`history_series` at every grain, for a view drawn after the user tables go.

    The dashboard calls this before :func:`copilot_lib.views.compact` releases them.
    """
    return {grain: history_series(tables, grain, days) for grain in metrics.GRAINS}


class HistoryView(View):
    """Every stored day at the selected grain; the date range does not apply here."""

    title = "History"

    def __init__(self, days: pd.DataFrame | None = None, series: dict[str, pd.DataFrame] | None = None) -> None:
        super().__init__()
        self.days = days
        # The series per grain, when computed at load by series_by_grain.
        self.series = series or {}
        self.intro = widgets.HTML()
        self.intro.add_class("copilot-history-intro")
        self.activity = ChartWithTable("history-activity", "Code activity per period")
        self.users = ChartWithTable("history-users", "Active users and acceptance rate per period")
        self.table = Table("history", "Every period of the stored history")
        self.panels = {"history-activity": self.activity, "history-users": self.users}
        self.widget.children = [
            self.intro,
            self.activity.widget,
            self.users.widget,
            self.table.html,
        ]

    def refresh(self, tables: Tables, selection: Selection) -> None:
        grain = selection.filters.grain
        series = self.series.get(grain)
        if series is None:
            series = history_series(tables, grain, self.days)
        self.intro.value = _intro(series)
        self.activity.show(history_figure(series, grain, selection.colors), series)
        self.users.show(users_figure(series, grain, selection.colors), series)
        self.table.show(series)


def _intro(series: pd.DataFrame) -> str:
    text = (
        "Every day the history store holds, whatever the date range above. Dotted lines come "
        "from GitHub's retired APIs, which counted suggestions shown and accepted by code "
        "completion: a different definition, so they are not joined to the current numbers."
    )
    if not series.empty:
        first, last = series["period"].min().date(), series["period"].max().date()
        text += f" Periods from {first} to {last}."
    return f'<p role="note">{html.escape(text)}</p>'
