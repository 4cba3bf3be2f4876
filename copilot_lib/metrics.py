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

import numpy as np
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


def breakdown_totals(
    frame: pd.DataFrame, dimension: str, since: date | None = None, until: date | None = None
) -> pd.DataFrame:
    """Sum a breakdown table's counters per value of ``dimension`` over the window.

    The result has the dimension, each counter summed, and the acceptance rate as a ratio
    of the sums. No user counts are summed here, because breakdown rows carry none.
    """
    rows = window(frame, since, until)
    counters = [name for name in (INTERACTIONS, GENERATIONS, ACCEPTANCES, LOC_ADDED, LOC_DELETED) if name in rows]
    grouped = rows.groupby(dimension, as_index=False, observed=True)[counters].sum(min_count=1)
    grouped["acceptance_rate"] = grouped[ACCEPTANCES] / grouped[GENERATIONS].where(grouped[GENERATIONS] > 0)
    return grouped.sort_values(GENERATIONS, ascending=False, kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# Definitions used by the dashboard views: periods, per-period distinct users and rates,
# change against the previous period, seats, teams and data health.
# ---------------------------------------------------------------------------------------

GRAINS = ("day", "week", "month")
UNKNOWN = "unknown"


def period_start(days: pd.Series | pd.DatetimeIndex, grain: str) -> pd.DatetimeIndex:
    """Return the first day of the period each day falls in.

    ``day`` keeps the day, ``week`` gives the Monday of the ISO week and ``month`` the
    first of the calendar month. Days are UTC calendar days, as GitHub's reports use.
    """
    index = pd.DatetimeIndex(days)
    if grain == "day":
        return index
    if grain == "week":
        return index - pd.to_timedelta(index.weekday, unit="D")
    if grain == "month":
        return index.to_period("M").to_timestamp()
    raise ValueError(f"unknown grain {grain!r}: use one of {', '.join(GRAINS)}")


def distinct_users_per_period(
    period_codes: np.ndarray, user_codes: np.ndarray, periods: int, users: int
) -> np.ndarray:
    """Count the distinct users in each period from one entry per active user row.

    ``period_codes`` and ``user_codes`` are parallel integer arrays, one entry per active
    user-day row. A user active on several days of a period counts once in it: the count
    comes from the rows, never from adding daily counts.
    """
    if periods == 0:
        return np.zeros(0, dtype=np.int64)
    seen = np.zeros(periods * max(users, 1), dtype=bool)
    seen[period_codes.astype(np.int64) * users + user_codes] = True
    return np.asarray(seen.reshape(periods, max(users, 1)).sum(axis=1), dtype=np.int64)


def rate_of_sums(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """Divide summed counters element by element; NaN where the denominator is 0 or missing.

    Used for the acceptance rate per period (sum of acceptances / sum of generations in
    the period), which GitHub defines as a ratio of sums, not a mean of daily rates.
    """
    numerator = numerator.astype("Float64")
    denominator = denominator.astype("Float64")
    return (numerator / denominator.where(denominator > 0)).astype("float64")


@dataclass(frozen=True)
class Change:
    """A value for the current window next to the same value for the previous window."""

    value: float | None
    previous: float | None

    @property
    def delta(self) -> float | None:
        """Current minus previous; None when either is missing."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def delta_ratio(self) -> float | None:
        """Relative change, (current - previous) / previous; None when previous is 0 or missing."""
        if self.value is None or self.previous is None or self.previous == 0:
            return None
        return (self.value - self.previous) / self.previous


def previous_window(since: date, until: date) -> tuple[date, date]:
    """Return the window of equal length that ends the day before ``since``."""
    length = (until - since).days + 1
    return since - timedelta(days=length), since - timedelta(days=1)


def seat_adoption(active_users: int | None, assigned_seats: int | None) -> float | None:
    """Return active users / assigned seats, GitHub's adoption; None without seats."""
    if active_users is None or not assigned_seats:
        return None
    return active_users / assigned_seats


def share_of_active(users_with_flag: int | None, active_users: int | None) -> float | None:
    """Return the share of active users who used a surface (agent, chat, CLI).

    GitHub's agent and chat adoption: distinct users with ``used_agent`` (or ``used_chat``)
    set on at least one day of the window, over the distinct active users of the window.
    """
    if users_with_flag is None or not active_users:
        return None
    return users_with_flag / active_users


def seat_is_active(last_activity_at: pd.Series, as_of: pd.Timestamp, threshold_days: int) -> pd.Series:
    """Return True for seats whose last activity lies within ``threshold_days`` before ``as_of``.

    A seat never used (no ``last_activity_at``) is not active. ``as_of`` is a UTC day; the
    window covers the ``threshold_days`` days ending on it.
    """
    moments = pd.to_datetime(last_activity_at, utc=True, errors="coerce")
    start = pd.Timestamp(as_of).tz_localize("UTC") if pd.Timestamp(as_of).tzinfo is None else pd.Timestamp(as_of)
    start = start.normalize() - pd.Timedelta(days=threshold_days - 1)
    return (moments >= start).fillna(False).astype(bool)


def unknown_share(frame: pd.DataFrame, dimension: str, counter: str) -> float | None:
    """Return the share of ``counter`` that the breakdown files under ``unknown``.

    GitHub reports activity it cannot attribute to a language, model or IDE under the
    value ``unknown``; a high share means the breakdown is less reliable.
    """
    if frame.empty or counter not in frame or dimension not in frame:
        return None
    total = frame[counter].sum(min_count=1)
    if pd.isna(total) or total == 0:
        return None
    return float(frame.loc[frame[dimension] == UNKNOWN, counter].sum()) / float(total)


def attribution_share(breakdown_sum: float | None, total: float | None) -> float | None:
    """Return how much of a total a breakdown accounts for (breakdown sum / total).

    GitHub's breakdowns can sum to less than the totals, because server-side telemetry
    finds activity that client telemetry cannot attribute.
    """
    if breakdown_sum is None or total is None or pd.isna(total) or total == 0:
        return None
    return float(breakdown_sum) / float(total)


def day_status(days: pd.DatetimeIndex, present: pd.DatetimeIndex, today: date) -> pd.Series:
    """Classify each day as ``present``, ``settling`` or ``missing``.

    GitHub's data for a day may still change until three full UTC days have passed, so a
    day newer than that is ``settling`` whether or not a record exists.
    """
    settled_before = pd.Timestamp(today) - pd.Timedelta(days=3)
    status = np.where(days.isin(present), "present", "missing")
    status = np.where(days > settled_before, "settling", status)
    return pd.Series(status, index=days, name="status")
