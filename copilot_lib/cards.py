"""KPI cards as HTML text: each card names the number, shows it and its change.

The change compares the window with the window of equal length just before it, and is
written out as an arrow, a sign and words, so it does not rely on colour.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date

from copilot_lib.views import Kpi
from copilot_lib.views.overview import RATIO


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def value_text(kpi: Kpi) -> str:
    """Format a KPI's value: ratios as percentages, counts as whole numbers."""
    return _percent(kpi.value) if kpi.unit == RATIO else _number(kpi.value)


def change_text(kpi: Kpi) -> str:
    """Describe a KPI's change against the previous window in words.

    Ratios change by percentage points, counts by a relative change, because a relative
    change of a rate reads as a rate itself.
    """
    if kpi.previous is None:
        return "no previous value"
    if kpi.unit == RATIO:
        if kpi.delta is None:
            return "no previous value"
        points = 100 * kpi.delta
        return f"{_arrow(points)} {points:+.1f} points vs previous period"
    ratio = kpi.delta_ratio
    if ratio is None:
        return "no previous value"
    return f"{_arrow(ratio)} {ratio:+.0%} vs previous period"


def _arrow(change: float) -> str:
    """Return the direction of a change as a symbol, so that colour is not its only cue."""
    if change > 0:
        return "▲"
    if change < 0:
        return "▼"
    return "="


def note_text(kpi: Kpi) -> str:
    """Return the small print under a card: what the number is computed from."""
    if kpi.key == "acceptance_rate":
        return "acceptances / generations" if kpi.value is not None else "no code generations in range"
    return ""


def render_kpis(kpis: Sequence[Kpi], since: date | None, until: date | None) -> str:
    """Render the KPI cards as HTML text (not images), one labelled group per card."""
    cards = []
    for kpi in kpis:
        label = html.escape(kpi.label)
        note = note_text(kpi)
        note_html = f'<p class="copilot-kpi-note">{html.escape(note)}</p>' if note else ""
        cards.append(
            f'<div class="copilot-kpi" role="group" aria-label="{label}" data-kpi="{kpi.key}">'
            f'<p class="copilot-kpi-label">{label}</p>'
            f'<p class="copilot-kpi-value">{html.escape(value_text(kpi))}</p>{note_html}'
            f'<p class="copilot-kpi-change">{html.escape(change_text(kpi))}</p></div>'
        )
    summary = f"<p>{since} to {until}.</p>"
    return f'<div class="copilot-kpi-grid">{"".join(cards)}</div>{summary}'
