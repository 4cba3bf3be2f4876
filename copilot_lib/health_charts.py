"""Plotly figure builders for the Data health tab, from the frames of :func:`copilot_lib.views.health`.

Shares are drawn in percent, with the value written next to each bar. A share that cannot
be computed, because the breakdown has no activity, gets no bar and reads n/a in the chart's
table, so it is never drawn as a zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from copilot_lib.charts import PALETTE, PATTERNS, apply_layout, float_values
from copilot_lib.health import MISSING, PRESENT, SETTLING

# Status, legend label and fill of each bar of the day strip. A missing day is a full bar
# with its own name and fill, so it stays visible and is never read as a day of zeros.
DAY_STATUSES = (
    (PRESENT, "Present", PATTERNS[0]),
    (MISSING, "Missing: no report covers the day", PATTERNS[2]),
    (SETTLING, "Settling: GitHub may still revise it", PATTERNS[1]),
)
STRIP_HEIGHT = 240
# The breakdowns of the attribution frame, as named in the chart.
BREAKDOWN_LABELS = {
    "totals_by_ide": "IDE",
    "totals_by_feature": "Feature",
    "totals_by_language_feature": "Language and feature",
    "totals_by_language_model": "Language and model (chat and agent only)",
    "totals_by_model_feature": "Model and feature (chat and agent only)",
}


def day_status_figure(days: pd.DataFrame, colors: Sequence[str] = PALETTE) -> go.Figure:
    """Draw one full-height bar per day of the range, one named trace per status.

    ``days`` is the ``days`` frame of the health view: ``day`` and ``status``.
    """
    figure = go.Figure()
    for index, (status, label, pattern) in enumerate(DAY_STATUSES):
        rows = days.loc[days["status"] == status] if not days.empty else days
        figure.add_trace(
            go.Bar(
                x=rows["day"].tolist() if "day" in rows else [],
                y=[1] * len(rows),
                name=label,
                text=[status] * len(rows),
                textposition="inside",
                textangle=-90,
                marker={"color": colors[index % len(colors)], "pattern": {"shape": pattern}},
                hovertemplate="%{x|%Y-%m-%d}: " + status + "<extra></extra>",
            )
        )
    apply_layout(figure, "Status of each day in the range", y_title="", empty=days.empty)
    figure.update_layout(
        height=STRIP_HEIGHT,
        bargap=0.1,
        hovermode="closest",
        uniformtext={"minsize": 9, "mode": "hide"},
    )
    figure.update_yaxes(visible=False, range=[0, 1])
    figure.update_xaxes(title_text="Day (UTC)")
    return figure


def _share_bars(
    labels: list[str], shares: pd.Series, title: str, name: str, colors: Sequence[str], x_max: float
) -> go.Figure:
    """Draw ``shares`` (fractions, NaN for none) as labelled horizontal bars in percent."""
    percent = float_values(shares) * 100
    figure = go.Figure(
        go.Bar(
            y=labels[::-1],
            x=percent[::-1],
            orientation="h",
            name=name,
            text=["n/a" if pd.isna(value) else f"{value:.1f}%" for value in percent[::-1]],
            textposition="outside",
            cliponaxis=False,
            marker={"color": colors[0], "pattern": {"shape": PATTERNS[0]}},
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    apply_layout(figure, title, y_title="", empty=not labels)
    figure.update_layout(hovermode="closest", showlegend=False, margin={"l": 300, "r": 60, "t": 60, "b": 40})
    figure.update_xaxes(title_text=name, range=[0, x_max], ticksuffix="%")
    return figure


def unknown_share_figure(unknown_shares: pd.DataFrame, colors: Sequence[str] = PALETTE) -> go.Figure:
    """Draw the share of code generations filed under ``unknown``, one bar per dimension.

    ``unknown_shares`` is the ``unknown_shares`` frame of the health view.
    """
    labels = unknown_shares["dimension"].astype(str).tolist() if not unknown_shares.empty else []
    shares = unknown_shares["unknown_share"] if not unknown_shares.empty else pd.Series(dtype="float64")
    return _share_bars(
        labels,
        shares,
        "Share of code generations filed under unknown, per dimension",
        "Share filed under unknown",
        colors,
        x_max=110,
    )


def attribution_figure(attribution: pd.DataFrame, colors: Sequence[str] = PALETTE) -> go.Figure:
    """Draw the share of the totals each breakdown accounts for, with 100% marked.

    ``attribution`` is the ``attribution`` frame of the health view. A breakdown can account
    for more than the totals, so the axis grows past 100% when one does.
    """
    if attribution.empty:
        labels: list[str] = []
        shares = pd.Series(dtype="float64")
    else:
        labels = [BREAKDOWN_LABELS.get(name, name) for name in attribution["breakdown"].astype(str)]
        shares = attribution["attributed_share"]
    largest = float(pd.to_numeric(shares, errors="coerce").max()) * 100 if len(shares) else 0.0
    x_max = max(120.0, largest * 1.15) if not pd.isna(largest) else 120.0
    figure = _share_bars(
        labels,
        shares,
        "Share of the totals' code generations each breakdown accounts for",
        "Share of the totals",
        colors,
        x_max=x_max,
    )
    figure.add_vline(
        x=100,
        line={"color": colors[3 % len(colors)], "dash": "dash", "width": 2},
        annotation_text="Totals: 100%",
        annotation_position="top",
    )
    return figure
