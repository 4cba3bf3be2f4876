"""A static preview of the dashboard's first tab, shown while the page connects to its kernel.

Voilà draws widgets only after JupyterLab's modules have loaded in the browser and the
kernel has sent every widget's state, which takes seconds. The preview is plain HTML
carried by a notebook output that the "copilot" page template writes into the page
itself: the header, the Overview's KPI cards and its charts as SVG images (see
:mod:`copilot_lib.svg_chart`), so the browser paints it without running any JavaScript
of its own. The page removes the preview as soon as the dashboard's own first chart
is drawn, so the viewer sees the numbers early and the interactive page a moment later.

The preview is made only in a kernel that Voilà started (``VOILA_PREHEAT`` is set), never
in JupyterLab, where the output would stay under the notebook cell.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from IPython.display import display

from copilot_lib import svg_chart, tabs

if TYPE_CHECKING:
    from copilot_lib.app import Dashboard

logger = logging.getLogger(__name__)

# The output metadata key the page template looks for.
METADATA_KEY = "copilot-dashboard/preview"
ELEMENT_ID = "copilot-preview"
# Voilà sets this variable in every kernel it starts. It is "True" in a pool kernel, which
# Voilà starts ahead of page loads and runs the notebook in. It is "False" in a kernel
# started for one page load, as when preheating is off.
VOILA_PREHEAT = "VOILA_PREHEAT"
# How long a pool kernel waits for the data before it finishes the notebook without a
# preview. A page load that takes the pool kernel early waits for the notebook to finish,
# so the wait is bounded. A 10,000-user year of demo data loads in about 25 s.
WAIT_SECONDS = 300.0


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Return True when the notebook runs in a pool kernel of Voilà, which shows the preview.

    A kernel started for a page load does not wait for the data. Its page appears only once
    the notebook has run, so the wait would delay the widgets. It would also bring the
    first chart forward by less than that delay.
    """
    return (os.environ if environ is None else environ).get(VOILA_PREHEAT) == "True"


def preview_html(dashboard: Dashboard) -> str | None:
    """Return the preview of ``dashboard``'s first tab, or None when it has nothing drawn."""
    view = dashboard.first_view()
    if view is None or view.result is None or not view.result.ok:
        return None
    figures = [(name, panel.chart.figure) for name, panel in view.panels.items() if panel.chart.figure is not None]
    if not figures:
        return None
    parts = [
        dashboard.header.value,
        f'<div class="{" ".join(dashboard.banner._dom_classes)}">{dashboard.banner.value}</div>',
        '<p role="status" class="copilot-preview-status">'
        "Showing a preview of the Overview. The controls and the other tabs appear in a moment.</p>",
        f"<h2>{html.escape(view.title)}</h2>",
        view.message.value,
    ]
    if isinstance(view, tabs.OverviewView):
        parts.append(f'<div class="copilot-kpis">{view.kpis.value}</div>')
    for name, figure in figures:
        svg = svg_chart.figure_svg(figure, f"{ELEMENT_ID}-{name}")
        parts.append(f'<div class="copilot-preview-chart copilot-preview-chart-{name}">{svg}</div>')
    body = "".join(parts)
    return f'<div id="{ELEMENT_ID}" class="copilot-preview">{body}</div>'


def show_preview(dashboard: Dashboard) -> bool:
    """Display the preview of ``dashboard`` for the page template; return False if there is none."""
    markup = preview_html(dashboard)
    if markup is None:
        return False
    display({"text/html": markup}, raw=True, metadata={METADATA_KEY: True})
    return True
