"""KPI cards as HTML text: each card names the number, shows it and its change.

The change compares the window with the window of equal length just before it, and is
written out as an arrow, a sign and words, so it does not rely on colour.
"""

from __future__ import annotations

import html

from copilot_lib import metrics, summaries


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


def change_text(key: str, current: metrics.Kpis, previous: metrics.Kpis | None) -> str:
    """Describe the change of KPI ``key`` against the previous window, in words."""
    if previous is None:
        return ""
    now, before = getattr(current, key), getattr(previous, key)
    if key == "acceptance_rate":
        if now is None or before is None:
            return "no previous value"
        points = 100 * (now - before)
        arrow = "▲" if points > 0 else "▼" if points < 0 else "="
        return f"{arrow} {points:+.1f} points vs previous period"
    change = summaries.relative_change(now, before)
    if change is None:
        return "no previous value"
    arrow = "▲" if change > 0 else "▼" if change < 0 else "="
    return f"{arrow} {change:+.0%} vs previous period"


def render_kpis(values: metrics.Kpis, previous: metrics.Kpis | None = None) -> str:
    """Render the KPI cards as HTML text (not images), one labelled group per card."""
    cards = []
    for key, label, text, note in kpi_cards(values):
        change = change_text(key, values, previous)
        change_html = f'<p class="copilot-kpi-change">{html.escape(change)}</p>' if change else ""
        cards.append(
            f'<div class="copilot-kpi" role="group" aria-label="{html.escape(label)}"'
            f' data-kpi="{key}">'
            f'<p class="copilot-kpi-label">{html.escape(label)}</p>'
            f'<p class="copilot-kpi-value">{html.escape(text)}</p>'
            f'<p class="copilot-kpi-note">{html.escape(note)}</p>{change_html}</div>'
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
