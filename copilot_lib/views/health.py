"""Data health: which days are present, missing or settling, unknown shares, attribution."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd

from copilot_lib import metrics
from copilot_lib.health import MISSING, PRESENT, SETTLING, SETTLING_DAYS
from copilot_lib.tables import Tables
from copilot_lib.views.breakdowns import breakdown_days
from copilot_lib.views.dimensions import ALL_COUNTERS, CODE_COUNTERS
from copilot_lib.views.filters import Filters
from copilot_lib.views.result import NO_DATA, ViewResult
from copilot_lib.views.selection import Selection, daily_totals, resolve

# (breakdown kind, its dimensions and counters, the dimension checked) whose ``unknown``
# share and attribution are shown, as in copilot_lib.health; both use code generations,
# the one counter every breakdown carries. The dimensions and counters match the breakdown
# views, so all share one coded copy of each table.
BREAKDOWNS = (
    ("by_ide", ("ide",), ALL_COUNTERS, "ide"),
    ("by_feature", ("feature",), ALL_COUNTERS, "feature"),
    ("by_language_feature", ("language", "feature"), CODE_COUNTERS, "language"),
    ("by_language_model", ("language", "model"), CODE_COUNTERS, "language"),
    ("by_model_feature", ("model", "feature"), ALL_COUNTERS, "model"),
)


@dataclass
class HealthView(ViewResult):
    """Day status, unknown shares, attribution shares and dropped duplicates."""

    days: pd.DataFrame = field(default_factory=pd.DataFrame)
    status_counts: pd.DataFrame = field(default_factory=pd.DataFrame)
    unknown_shares: pd.DataFrame = field(default_factory=pd.DataFrame)
    attribution: pd.DataFrame = field(default_factory=pd.DataFrame)
    duplicates: pd.DataFrame = field(default_factory=pd.DataFrame)


def _days(selection: Selection, today: date) -> pd.DataFrame:
    """List every day of the range, including days before or after the data, which are missing."""
    prepared = selection.prepared
    calendar = pd.date_range(selection.since, selection.until, freq="D")
    codes = (calendar - prepared.calendar[0]).days.to_numpy()
    inside = (codes >= 0) & (codes < prepared.days)
    entity = np.zeros(len(calendar), dtype=bool)
    users = np.zeros(len(calendar), dtype=bool)
    if inside.any():
        known = codes[inside]
        entity[inside] = prepared.entity_present[selection.entity_mask][:, known].any(axis=0)
        users[inside] = prepared.user_present[selection.entity_mask][:, known].any(axis=0)
    age = (pd.Timestamp(today) - calendar).days.to_numpy()
    status = np.where(age <= SETTLING_DAYS, SETTLING, np.where(entity | users, PRESENT, MISSING))
    frame = pd.DataFrame({"day": calendar, "status": status, "entity_record": entity, "user_rows": users})
    if selection.filters.exclude_weekends:
        frame = frame.loc[frame["day"].dt.day_of_week < 5]
    return frame.reset_index(drop=True)


def _breakdown_health(tables: Tables, selection: Selection) -> tuple[pd.DataFrame, pd.DataFrame]:
    totals = daily_totals(selection)
    unknown_rows, attribution_rows = [], []
    counter = metrics.GENERATIONS
    for kind, dims, counters, dimension in BREAKDOWNS:
        days = breakdown_days(tables, selection, kind, dims, counters)
        if days is None or days.empty:
            continue
        share = metrics.unknown_share(days, dimension, counter)
        if kind != "by_language_model":  # its language share repeats by_language_feature's
            unknown_rows.append({"dimension": dimension, "counter": counter, "unknown_share": share})
        total = totals[counter].sum(min_count=1)
        attributed = metrics.attribution_share(float(days[counter].sum()), None if pd.isna(total) else float(total))
        attribution_rows.append({"breakdown": f"totals_{kind}", "counter": counter, "attributed_share": attributed})
    return pd.DataFrame(unknown_rows), pd.DataFrame(attribution_rows)


def health(tables: Tables, filters: Filters, today: date | None = None) -> HealthView:
    """Describe how complete and attributable the data in the range is.

    A day is ``settling`` while fewer than three full UTC days have passed since it ended,
    as in copilot_lib.health (``today`` defaults to the current UTC day). The unknown share
    is the part of a breakdown's code generations filed under ``unknown``. The attributed
    share is the breakdown's sum over the totals, which can be below 1 because server-side
    telemetry finds activity client telemetry cannot attribute. Model breakdowns cover chat
    and agent only, so their attributed share is below 1 by design.
    ``hide_unknown`` does not apply here.
    """
    selection = resolve(tables, replace(filters, hide_unknown=False))
    if selection.prepared.days == 0:
        return HealthView(missing=NO_DATA)
    result = HealthView(notes=list(selection.notes))
    result.days = _days(selection, today or datetime.now(UTC).date())
    result.status_counts = result.days["status"].value_counts().rename_axis("status").reset_index(name="days")
    result.unknown_shares, result.attribution = _breakdown_health(tables, selection)
    dropped = getattr(tables, "duplicates_dropped", {}) or {}
    result.duplicates = pd.DataFrame({"table": list(dropped), "rows_dropped": list(dropped.values())})
    return result
