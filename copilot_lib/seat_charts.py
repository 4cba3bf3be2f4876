"""Plotly figure builders for the Seats tab, from the frames of :func:`copilot_lib.views.seats_view`.

Each builder names every bar by its text or legend entry, so colour is never the only cue to a state.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from copilot_lib.charts import HEIGHT, PALETTE, PATTERNS, apply_layout, float_values

NO_SEATS_MATCH = "No seats match the search"
NO_IDLE_SEATS = "No idle seats"
NO_SEAT_ACTIVITY = "No seat has any activity yet"


def _matching(search: str) -> str:
    return f" matching “{search}”" if search else ""


def seat_states_figure(states: pd.DataFrame, search: str = "", colors: Sequence[str] = PALETTE) -> go.Figure:
    """Draw one labelled bar per seat state, the first state at the top.

    ``states`` is the ``states`` frame of the seats view: ``state`` and ``seats``. The
    last row, pending cancellation, overlaps the others and is drawn hatched.
    """
    bottom_up = states.iloc[::-1]
    count = len(bottom_up)
    patterns = [PATTERNS[1] if position == 0 else PATTERNS[0] for position in range(count)]
    figure = go.Figure(
        go.Bar(
            y=bottom_up["state"].astype(str).tolist(),
            x=float_values(bottom_up["seats"]),
            orientation="h",
            name="Seats",
            text=[f"{int(value):,}" for value in bottom_up["seats"]],
            textposition="outside",
            cliponaxis=False,
            marker={
                "color": [colors[(count - 1 - position) % len(colors)] for position in range(count)],
                "pattern": {"shape": patterns},
            },
            hovertemplate="%{y}: %{x:,} seats<extra></extra>",
        )
    )
    empty = states.empty or int(states["seats"].sum()) == 0
    apply_layout(
        figure,
        f"Seats by state on the range's last day{_matching(search)}",
        y_title="",
        empty=empty,
        message=NO_SEATS_MATCH,
    )
    figure.update_layout(hovermode="closest", showlegend=False, margin={"l": 240, "r": 60, "t": 60, "b": 40})
    figure.update_xaxes(title_text="Seats", rangemode="tozero")
    return figure


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _day_span(start: int, end: int) -> str:
    """Return the whole days from ``start`` up to but not including ``end`` as text."""
    last = end - 1
    return _days(start) if last == start else f"{start}–{last} days"


def activity_age_figure(
    bins: pd.DataFrame, threshold_days: int, search: str = "", colors: Sequence[str] = PALETTE
) -> go.Figure:
    """Draw seats per bin of days since last activity, with the threshold as a labelled line.

    ``bins`` is the ``activity_age`` frame of the seats view. Each bar spans its bin on the
    day axis, and active and idle bins are separate, named traces with different fills.
    """
    figure = go.Figure()
    threshold = _days(threshold_days)
    groups = ((True, f"Active: under {threshold}"), (False, f"Idle: {threshold} or more"))
    for index, (active, label) in enumerate(groups):
        rows = bins.loc[bins["active"] == active] if not bins.empty else bins
        figure.add_trace(
            go.Bar(
                x=rows["from_days"].astype("int64").tolist(),
                y=float_values(rows["seats"]),
                width=(rows["to_days"] - rows["from_days"]).astype("int64").tolist(),
                offset=0,
                name=label,
                hovertext=[
                    _day_span(int(start), int(end))
                    for start, end in zip(rows["from_days"], rows["to_days"], strict=True)
                ],
                hovertemplate="%{hovertext}: %{y:,} seats<extra>" + label + "</extra>",
                marker={
                    "color": colors[index % len(colors)],
                    "pattern": {"shape": PATTERNS[index]},
                    "line": {"width": 0.5, "color": "white"},
                },
            )
        )
    right = max(int(bins["to_days"].max()) if not bins.empty else 0, threshold_days)
    empty = bins.empty or int(bins["seats"].sum()) == 0
    apply_layout(
        figure,
        f"Days since each seat's last activity{_matching(search)} (seats never used are not drawn)",
        y_title="Seats",
        empty=empty,
        message=NO_SEATS_MATCH if search else NO_SEAT_ACTIVITY,
    )
    # After the layout, which replaces the annotations when the plot is empty.
    figure.add_vline(
        x=threshold_days,
        line={"color": colors[3 % len(colors)], "dash": "dash", "width": 2},
        annotation_text=f"Threshold: {threshold}",
        annotation_position="top right",
    )
    figure.update_layout(barmode="overlay", bargap=0, hovermode="closest")
    figure.update_xaxes(title_text="Days since last activity, on the range's last day", range=[0, right * 1.05 + 1])
    return figure


def idle_cost_figure(idle_cost: pd.DataFrame, search: str = "", colors: Sequence[str] = PALETTE) -> go.Figure:
    """Draw the monthly cost of idle seats per last-activity editor, one stacked bar per plan type.

    ``idle_cost`` is the ``idle_cost`` frame of the seats view. Each bar segment is labelled
    with its cost and seat count; the editor with the highest cost is at the top.
    """
    figure = go.Figure()
    editors: list[str] = []
    if not idle_cost.empty:
        totals = idle_cost.groupby("editor", sort=False)["idle_monthly_cost"].sum().sort_values(kind="stable")
        editors = [str(editor) for editor in totals.index]
    plans = list(dict.fromkeys(idle_cost["plan_type"].astype(str))) if not idle_cost.empty else []
    for index, plan in enumerate(plans):
        rows = idle_cost.loc[idle_cost["plan_type"].astype(str) == plan].set_index("editor").reindex(editors)
        seats = rows["idle_seats"].fillna(0).astype("int64")
        labels = [
            f"${cost:,.0f} ({count:,} {'seat' if count == 1 else 'seats'})" if count else ""
            for cost, count in zip(rows["idle_monthly_cost"], seats, strict=True)
        ]
        figure.add_trace(
            go.Bar(
                y=editors,
                x=float_values(rows["idle_monthly_cost"]),
                orientation="h",
                name=f"Plan: {plan}",
                text=labels,
                textposition="inside",
                insidetextanchor="start",
                customdata=seats.to_numpy(),
                hovertemplate="%{y}: $%{x:,.0f} for %{customdata:,} idle seats<extra>" + plan + "</extra>",
                marker={"color": colors[index % len(colors)], "pattern": {"shape": PATTERNS[index % len(PATTERNS)]}},
            )
        )
    apply_layout(
        figure,
        f"Monthly cost of idle seats by last-activity editor{_matching(search)}",
        y_title="",
        empty=not editors,
        message=NO_IDLE_SEATS,
    )
    figure.update_layout(
        barmode="stack",
        hovermode="closest",
        showlegend=True,
        uniformtext={"minsize": 10, "mode": "hide"},
        height=max(HEIGHT, 120 + 50 * len(editors)),
        margin={"l": 160, "r": 30, "t": 60, "b": 40},
    )
    figure.update_xaxes(title_text="US dollars per month", rangemode="tozero", tickprefix="$")
    return figure
