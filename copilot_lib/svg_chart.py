"""Draw a dashboard figure's line and bar traces as a static SVG image, without plotly.js.

The page's preview (see :mod:`copilot_lib.preview`) shows the first tab's charts before
the browser has loaded any JavaScript. Loading plotly.js for it would take the browser's
main thread while Voilà loads its own modules, and delayed the widgets by about a second
when tried. So the preview draws the same traces as SVG on the server. It draws bars
grouped per x value with their fill patterns, lines with their dashes and marker shapes,
gaps where a value is missing, a left y axis from zero, the right-hand acceptance-rate
axis, the legend and the title. Hover labels,
zoom and the PNG download come with the interactive chart that replaces the preview.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from copilot_lib import charts

WIDTH = 1200
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 70, 70, 70, 50
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
TEXT_COLOR = "#2a3f5f"
GRID_COLOR = "#e5ecf6"
AXIS_TICKS = 5
# Room above the largest value, as a factor, so that the highest bar or point is not cut.
PADDING = 1.05
X_TICKS = 6
DASH_ARRAYS = {"dash": "9 5", "dot": "3 4", "dashdot": "9 4 3 4", "longdash": "14 6"}
# Share of an x slot that a group of bars fills.
BAR_GROUP_WIDTH = 0.8
# Width in pixels of one legend character, for laying the legend out without a font.
CHAR_WIDTH = 7.5


@dataclass
class _Frame:
    """The plot area and the scales of one chart."""

    left: float
    right: float
    top: float
    bottom: float
    x_values: list[Any]
    x_numbers: np.ndarray
    x_low: float
    x_high: float
    slot: float

    def x(self, number: float) -> float:
        if self.x_high == self.x_low:
            return (self.left + self.right) / 2
        return self.left + (number - self.x_low) / (self.x_high - self.x_low) * (self.right - self.left)

    def y(self, value: float, low: float, high: float) -> float:
        return self.bottom - (value - low) / (high - low) * (self.bottom - self.top)


def figure_svg(figure: go.Figure, element_id: str, width: int = WIDTH) -> str:
    """Return ``figure``'s bar and line traces as an ``<svg>`` element labelled by its title."""
    layout = figure.layout
    height = int(layout.height or charts.HEIGHT)
    title = layout.title.text or ""
    traces = [trace for trace in figure.data if trace.type in ("bar", "scatter")]
    frame = _frame(traces, width, height)
    left_traces = [trace for trace in traces if (trace.yaxis or "y") == "y"]
    right_traces = [trace for trace in traces if trace.yaxis == "y2"]
    left = _axis(left_traces)
    right = _axis(right_traces, layout.yaxis2) if right_traces else left

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{element_id}-title" style="width:100%;height:auto;font-family:{html.escape(FONT)}">',
        f'<title id="{element_id}-title">Chart: {html.escape(title)}</title>',
        _patterns(traces, element_id),
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
        f'<text x="10" y="28" font-size="17" fill="{TEXT_COLOR}">{html.escape(title)}</text>',
        _y_axis(frame, left, layout.yaxis.title.text, right=False),
    ]
    if right_traces:
        parts.append(_y_axis(frame, right, layout.yaxis2.title.text, right=True))
    parts.append(_x_axis(frame))
    bars = [trace for trace in traces if trace.type == "bar"]
    for index, trace in enumerate(bars):
        axis = right if trace.yaxis == "y2" else left
        pattern = f"{element_id}-pattern-{traces.index(trace)}"
        parts.append(_bars(frame, trace, index, len(bars), axis.low, axis.high, pattern))
    for trace in traces:
        if trace.type == "scatter":
            axis = right if trace.yaxis == "y2" else left
            parts.append(_line(frame, trace, axis.low, axis.high))
    # Plotly draws a legend only for more than one trace, unless the layout sets showlegend.
    if len(traces) > 1 or layout.showlegend:
        parts.append(_legend(traces, width, element_id))
    for note in layout.annotations or ():
        parts.append(
            f'<text x="{(frame.left + frame.right) / 2}" y="{(frame.top + frame.bottom) / 2}" '
            f'text-anchor="middle" font-size="15" fill="{TEXT_COLOR}">{html.escape(note.text or "")}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _x_numbers(values: Sequence[Any]) -> tuple[np.ndarray, bool]:
    """Return x values as numbers (nanoseconds for dates, else positions) and whether they are dates."""
    series = pd.Series(list(values), dtype="object")
    if len(series) and not series.map(lambda value: isinstance(value, str | int | float)).all():
        times = pd.to_datetime(series, errors="coerce")
        if times.notna().all():
            return times.to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64"), True
    return np.arange(len(series), dtype="float64"), False


def _frame(traces: Sequence[Any], width: int, height: int) -> _Frame:
    seen: dict[Any, None] = {}
    for trace in traces:
        for value in trace.x if trace.x is not None else ():
            seen.setdefault(pd.Timestamp(value) if isinstance(value, np.datetime64) else value, None)
    values = list(seen)
    numbers, dates = _x_numbers(values)
    if dates:
        order = np.argsort(numbers, kind="stable")
        values = [values[position] for position in order]
        numbers = numbers[order]
    gaps = np.diff(numbers)
    slot = float(gaps[gaps > 0].min()) if (gaps > 0).any() else 1.0
    low = float(numbers.min()) - slot / 2 if len(numbers) else 0.0
    high = float(numbers.max()) + slot / 2 if len(numbers) else 1.0
    return _Frame(
        left=MARGIN_LEFT,
        right=width - MARGIN_RIGHT,
        top=MARGIN_TOP,
        bottom=height - MARGIN_BOTTOM,
        x_values=values,
        x_numbers=numbers,
        x_low=low,
        x_high=high,
        slot=slot,
    )


@dataclass
class _Axis:
    """A y axis: its range, the distance between ticks and the text after each tick label."""

    low: float
    high: float
    step: float
    suffix: str = ""


def _axis(traces: Sequence[Any], layout_axis: Any = None) -> _Axis:
    """Return a y axis from zero to just above every value, or the range ``layout_axis`` fixes.

    Like Plotly's autorange, the top has some room above the largest value and is not
    rounded up to a tick.
    """
    suffix = (layout_axis.ticksuffix or "") if layout_axis is not None else ""
    if layout_axis is not None and layout_axis.range:
        low, high = (float(value) for value in layout_axis.range)
        return _Axis(low, high, float(layout_axis.dtick or _step(high - low)), suffix)
    values = [np.asarray(trace.y, dtype="float64") for trace in traces if trace.y is not None and len(trace.y)]
    top = max((float(np.nanmax(array)) for array in values if np.isfinite(array).any()), default=0.0)
    high = top * PADDING if top > 0 else 1.0
    return _Axis(0.0, high, _step(high), suffix)


def _step(span: float) -> float:
    """Return a tick step of 1, 2 or 5 times a power of ten that splits ``span`` into about ``AXIS_TICKS`` parts."""
    if span <= 0:
        return 1.0
    raw = span / AXIS_TICKS
    power = 10 ** math.floor(math.log10(raw))
    return next(factor * power for factor in (1, 2, 5, 10) if factor * power >= raw)


def _number_text(value: float) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if abs(value) >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def _y_axis(frame: _Frame, axis: _Axis, title: str | None, *, right: bool) -> str:
    parts = []
    tick = axis.low
    while tick <= axis.high + axis.step / 1000:
        y = frame.y(tick, axis.low, axis.high)
        if not right:
            parts.append(
                f'<line x1="{frame.left}" x2="{frame.right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID_COLOR}"/>'
            )
        x, anchor = (frame.right + 6, "start") if right else (frame.left - 6, "end")
        label = html.escape(_number_text(tick) + axis.suffix)
        parts.append(
            f'<text x="{x}" y="{y + 4:.1f}" text-anchor="{anchor}" font-size="12" fill="{TEXT_COLOR}">{label}</text>'
        )
        tick += axis.step
    if title:
        x = frame.right + 55 if right else frame.left - 52
        middle = (frame.top + frame.bottom) / 2
        parts.append(
            f'<text transform="translate({x},{middle:.1f}) rotate(-90)" text-anchor="middle" '
            f'font-size="13" fill="{TEXT_COLOR}">{html.escape(title)}</text>'
        )
    return "".join(parts)


def _x_axis(frame: _Frame) -> str:
    count = len(frame.x_values)
    if not count:
        return ""
    every = max(1, math.ceil(count / X_TICKS))
    parts = []
    year = None
    for position in range(0, count, every):
        value = frame.x_values[position]
        x = frame.x(float(frame.x_numbers[position]))
        # Dates read as Plotly writes them: "Nov 8", with the year below the first one of a year.
        year_line = ""
        if isinstance(value, pd.Timestamp):
            label = f"{value:%b} {value.day}"
            if value.year != year:
                year = value.year
                year_line = f'<tspan x="{x:.1f}" dy="15">{year}</tspan>'
        else:
            label = str(value)
        parts.append(
            f'<text x="{x:.1f}" y="{frame.bottom + 20}" text-anchor="middle" font-size="12" '
            f'fill="{TEXT_COLOR}">{html.escape(label)}{year_line}</text>'
        )
    return "".join(parts)


def _positions(frame: _Frame, xs: Sequence[Any]) -> np.ndarray:
    lookup = {value: number for value, number in zip(frame.x_values, frame.x_numbers, strict=True)}
    keys = [pd.Timestamp(value) if isinstance(value, np.datetime64) else value for value in xs]
    return np.array([lookup[key] for key in keys], dtype="float64")


def _color(trace: Any, part: str) -> str:
    color = getattr(getattr(trace, part, None), "color", None)
    return color if isinstance(color, str) else charts.PALETTE[0]


def _patterns(traces: Sequence[Any], element_id: str) -> str:
    """Return SVG pattern definitions for bar traces drawn with a fill pattern."""
    definitions = []
    for index, trace in enumerate(traces):
        shape = trace.marker.pattern.shape if trace.type == "bar" else None
        if not shape:
            continue
        strokes = {"/": "M0,8 L8,0", "\\": "M0,0 L8,8", "x": "M0,8 L8,0 M0,0 L8,8", "-": "M0,4 L8,4", "|": "M4,0 L4,8"}
        path = strokes.get(shape, "M0,8 L8,0")
        definitions.append(
            f'<pattern id="{element_id}-pattern-{index}" width="8" height="8" patternUnits="userSpaceOnUse">'
            f'<rect width="8" height="8" fill="{_color(trace, "marker")}"/>'
            f'<path d="{path}" stroke="#fff" stroke-width="1.5"/></pattern>'
        )
    return f"<defs>{''.join(definitions)}</defs>" if definitions else ""


def _bars(frame: _Frame, trace: Any, index: int, count: int, low: float, high: float, pattern: str) -> str:
    if trace.x is None or trace.y is None:
        return ""
    centres = _positions(frame, trace.x)
    values = np.asarray(trace.y, dtype="float64")
    span = frame.x(frame.x_low + frame.slot) - frame.x(frame.x_low)
    width = span * BAR_GROUP_WIDTH / count
    fill = f"url(#{pattern})" if trace.marker.pattern.shape else _color(trace, "marker")
    zero = frame.y(max(low, 0.0), low, high)
    commands = []
    for centre, value in zip(centres, values, strict=True):
        if not np.isfinite(value):
            continue
        x = frame.x(centre) - span * BAR_GROUP_WIDTH / 2 + index * width
        top = frame.y(value, low, high)
        commands.append(f"M{x:.1f},{zero:.1f}V{top:.1f}H{x + width:.1f}V{zero:.1f}Z")
    return f'<g class="trace bars"><path d="{"".join(commands)}" fill="{fill}"/></g>'


def _line(frame: _Frame, trace: Any, low: float, high: float) -> str:
    if trace.x is None or trace.y is None:
        return ""
    xs = [frame.x(number) for number in _positions(frame, trace.x)]
    values = np.asarray(trace.y, dtype="float64")
    color = _color(trace, "line") if trace.line.color else _color(trace, "marker")
    commands = []
    markers = []
    pen_down = False
    mode = trace.mode or "lines"
    for x, value in zip(xs, values, strict=True):
        if not np.isfinite(value):
            pen_down = False
            continue
        y = frame.y(value, low, high)
        commands.append(f"{'L' if pen_down else 'M'}{x:.1f},{y:.1f}")
        pen_down = True
        if "markers" in mode:
            markers.append(_marker(trace.marker.symbol, x, y, color))
    dash = DASH_ARRAYS.get(trace.line.dash or "", "")
    dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
    width = trace.line.width or 2
    line = (
        f'<path d="{"".join(commands)}" fill="none" stroke="{color}" stroke-width="{width}"{dash_attribute}/>'
        if "lines" in mode
        else ""
    )
    return f'<g class="trace lines">{line}{"".join(markers)}</g>'


def _marker(symbol: str | None, x: float, y: float, color: str, size: float = 3.5) -> str:
    if symbol == "square":
        return f'<rect x="{x - size:.1f}" y="{y - size:.1f}" width="{2 * size}" height="{2 * size}" fill="{color}"/>'
    if symbol == "diamond":
        reach = size + 1
        corners = ((x, y - reach), (x + reach, y), (x, y + reach), (x - reach, y))
        points = " ".join(f"{corner_x:.1f},{corner_y:.1f}" for corner_x, corner_y in corners)
        return f'<polygon points="{points}" fill="{color}"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size}" fill="{color}"/>'


def _legend(traces: Sequence[Any], width: int, element_id: str) -> str:
    """Lay the trace names out in one row ending at the right edge, above the plot."""
    entries = [(index, trace) for index, trace in enumerate(traces) if trace.name and trace.showlegend is not False]
    sizes = [30 + CHAR_WIDTH * len(trace.name) + 16 for _, trace in entries]
    x = width - MARGIN_RIGHT - sum(sizes)
    y = MARGIN_TOP - 16
    parts = []
    for (index, trace), size in zip(entries, sizes, strict=True):
        if trace.type == "bar":
            fill = f"url(#{element_id}-pattern-{index})" if trace.marker.pattern.shape else _color(trace, "marker")
            swatch = f'<rect x="{x:.1f}" y="{y - 6}" width="22" height="12" fill="{fill}"/>'
        else:
            color = _color(trace, "line") if trace.line.color else _color(trace, "marker")
            dash = DASH_ARRAYS.get(trace.line.dash or "", "")
            dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
            swatch = (
                f'<line x1="{x:.1f}" x2="{x + 22:.1f}" y1="{y}" y2="{y}" stroke="{color}" '
                f'stroke-width="2"{dash_attribute}/>'
            )
            if "markers" in (trace.mode or ""):
                swatch += _marker(trace.marker.symbol, x + 11, y, color)
        name = html.escape(trace.name)
        parts.append(f'{swatch}<text x="{x + 28:.1f}" y="{y + 4}" font-size="12.5" fill="{TEXT_COLOR}">{name}</text>')
        x += size
    return "".join(parts)
