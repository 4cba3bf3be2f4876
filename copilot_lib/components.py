"""Widgets the dashboard's views are made of: a chart, a table with CSV download, both.

A chart is an ``Output`` widget whose outputs are replaced by a complete Plotly mime bundle,
drawn by the Plotly renderer that JupyterLab and Voilà already load. A ``go.FigureWidget``
would also work, but each one carries plotly.js (about 5 MB with plotly 7.1) in its widget
state, which made the first page load several times slower.
"""

from __future__ import annotations

import base64
import html
import json
import re

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go

PLOTLY_MIME = "application/vnd.plotly.v1+json"
PLOTLY_CONFIG = {"displaylogo": False}
# Rows drawn in a page table. The CSV download contains every row.
TABLE_ROWS = 50


class Chart:
    """A Plotly figure on the page; :meth:`show` replaces it in one message."""

    def __init__(self, name: str, figure: go.Figure | None = None):
        self.name = name
        self.output = widgets.Output(layout=widgets.Layout(width="100%"))
        self.output.add_class("copilot-chart")
        self.output.add_class(f"copilot-chart-{name}")
        self.figure = figure
        if figure is not None:
            self.show(figure)

    def show(self, figure: go.Figure) -> None:
        """Replace the drawn figure with ``figure``."""
        self.figure = figure
        spec = json.loads(figure.to_json())
        spec["config"] = PLOTLY_CONFIG
        title = figure.layout.title.text or self.name
        bundle = {PLOTLY_MIME: spec, "text/plain": f"Chart: {title}"}
        self.output.outputs = ({"output_type": "display_data", "data": bundle, "metadata": {}},)


def slug(text: str) -> str:
    """Return ``text`` as a lower-case file-name stem of letters, digits and hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "table"


def csv_link(frame: pd.DataFrame, name: str) -> str:
    """Return an HTML link that downloads ``frame`` as ``<name>.csv`` from the page itself."""
    payload = base64.b64encode(frame.to_csv(index=False).encode("utf-8")).decode("ascii")
    filename = f"{slug(name)}.csv"
    return (
        f'<a class="copilot-csv" download="{filename}" '
        f'href="data:text/csv;charset=utf-8;base64,{payload}">Download {html.escape(filename)}</a>'
    )


def cell_text(value: object, identifier: bool = False) -> str:
    """Return a table cell's text: whole numbers without decimals, n/a for missing values.

    Identifiers keep their digits without thousands separators.
    """
    if value is None or (not isinstance(value, str | list | tuple | dict) and bool(pd.isna(value))):
        return "n/a"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        value = int(value)
    if isinstance(value, int | np.integer):
        return str(value) if identifier else f"{value:,}"
    if isinstance(value, float | np.floating):
        number = float(value)
        return f"{number:,.1f}" if abs(number) >= 10 else f"{number:.3g}"
    return str(value)


def table_html(frame: pd.DataFrame, caption: str, rows: int = TABLE_ROWS) -> str:
    """Render the first ``rows`` rows of ``frame`` as an HTML table with a caption."""
    shown = frame.head(rows)
    formatted = shown.copy()
    for column in formatted.columns:
        if pd.api.types.is_datetime64_any_dtype(formatted[column]):
            formatted[column] = formatted[column].dt.strftime("%Y-%m-%d")
        elif column.endswith("rate") or column.endswith("share"):
            formatted[column] = formatted[column].map(lambda v: "n/a" if pd.isna(v) else f"{v:.1%}")
        else:
            identifier = column == "id" or column.endswith("_id")
            formatted[column] = formatted[column].astype(object).map(lambda v, i=identifier: cell_text(v, i))
    body = formatted.to_html(index=False, na_rep="n/a", border=0, classes="copilot-table-grid", escape=True)
    more = f" (first {rows} of {len(frame)} rows; the CSV has all)" if len(frame) > rows else ""
    opening = f'<table class="copilot-table-grid"><caption>{html.escape(caption)}{more}</caption>'
    return re.sub(r"<table[^>]*>", lambda _match: opening, body, count=1)


class Table:
    """A titled table of a frame with a link that downloads the whole frame as CSV."""

    def __init__(self, name: str, caption: str):
        self.name = name
        self.caption = caption
        self.frame = pd.DataFrame()
        self.html = widgets.HTML()
        self.html.add_class("copilot-table")
        self.html.add_class(f"copilot-table-{name}")

    def show(self, frame: pd.DataFrame) -> None:
        """Replace the table's rows with ``frame``."""
        self.frame = frame
        if frame.empty:
            self.html.value = f"<p>{html.escape(self.caption)}: no rows for the current controls.</p>"
            return
        self.html.value = f"{csv_link(frame, self.name)}{table_html(frame, self.caption)}"


class ChartWithTable:
    """A chart, and the numbers it draws as a table behind a "Show table" toggle."""

    def __init__(self, name: str, caption: str):
        self.chart = Chart(name)
        self.table = Table(name, caption)
        self.toggle = widgets.ToggleButton(
            value=False,
            description="Show table",
            tooltip=f"Show the numbers of the chart '{caption}' as a table",
        )
        self.toggle.add_class("copilot-table-toggle")
        self.toggle.observe(self._on_toggle, names="value")
        self.table.html.layout.display = "none"
        self.widget = widgets.VBox(
            [self.chart.output, self.toggle, self.table.html], layout=widgets.Layout(width="100%")
        )

    def _on_toggle(self, change: dict[str, object]) -> None:
        shown = bool(change["new"])
        self.toggle.description = "Hide table" if shown else "Show table"
        self.table.html.layout.display = None if shown else "none"

    def show(self, figure: go.Figure, frame: pd.DataFrame) -> None:
        """Draw ``figure`` and put ``frame``, the numbers it draws, in the table."""
        self.chart.show(figure)
        self.table.show(frame)
