"""Metric definitions: each number the dashboard shows is computed here, and only here.

The definitions follow GitHub's documentation of the Copilot usage metrics:

* A user is *active* on a day when ``user_initiated_interaction_count > 0`` on their
  user-day row.
* The *acceptance rate* over a window is the sum of ``code_acceptance_activity_count``
  divided by the sum of ``code_generation_activity_count`` over that window: a ratio of
  sums, never a mean of daily rates, and never computed from lines, since agent edits add
  lines that were never suggested.
* Distinct users over a window are counted from user-day rows. Daily, weekly and monthly
  counts are never added up across days or breakdowns, because one user appears in many.
* A day without a record is missing: it stays missing (NaN), never zero.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from copilot_lib.tables import Tables

INTERACTIONS = "user_initiated_interaction_count"
GENERATIONS = "code_generation_activity_count"
ACCEPTANCES = "code_acceptance_activity_count"
LOC_ADDED = "loc_added_sum"
LOC_DELETED = "loc_deleted_sum"
WEEK_DAYS = 7
# GitHub's monthly_active_users counts the trailing 28 days, not the calendar month.
MONTH_DAYS = 28


def acceptance_rate(acceptances: float | None, generations: float | None) -> float | None:
    """Return acceptances / generations, or None when there were no generations.

    Pass sums over the whole window. None (not zero) means "no code was generated", which a
    chart shows as a gap.
    """
    if generations is None or pd.isna(generations) or generations <= 0:
        return None
    if acceptances is None or pd.isna(acceptances):
        return None
    return float(acceptances) / float(generations)


def window(frame: pd.DataFrame, since: date | None, until: date | None) -> pd.DataFrame:
    """Return the rows of ``frame`` whose ``day`` lies in [since, until], both inclusive."""
    mask = pd.Series(True, index=frame.index)
    if since is not None:
        mask &= frame["day"] >= pd.Timestamp(since)
    if until is not None:
        mask &= frame["day"] <= pd.Timestamp(until)
    return frame.loc[mask]


def active_user_rows(user_daily: pd.DataFrame) -> pd.DataFrame:
    """Return the user-day rows that count as active: interactions greater than zero."""
    return user_daily.loc[user_daily[INTERACTIONS].fillna(0) > 0]


def distinct_active_users(user_daily: pd.DataFrame, since: date | None = None, until: date | None = None) -> int:
    """Count the distinct users active at least once in [since, until], from user-day rows."""
    rows = active_user_rows(window(user_daily, since, until))
    return int(rows["user_id"].nunique())


def _sum(frame: pd.DataFrame, column: str) -> int | None:
    """Sum a counter column; None when the column has no value at all (not zero)."""
    if column not in frame or frame[column].notna().sum() == 0:
        return None
    return int(frame[column].sum())


def daily_series(tables: Tables, since: date | None = None, until: date | None = None) -> pd.DataFrame:
    """Return one row per calendar day in the window with the day's totals and rate.

    Days without a record appear with NaN values, so charts draw them as gaps. Totals come
    from the organisation or enterprise day records when there are any (they are GitHub's
    own totals), otherwise from the user-day rows.
    """
    source = _daily_source(tables)
    frame = window(source, since, until)
    start, end = _range(tables, since, until)
    calendar = pd.DataFrame({"day": pd.date_range(start, end, freq="D")}) if start else pd.DataFrame({"day": []})
    merged = calendar.merge(frame, on="day", how="left")
    columns = ["daily_active_users", INTERACTIONS, GENERATIONS, ACCEPTANCES, LOC_ADDED, LOC_DELETED]
    for name in columns:
        if name not in merged:
            merged[name] = pd.NA
        merged[name] = merged[name].astype("Float64")
    merged["acceptance_rate"] = merged[ACCEPTANCES] / merged[GENERATIONS].where(merged[GENERATIONS] > 0)
    return merged[["day", *columns, "acceptance_rate"]]


def _daily_source(tables: Tables) -> pd.DataFrame:
    """Return per-day totals from entity records, or aggregated from user rows."""
    if tables.has_entity_records():
        entity = tables.entity_daily
        if entity["entity_id"].nunique() > 1:
            # NOTE: several entities in one folder are shown together; users in more than one
            # organisation are counted once per organisation, as GitHub's org reports do.
            grouped = entity.groupby("day", as_index=False).sum(numeric_only=True, min_count=1)
            return grouped
        return entity
    users = tables.user_daily
    counters = [INTERACTIONS, GENERATIONS, ACCEPTANCES, LOC_ADDED, LOC_DELETED]
    grouped = users.groupby("day", as_index=False)[counters].sum(min_count=1)
    active = active_user_rows(users).groupby("day")["user_id"].nunique().rename("daily_active_users")
    grouped = grouped.merge(active, on="day", how="left")
    grouped["daily_active_users"] = grouped["daily_active_users"].fillna(0)
    return grouped


def _range(tables: Tables, since: date | None, until: date | None) -> tuple[date | None, date | None]:
    first, last = data_range(tables)
    return (since or first, until or last)


def data_range(tables: Tables) -> tuple[date | None, date | None]:
    """Return the first and last day that any entity or user record covers."""
    days = pd.concat([tables.entity_daily["day"], tables.user_daily["day"]])
    if days.empty:
        return None, None
    return days.min().date(), days.max().date()


@dataclass(frozen=True)
class Kpis:
    """The headline numbers for one date window."""

    since: date | None
    until: date | None
    source: str
    days_covered: int
    days_missing: int
    daily_active_users: int | None
    weekly_active_users: int | None
    monthly_active_users: int | None
    unique_active_users: int | None
    acceptance_rate: float | None
    interactions: int | None
    code_generations: int | None
    code_acceptances: int | None
    loc_added: int | None
    loc_deleted: int | None

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["since"] = self.since.isoformat() if self.since else None
        values["until"] = self.until.isoformat() if self.until else None
        return values


def kpis(tables: Tables, since: date | None = None, until: date | None = None) -> Kpis:
    """Compute the headline numbers for [since, until] (defaults: the whole data range).

    Daily, weekly and monthly active users are those GitHub reports for the last day of the
    window; with only user rows they are distinct active users over the trailing 1, 7 and 28
    days. They are None when the last day has no record.
    """
    since, until = _range(tables, since, until)
    series = daily_series(tables, since, until)
    covered = int(series[INTERACTIONS].notna().sum() if not series.empty else 0)
    from_entity = tables.has_entity_records()
    source = window(tables.entity_daily if from_entity else tables.user_daily, since, until)
    users = tables.user_daily

    daily = weekly = monthly = None
    if until is not None:
        if from_entity:
            last = tables.entity_daily.loc[tables.entity_daily["day"] == pd.Timestamp(until)]
            if not last.empty:
                daily = _sum(last, "daily_active_users")
                weekly = _sum(last, "weekly_active_users")
                monthly = _sum(last, "monthly_active_users")
        elif (users["day"] == pd.Timestamp(until)).any():
            daily = distinct_active_users(users, until, until)
            weekly = distinct_active_users(users, until - timedelta(days=WEEK_DAYS - 1), until)
            monthly = distinct_active_users(users, until - timedelta(days=MONTH_DAYS - 1), until)

    unique = distinct_active_users(users, since, until) if not users.empty else None
    generations = _sum(source, GENERATIONS)
    acceptances = _sum(source, ACCEPTANCES)
    return Kpis(
        since=since,
        until=until,
        source="entity" if from_entity else "users",
        days_covered=covered,
        days_missing=len(series) - covered,
        daily_active_users=daily,
        weekly_active_users=weekly,
        monthly_active_users=monthly,
        unique_active_users=unique,
        acceptance_rate=acceptance_rate(acceptances, generations),
        interactions=_sum(source, INTERACTIONS),
        code_generations=generations,
        code_acceptances=acceptances,
        loc_added=_sum(source, LOC_ADDED),
        loc_deleted=_sum(source, LOC_DELETED),
    )


def breakdown_totals(frame: pd.DataFrame, dimension: str, since: date | None = None, until: date | None = None) -> pd.DataFrame:
    """Sum a breakdown table's counters per value of ``dimension`` over the window.

    The result has the dimension, each counter summed, and the acceptance rate as a ratio
    of the sums. No user counts are summed here, because breakdown rows carry none.
    """
    rows = window(frame, since, until)
    counters = [name for name in (INTERACTIONS, GENERATIONS, ACCEPTANCES, LOC_ADDED, LOC_DELETED) if name in rows]
    grouped = rows.groupby(dimension, as_index=False, observed=True)[counters].sum(min_count=1)
    grouped["acceptance_rate"] = grouped[ACCEPTANCES] / grouped[GENERATIONS].where(grouped[GENERATIONS] > 0)
    return grouped.sort_values(GENERATIONS, ascending=False, kind="stable").reset_index(drop=True)


def active_users_series(
    tables: Tables, since: date | None = None, until: date | None = None
) -> pd.DataFrame:
    """Return daily, weekly and monthly active users for each calendar day in the window.

    With organisation or enterprise day records the numbers are GitHub's own. With only
    user-day rows, each day counts the distinct users active in the trailing 1, 7 and 28
    days, including days before ``since``. Days without a record are NaN.
    """
    since, until = _range(tables, since, until)
    columns = ["daily_active_users", "weekly_active_users", "monthly_active_users"]
    calendar = pd.DataFrame({"day": pd.date_range(since, until, freq="D") if since else []})
    if tables.has_entity_records():
        source = tables.entity_daily.groupby("day", as_index=False)[columns].sum(min_count=1)
    else:
        source = _user_active_counts(tables.user_daily)
    merged = calendar.merge(source, on="day", how="left")
    for name in columns:
        if name not in merged:
            merged[name] = pd.NA
        merged[name] = merged[name].astype("Float64")
    return merged[["day", *columns]]


def _user_active_counts(user_daily: pd.DataFrame) -> pd.DataFrame:
    """Count distinct active users over trailing 1, 7 and 28 days for each reported day."""
    days = pd.DatetimeIndex(sorted(user_daily["day"].unique()))
    result = pd.DataFrame({"day": days})
    active = active_user_rows(user_daily)[["user_id", "day"]].drop_duplicates()
    spans = (
        ("daily_active_users", 1),
        ("weekly_active_users", WEEK_DAYS),
        ("monthly_active_users", MONTH_DAYS),
    )
    for name, span in spans:
        counts = _trailing_distinct(active, span)
        result[name] = days.map(lambda day, c=counts: c.get(day, 0)).astype("float64")
    return result


def _trailing_distinct(active: pd.DataFrame, span: int) -> dict[pd.Timestamp, int]:
    """Count, for each day, the users with an active day in the ``span`` days ending there.

    Each active day covers itself and the next ``span - 1`` days. A user's overlapping covers
    merge into one interval, so each user adds one to every day of the union, once.
    """
    if active.empty:
        return {}
    ordered = active.sort_values(["user_id", "day"], kind="stable")
    user = ordered["user_id"].astype("int64")
    gap = ordered["day"].diff().dt.days
    new_block = (user != user.shift()) | (gap > span)
    block = new_block.astype("int64").cumsum()
    bounds = ordered.groupby(block)["day"].agg(["min", "max"])
    starts = bounds["min"].value_counts()
    ends = (bounds["max"] + pd.Timedelta(days=span)).value_counts()
    first, last = bounds["min"].min(), bounds["max"].max()
    calendar = pd.date_range(first, last, freq="D")
    change = starts.reindex(calendar, fill_value=0) - ends.reindex(calendar, fill_value=0)
    return {day: int(count) for day, count in change.cumsum().items()}
