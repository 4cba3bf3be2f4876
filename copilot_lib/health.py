"""Data health: how complete and how well attributed the loaded tables are.

Four checks, each computed from the tables alone:

* each day of the range is ``present``, ``missing`` or ``settling``. GitHub completes a
  day's data within two to three full UTC days after the day ends (its docs give both),
  so a day is settling while fewer than three full UTC days have passed since it ended,
  present or not;
* the share of activity in ``unknown`` values of each breakdown dimension;
* the share of the top-level activity that each breakdown attributes: IDE and model
  breakdowns often cover less than the totals;
* the repeated records dropped while loading, and the records skipped as unusable.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from copilot_lib import config, metrics
from copilot_lib.schema import UNKNOWN
from copilot_lib.tables import Tables

logger = logging.getLogger(__name__)

SETTLING_DAYS = config.SETTLING_DAYS
PRESENT, MISSING, SETTLING = "present", "missing", "settling"
DIMENSION_TABLES = {
    "ide": ("entity_by_ide", "user_by_ide"),
    "feature": ("entity_by_feature", "user_by_feature"),
    "language": ("entity_by_language_feature", "user_by_language_feature"),
    "model": ("entity_by_model_feature", "user_by_model_feature"),
}
ATTRIBUTION_TABLES = (
    "by_ide",
    "by_feature",
    "by_language_feature",
    "by_language_model",
    "by_model_feature",
)


def utc_today() -> date:
    """Return today's date in UTC, the time zone GitHub's report days use."""
    return datetime.now(UTC).date()


def is_settling(day: date, today: date) -> bool:
    """Return True while fewer than three full UTC days have passed since ``day`` ended.

    Day D ends at midnight starting D+1; three full days later is midnight starting D+4,
    so D settles on D+1 to D+3 and is final from D+4.
    """
    return (today - day).days <= SETTLING_DAYS


def day_status(
    tables: Tables,
    since: date | None = None,
    until: date | None = None,
    *,
    today: date | None = None,
    scope: str | None = None,
    entity_id: str | None = None,
) -> pd.DataFrame:
    """Return one row per day of the range: ``day``, ``present`` and ``status``.

    A day is present when the selection's entity records (or, without any, its user rows)
    hold it. ``today`` defaults to the current UTC date and exists so tests can fix it.
    """
    today = today or utc_today()
    view = metrics.select(tables, scope, entity_id)
    source = view.entity_daily if not view.entity_daily.empty else view.user_daily
    start, end = metrics.data_range(view)
    start, end = since or start, until or end
    if start is None or end is None:
        return pd.DataFrame({"day": pd.Series([], dtype="datetime64[ns]"), "present": [], "status": []})
    days = pd.date_range(start, end, freq="D").astype("datetime64[ns]")
    present = days.isin(pd.DatetimeIndex(source["day"].unique()))
    statuses = [_status(day.date(), bool(found), today) for day, found in zip(days, present, strict=True)]
    return pd.DataFrame({"day": days, "present": present, "status": statuses})


def _status(day: date, found: bool, today: date) -> str:
    if is_settling(day, today):
        return SETTLING
    return PRESENT if found else MISSING


def unknown_shares(
    tables: Tables,
    since: date | None = None,
    until: date | None = None,
    *,
    scope: str | None = None,
    entity_id: str | None = None,
) -> dict[str, float | None]:
    """Return, per dimension, the share of generated code attributed to ``unknown``.

    The share uses ``code_generation_activity_count`` (the one counter every breakdown
    carries), from entity breakdowns when present, else user breakdowns. None when the
    dimension has no activity.
    """
    view = metrics.select(tables, scope, entity_id)
    result: dict[str, float | None] = {}
    for dimension, names in DIMENSION_TABLES.items():
        frame = _first_nonempty(view, names)
        rows = metrics.window(frame, since, until) if frame is not None else None
        if rows is None or rows.empty:
            result[dimension] = None
            continue
        total = rows[metrics.GENERATIONS].fillna(0).sum()
        unknown = rows.loc[rows[dimension] == UNKNOWN, metrics.GENERATIONS].fillna(0).sum()
        result[dimension] = float(unknown / total) if total else None
    return result


def _first_nonempty(view: Tables, names: tuple[str, ...]) -> pd.DataFrame | None:
    for name in names:
        frame = view.frames.get(name)
        if frame is not None and not frame.empty:
            return frame
    return None


def attribution_shares(
    tables: Tables,
    since: date | None = None,
    until: date | None = None,
    counter: str = metrics.GENERATIONS,
    *,
    scope: str | None = None,
    entity_id: str | None = None,
) -> dict[str, float | None]:
    """Return, per breakdown, its summed ``counter`` divided by the top-level total.

    1.0 means the breakdown attributes all activity; less means some activity has no value
    in that breakdown. None means the breakdown has no rows in the window. Entity tables are
    used when present, else user tables. Model breakdowns cover chat and agent only, so their
    share is below 1.0 by design.
    """
    view = metrics.select(tables, scope, entity_id)
    parent = "entity" if not view.entity_daily.empty else "user"
    totals = metrics.window(view.frames[f"{parent}_daily"], since, until)
    total = totals[counter].fillna(0).sum() if counter in totals else 0
    result: dict[str, float | None] = {}
    for child in ATTRIBUTION_TABLES:
        frame = metrics.window(view.frames[f"{parent}_{child}"], since, until)
        if counter not in frame or frame.empty or not total:
            # A breakdown without rows is absent, which differs from attributing nothing.
            result[child] = None
            continue
        result[child] = float(frame[counter].fillna(0).sum() / total)
    return result


def health_report(
    tables: Tables,
    since: date | None = None,
    until: date | None = None,
    *,
    today: date | None = None,
    scope: str | None = None,
    entity_id: str | None = None,
) -> dict[str, Any]:
    """Return every health check as one JSON-ready dictionary."""
    days = day_status(tables, since, until, today=today, scope=scope, entity_id=entity_id)
    counts = days["status"].value_counts()
    missing = days.loc[days["status"] == MISSING, "day"]
    return {
        "days_present": int(counts.get(PRESENT, 0)),
        "days_missing": int(counts.get(MISSING, 0)),
        "days_settling": int(counts.get(SETTLING, 0)),
        "missing_days": [day.date().isoformat() for day in missing],
        "unknown_share": unknown_shares(tables, since, until, scope=scope, entity_id=entity_id),
        "attributed_share": attribution_shares(tables, since, until, scope=scope, entity_id=entity_id),
        "duplicates_dropped": dict(tables.duplicates_dropped),
        "records_skipped": tables.records_skipped,
    }


def newest_final_day(today: date | None = None) -> date:
    """Return the newest day that is no longer settling."""
    return (today or utc_today()) - timedelta(days=SETTLING_DAYS + 1)
