"""Overview: KPI cards with the change against the previous window, and the series behind them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from copilot_lib import metrics
from copilot_lib.tables import Tables
from copilot_lib.views.filters import Filters
from copilot_lib.views.result import NO_DATA, NO_DATA_IN_RANGE, ViewResult
from copilot_lib.views.selection import (
    Selection,
    active_users_by_period,
    by_period,
    daily_totals,
    distinct_active,
    previous,
    resolve,
    trailing_active,
)

RATIO, COUNT = "ratio", "count"


@dataclass(frozen=True)
class Kpi:
    """One KPI card: the value for the window and for the previous window of equal length."""

    key: str
    label: str
    value: float | None
    previous: float | None
    unit: str = COUNT

    @property
    def delta(self) -> float | None:
        """Value minus previous value (percentage points for ratios); None when either is missing."""
        return metrics.Change(self.value, self.previous).delta

    @property
    def delta_ratio(self) -> float | None:
        """Relative change; None when the previous value is missing or zero."""
        return metrics.Change(self.value, self.previous).delta_ratio


@dataclass
class OverviewView(ViewResult):
    """KPI cards, their table and the per-period series of the overview."""

    since: date | None = None
    until: date | None = None
    source: str = ""
    kpis: list[Kpi] = field(default_factory=list)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    series: pd.DataFrame = field(default_factory=pd.DataFrame)

    def kpi(self, key: str) -> Kpi:
        return next(card for card in self.kpis if card.key == key)


def _last_day_counts(selection: Selection) -> dict[str, float | None]:
    """Return daily, weekly and monthly active users on the window's last selected day.

    These are GitHub's trailing calendar windows (1, 7 and 28 days) ending on that day, so
    excluding weekends only moves the day back to a Friday. GitHub's own counts from the
    entity record are used for one entity. For several, users in more than one of them
    would be counted twice, so the counts come from user rows when there are any.
    """
    prepared = selection.prepared
    empty: dict[str, float | None] = dict.fromkeys(("daily", "weekly", "monthly"))
    selected = np.flatnonzero(selection.day_mask)
    if prepared.days == 0 or len(selected) == 0:
        return empty
    last = int(selected[-1])
    several = int(prepared.entity_present[selection.entity_mask].any(axis=1).sum()) > 1
    if selection.from_entity and not (several and prepared.user_count):
        present = prepared.entity_present[selection.entity_mask, last]
        if not present.any():
            return empty
        names = {"daily": "daily_active_users", "weekly": "weekly_active_users", "monthly": "monthly_active_users"}
        values: dict[str, float | None] = {}
        for key, column in names.items():
            cells = prepared.entity_days[column][selection.entity_mask, last]
            values[key] = None if np.isnan(cells).all() else float(np.nansum(cells))
        return values
    if not prepared.user_present[selection.entity_mask, last].any():
        return empty
    return {
        "daily": trailing_active(selection, last, 1),
        "weekly": trailing_active(selection, last, metrics.WEEK_DAYS),
        "monthly": trailing_active(selection, last, metrics.MONTH_DAYS),
    }


def _sum(frame: pd.DataFrame, column: str) -> float | None:
    value = frame[column].sum(min_count=1) if column in frame else np.nan
    return None if pd.isna(value) else float(value)


def _window_values(selection: Selection, seats: int | None) -> dict[str, float | None]:
    """Compute every KPI for one window."""
    totals = daily_totals(selection)
    counts = _last_day_counts(selection)
    active = distinct_active(selection)
    generations = _sum(totals, metrics.GENERATIONS)
    acceptances = _sum(totals, metrics.ACCEPTANCES)
    return {
        "daily_active_users": counts["daily"],
        "weekly_active_users": counts["weekly"],
        "monthly_active_users": counts["monthly"],
        "active_users": active,
        "seat_adoption": metrics.seat_adoption(active, seats),
        "acceptance_rate": metrics.acceptance_rate(acceptances, generations),
        "interactions": _sum(totals, metrics.INTERACTIONS),
        "code_generations": generations,
        "code_acceptances": acceptances,
        "loc_added": _sum(totals, metrics.LOC_ADDED),
        "loc_deleted": _sum(totals, metrics.LOC_DELETED),
        "agent_adoption": metrics.share_of_active(distinct_active(selection, "used_agent"), active),
        "chat_adoption": metrics.share_of_active(distinct_active(selection, "used_chat"), active),
    }


LABELS = {
    "daily_active_users": ("Daily active users (last day)", COUNT),
    "weekly_active_users": ("Weekly active users (last day)", COUNT),
    "monthly_active_users": ("Monthly active users (last day, 28 days)", COUNT),
    "active_users": ("Distinct active users in range", COUNT),
    "seat_adoption": ("Adoption of assigned seats", RATIO),
    "acceptance_rate": ("Acceptance rate", RATIO),
    "interactions": ("Interactions", COUNT),
    "code_generations": ("Code generations", COUNT),
    "code_acceptances": ("Code acceptances", COUNT),
    "loc_added": ("Lines added", COUNT),
    "loc_deleted": ("Lines deleted", COUNT),
    "agent_adoption": ("Agent adoption (share of active users)", RATIO),
    "chat_adoption": ("Chat adoption (share of active users)", RATIO),
}


def _has_data(selection: Selection) -> bool:
    prepared = selection.prepared
    if not selection.has_days():
        return False
    days = selection.day_mask
    present = (
        prepared.entity_present[selection.entity_mask][:, days].any()
        or prepared.user_present[selection.entity_mask][:, days].any()
    )
    return bool(present)


def series(selection: Selection) -> pd.DataFrame:
    """Return per-period totals, acceptance rate and distinct active users (NaN for gaps)."""
    grain = selection.filters.grain
    frame = by_period(daily_totals(selection), grain)
    if selection.prepared.user_count:
        users = active_users_by_period(selection, grain).rename("active_users")
        frame = frame.merge(users, left_on="period", right_index=True, how="left")
    return frame


def overview(tables: Tables, filters: Filters) -> OverviewView:
    """Compute the overview KPIs for the range and the previous range of equal length.

    Totals come from organisation or enterprise day records when the selected entities have
    them (GitHub's own totals), from user rows otherwise or when a team is selected. A KPI
    is None when its window has no data; its change is None when the previous window has none.
    """
    selection = resolve(tables, filters)
    if selection.prepared.days == 0:
        return OverviewView(missing=NO_DATA)
    if not _has_data(selection):
        return OverviewView(missing=NO_DATA_IN_RANGE.format(since=selection.since, until=selection.until))
    # Each window divides by the seats assigned on its last day, as far as snapshots tell.
    seat_count = metrics.assigned_seats(tables, selection.until)
    current = _window_values(selection, seat_count)
    before_selection = previous(selection)
    before_seats = metrics.assigned_seats(tables, before_selection.until)
    has_before = _has_data(before_selection)
    before = _window_values(before_selection, before_seats) if has_before else dict.fromkeys(current)
    kpis = [Kpi(key, LABELS[key][0], current[key], before[key], LABELS[key][1]) for key in LABELS]
    result = OverviewView(
        since=selection.since,
        until=selection.until,
        source="entity" if selection.from_entity else "users",
        kpis=kpis,
        series=series(selection),
        notes=list(selection.notes),
    )
    result.table = pd.DataFrame(
        {
            "kpi": [card.label for card in kpis],
            "value": [card.value for card in kpis],
            "previous": [card.previous for card in kpis],
            "change": [card.delta for card in kpis],
            "relative_change": [card.delta_ratio for card in kpis],
        }
    )
    if seat_count is not None:
        result.notes.append(_seat_note(tables))
    return result


def _seat_note(tables: Tables) -> str:
    seats = tables.frames["seats"]
    if "day" in seats and seats["day"].nunique() > 1:
        return "Adoption divides by the seats assigned on each window's last day, from the nearest daily seat snapshot."
    return "Adoption divides by the seats of one seat listing in both windows, a snapshot of the day it was taken."
