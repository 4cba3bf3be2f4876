"""Metric definitions: each number the dashboard shows is computed here, and only here.

The definitions follow GitHub's documentation of the Copilot usage metrics (the pages
"Copilot usage metrics" field reference, "Reconciling Copilot usage metrics" and
"Team-level metrics" under docs.github.com/copilot/reference/copilot-usage-metrics):

* A user is *active* on a day when ``user_initiated_interaction_count > 0`` on their
  user-day row. Users GitHub saw only through server-side telemetry have a row with no
  activity; they are counted separately, never as active here.
* The *acceptance rate* over a window is the sum of ``code_acceptance_activity_count``
  divided by the sum of ``code_generation_activity_count``: a ratio of sums, never a mean
  of daily rates, and never computed from lines, since agent edits add lines that were
  never suggested.
* Distinct users over a window are counted from user-day rows. Daily, weekly and monthly
  counts are never added up across days or breakdowns, because one user appears in many.
* A day without a record is missing: it stays missing (NaN), never zero.
* An organisation and an enterprise in one folder are never added together: every
  function works on one scope, and a user in several organisations counts once.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from copilot_lib.schema import (
    PULL_REQUEST_COUNTS,
    PULL_REQUEST_MEDIANS,
    SCOPE_ENTERPRISE,
    SCOPE_ORGANIZATION,
)
from copilot_lib.tables import Tables

logger = logging.getLogger(__name__)

INTERACTIONS = "user_initiated_interaction_count"
GENERATIONS = "code_generation_activity_count"
ACCEPTANCES = "code_acceptance_activity_count"
LOC_ADDED = "loc_added_sum"
LOC_DELETED = "loc_deleted_sum"
ACTIVITY = (INTERACTIONS, GENERATIONS, ACCEPTANCES, LOC_ADDED, LOC_DELETED)
WEEK_DAYS = 7
# GitHub's monthly_active_users counts the trailing 28 days, not the calendar month.
MONTH_DAYS = 28
UNATTRIBUTED = "unattributed"
# The used_* flag that marks each surface in user-day rows.
SURFACE_FLAGS = {
    "agent": "used_agent",
    "chat": "used_chat",
    "cli": "used_cli",
    "cloud_agent": "used_copilot_cloud_agent",
    "code_review": "used_copilot_code_review_active",
    "copilot_app": "used_copilot_app",
}


# Selection ----------------------------------------------------------------------------


def resolve_scope(tables: Tables, scope: str | None = None, entity_id: str | None = None) -> str | None:
    """Return the scope to show: ``scope`` when given, else the one the data holds.

    When a folder contains both enterprise and organisation records, the enterprise wins,
    because enterprise reports already count each user once across organisations; the two
    are never added together.
    """
    if scope is not None:
        return scope
    present: set[str] = set()
    for name in ("entity_daily", "user_daily"):
        frame = tables.frames[name]
        if entity_id is not None:
            frame = frame.loc[frame["entity_id"] == entity_id]
        present.update(str(value) for value in frame["scope"].dropna().unique())
    for candidate in (SCOPE_ENTERPRISE, SCOPE_ORGANIZATION):
        if candidate in present:
            return candidate
    return None


def scope_entity_ids(tables: Tables, scope: str | None = None) -> list[str]:
    """Return the sorted organisation or enterprise ids of the records, within ``scope`` when given."""
    ids: set[str] = set()
    for name in ("entity_daily", "user_daily"):
        frame = tables.frames[name]
        if scope is not None:
            frame = frame.loc[frame["scope"] == scope]
        ids.update(str(value) for value in frame["entity_id"].dropna().unique())
    return sorted(ids)


def select(tables: Tables, scope: str | None = None, entity_id: str | None = None) -> Tables:
    """Return the tables restricted to one scope and, when given, one entity id."""
    chosen = resolve_scope(tables, scope, entity_id)
    frames = {}
    changed = False
    for name, frame in tables.frames.items():
        if chosen is not None and "scope" in frame and "entity_id" in frame and _needs_filter(frame, chosen, entity_id):
            mask = frame["scope"] == chosen
            if entity_id is not None:
                mask &= frame["entity_id"] == str(entity_id)
            frame = frame.loc[mask]
            changed = True
        frames[name] = frame
    return replace(tables, frames=frames) if changed else tables


def _needs_filter(frame: pd.DataFrame, scope: str, entity_id: str | None) -> bool:
    """Return False when every row already belongs to the selection, without scanning rows."""
    values = {"scope": {scope}, "entity_id": {str(entity_id)} if entity_id is not None else None}
    for column, allowed in values.items():
        if allowed is None:
            continue
        series = frame[column]
        present = set(series.cat.categories) if isinstance(series.dtype, pd.CategoricalDtype) else None
        if present is None or not present <= allowed:
            return True
    return False


def entity_ids(frame: pd.DataFrame) -> list[str]:
    """Return the distinct entity ids of a table, sorted."""
    return sorted(str(value) for value in frame["entity_id"].dropna().unique())


def unique_user_days(user_daily: pd.DataFrame) -> pd.DataFrame:
    """Keep one row per (day, user): a user in several organisations appears once.

    GitHub repeats a user's whole activity in the report of every organisation they
    belong to, so adding organisations' rows would count it once per organisation.
    """
    if user_daily["entity_id"].nunique() <= 1:
        return user_daily
    return user_daily.drop_duplicates(["day", "user_id"], keep="first")


# Core definitions ---------------------------------------------------------------------


def acceptance_rate(acceptances: float | None, generations: float | None) -> float | None:
    """Return acceptances / generations, or None when there were no generations.

    GitHub's definition: the sum of ``code_acceptance_activity_count`` divided by the sum of
    ``code_generation_activity_count`` over the window. Pass sums over the whole window.
    None (not zero) means "no code was generated", which a chart shows as a gap.
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
    """Return the user-day rows that count as active: interactions greater than zero.

    GitHub's definition of an active user for a day is ``user_initiated_interaction_count
    > 0``. Completions alone (generations without an interaction) do not make a user
    active, and neither does a row from server-side telemetry with no activity.
    """
    return user_daily.loc[user_daily[INTERACTIONS].fillna(0) > 0]


def distinct_active_users(user_daily: pd.DataFrame, since: date | None = None, until: date | None = None) -> int:
    """Count the distinct users active at least once in [since, until], from user-day rows.

    Any window works, because the count comes from user rows; GitHub's daily, weekly and
    monthly counts cannot be added up to get it.
    """
    rows = active_user_rows(window(user_daily, since, until))
    return int(rows["user_id"].nunique())


def distinct_users(user_daily: pd.DataFrame, since: date | None = None, until: date | None = None) -> int:
    """Count the distinct users with any user-day row in [since, until], active or not."""
    return int(window(user_daily, since, until)["user_id"].nunique())


def server_side_only_users(user_daily: pd.DataFrame, since: date | None = None, until: date | None = None) -> int:
    """Count the users with rows in the window but no interaction on any day of it.

    Since June 2026 GitHub also reports users it detects from server-side telemetry; their
    rows carry no activity and empty breakdowns. They hold a seat and used Copilot in some
    form, but they are not active by the interaction definition, so they are shown apart.
    """
    rows = window(user_daily, since, until)
    if rows.empty:
        return 0
    interactions = rows[INTERACTIONS].fillna(0)
    per_user = interactions.groupby(rows["user_id"]).max()
    return int((per_user <= 0).sum())


def seat_listing(tables: Tables, as_of: date | None = None) -> pd.DataFrame | None:
    """Return the seat listing in effect on ``as_of``, or None when no seat listing was read.

    A history store keeps one seat snapshot per day, marked by a ``day`` column: the newest
    snapshot on or before ``as_of`` is used, or the oldest one when ``as_of`` precedes them
    all. Without ``as_of`` the newest snapshot is used. A listing without days is one
    snapshot.
    """
    seats = tables.frames.get("seats")
    if seats is None or seats.empty:
        return None
    if "day" not in seats or seats["day"].isna().all():
        return seats
    days = seats["day"]
    chosen = days.max()
    if as_of is not None:
        earlier = days.loc[days <= pd.Timestamp(as_of)]
        chosen = earlier.max() if not earlier.empty else days.min()
    return seats.loc[days == chosen]


def assigned_seats(tables: Tables, as_of: date | None = None) -> int | None:
    """Count the Copilot seats assigned on ``as_of``, or None when no seat listing was read.

    Each assignee counts once, because an enterprise listing repeats a user once per
    granting organisation or team. A seat whose assignee is null (a deleted account)
    counts as one seat. :func:`seat_listing` tells which snapshot is used.
    """
    seats = seat_listing(tables, as_of)
    if seats is None:
        return None
    named = int(seats["assignee_id"].dropna().nunique())
    return named + int(seats["assignee_id"].isna().sum())


def adoption_rate(
    tables: Tables, since: date | None = None, until: date | None = None, **selection: Any
) -> float | None:
    """Return distinct active users in the window divided by assigned seats.

    None when there is no seat listing or it contains no seat. The seats are those of the
    snapshot in effect on ``until`` (see :func:`seat_listing`); a data folder holds one
    snapshot, so a window far in the past uses the seats of the day it was taken.
    """
    seats = assigned_seats(tables, until)
    if not seats:
        return None
    view = select(tables, **selection)
    return distinct_active_users(view.user_daily, since, until) / seats


def surface_adoption(
    tables: Tables, since: date | None = None, until: date | None = None, **selection: Any
) -> dict[str, float | None]:
    """Return the share of users who used each surface: agent, chat, CLI, cloud agent, review, app.

    The numerator is the distinct users whose ``used_*`` flag was true on at least one day
    of the window. The denominator is the distinct users who were active (interactions
    greater than zero) or used any surface in the window. CLI use counts although GitHub
    keeps it out of the IDE interaction count.
    """
    rows = window(select(tables, **selection).user_daily, since, until)
    flags = [flag for flag in SURFACE_FLAGS.values() if flag in rows]
    engaged = (rows[INTERACTIONS].fillna(0) > 0) | rows[flags].fillna(False).any(axis=1)
    total = rows.loc[engaged, "user_id"].nunique()
    result: dict[str, float | None] = {}
    for surface, flag in SURFACE_FLAGS.items():
        used = rows.loc[rows[flag].fillna(False).astype(bool), "user_id"].nunique()
        result[surface] = used / total if total else None
    return result


def _sum(frame: pd.DataFrame, column: str) -> int | None:
    """Sum a counter column; None when the column has no value at all (not zero)."""
    if column not in frame or frame[column].notna().sum() == 0:
        return None
    return int(frame[column].sum())


# Series and headline numbers ----------------------------------------------------------


def daily_series(
    tables: Tables,
    since: date | None = None,
    until: date | None = None,
    *,
    scope: str | None = None,
    entity_id: str | None = None,
) -> pd.DataFrame:
    """Return one row per calendar day in the window with the day's totals and rate.

    Days without a record appear with NaN values, so charts draw them as gaps. Totals come
    from the organisation or enterprise day records when the selection is one entity (they
    are GitHub's own totals), otherwise from the user-day rows with each user counted once
    per day.
    """
    view = select(tables, scope, entity_id)
    source = _daily_source(view)
    frame = window(source, since, until)
    start, end = _range(view, since, until)
    days = pd.date_range(start, end, freq="D") if start and end else pd.DatetimeIndex([])
    calendar = pd.DataFrame({"day": days.astype("datetime64[ns]")})
    merged = calendar.merge(frame, on="day", how="left")
    columns = ["daily_active_users", *ACTIVITY]
    for name in columns:
        if name not in merged:
            merged[name] = pd.NA
        merged[name] = merged[name].astype("Float64")
    merged["acceptance_rate"] = merged[ACCEPTANCES] / merged[GENERATIONS].where(merged[GENERATIONS] > 0)
    return merged[["day", *columns, "acceptance_rate"]]


def _uses_entity_records(view: Tables) -> bool:
    """Return True when the selection is one entity with day records of its own."""
    entity = view.entity_daily
    if entity.empty:
        return False
    if entity["entity_id"].nunique() == 1:
        return True
    if view.user_daily.empty:
        # NOTE: several organisations and no user rows: their records cannot be combined
        # without counting shared users twice, so only the first organisation is shown.
        logger.warning(
            "several entities %s and no user rows: showing %s only",
            entity_ids(entity),
            entity_ids(entity)[0],
        )
        return True
    return False


def _entity_view(view: Tables) -> pd.DataFrame:
    entity = view.entity_daily
    return entity.loc[entity["entity_id"] == entity_ids(entity)[0]]


def _daily_source(view: Tables) -> pd.DataFrame:
    """Return per-day totals from entity records, or aggregated from user rows."""
    if _uses_entity_records(view):
        return _entity_view(view)
    users = unique_user_days(view.user_daily)
    grouped = users.groupby("day", as_index=False)[list(ACTIVITY)].sum(min_count=1)
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
    scope: str | None
    days_covered: int
    days_missing: int
    daily_active_users: int | None
    weekly_active_users: int | None
    monthly_active_users: int | None
    unique_active_users: int | None
    server_side_only_users: int | None
    acceptance_rate: float | None
    interactions: int | None
    code_generations: int | None
    code_acceptances: int | None
    loc_added: int | None
    loc_deleted: int | None
    assigned_seats: int | None = None
    adoption_rate: float | None = None

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["since"] = self.since.isoformat() if self.since else None
        values["until"] = self.until.isoformat() if self.until else None
        return values


def kpis(
    tables: Tables,
    since: date | None = None,
    until: date | None = None,
    *,
    scope: str | None = None,
    entity_id: str | None = None,
) -> Kpis:
    """Compute the headline numbers for [since, until] (defaults: the whole data range).

    Daily, weekly and monthly active users are those GitHub reports for the last day of the
    window; with only user rows (or several organisations) they are distinct active users
    over the trailing 1, 7 and 28 days. They are None when the last day has no record.
    Adoption is distinct active users in the window per assigned seat, when seats exist.
    """
    view = select(tables, scope, entity_id)
    since, until = _range(view, since, until)
    series = daily_series(view, since, until)
    covered = int(series[INTERACTIONS].notna().sum() if not series.empty else 0)
    from_entity = _uses_entity_records(view)
    users = unique_user_days(view.user_daily)
    source = window(_entity_view(view) if from_entity else users, since, until)

    daily = weekly = monthly = None
    if until is not None:
        if from_entity:
            last = source.loc[source["day"] == pd.Timestamp(until)]
            if not last.empty:
                daily = _sum(last, "daily_active_users")
                weekly = _sum(last, "weekly_active_users")
                monthly = _sum(last, "monthly_active_users")
        elif (users["day"] == pd.Timestamp(until)).any():
            daily = distinct_active_users(users, until, until)
            weekly = distinct_active_users(users, until - timedelta(days=WEEK_DAYS - 1), until)
            monthly = distinct_active_users(users, until - timedelta(days=MONTH_DAYS - 1), until)

    # A window without user rows has no distinct-user count: missing, not zero.
    has_users = not window(users, since, until).empty
    unique = distinct_active_users(users, since, until) if has_users else None
    generations = _sum(source, GENERATIONS)
    acceptances = _sum(source, ACCEPTANCES)
    seats = assigned_seats(view, until)
    return Kpis(
        since=since,
        until=until,
        source="entity" if from_entity else "users",
        scope=resolve_scope(tables, scope, entity_id),
        days_covered=covered,
        days_missing=len(series) - covered,
        daily_active_users=daily,
        weekly_active_users=weekly,
        monthly_active_users=monthly,
        unique_active_users=unique,
        server_side_only_users=server_side_only_users(users, since, until) if has_users else None,
        acceptance_rate=acceptance_rate(acceptances, generations),
        interactions=_sum(source, INTERACTIONS),
        code_generations=generations,
        code_acceptances=acceptances,
        loc_added=_sum(source, LOC_ADDED),
        loc_deleted=_sum(source, LOC_DELETED),
        assigned_seats=seats,
        adoption_rate=unique / seats if seats and unique is not None else None,
    )


def breakdown_totals(
    frame: pd.DataFrame,
    dimension: str | list[str],
    since: date | None = None,
    until: date | None = None,
    *,
    scope: str | None = None,
    entity_id: str | None = None,
) -> pd.DataFrame:
    """Sum a breakdown table's counters per value of ``dimension`` over the window.

    The result has the dimension, each counter summed, and the acceptance rate as a ratio
    of the sums. No user counts are summed here, because breakdown rows carry none. Rows of
    one scope are used (the enterprise when both are present); user breakdowns keep one
    row per user, day and value, so a user in several organisations counts once.
    """
    rows = window(frame, since, until)
    if "scope" in rows and not rows.empty:
        chosen = scope or (SCOPE_ENTERPRISE if (rows["scope"] == SCOPE_ENTERPRISE).any() else SCOPE_ORGANIZATION)
        mask = rows["scope"] == chosen
        if entity_id is not None:
            mask &= rows["entity_id"] == str(entity_id)
        rows = rows.loc[mask]
    dimensions = [dimension] if isinstance(dimension, str) else list(dimension)
    if "user_id" in rows and rows["entity_id"].nunique() > 1:
        rows = rows.drop_duplicates(["day", "user_id", *dimensions], keep="first")
    counters = [name for name in ACTIVITY if name in rows]
    grouped = rows.groupby(dimensions, as_index=False, observed=True)[counters].sum(min_count=1)
    if GENERATIONS in grouped and ACCEPTANCES in grouped:
        grouped["acceptance_rate"] = grouped[ACCEPTANCES] / grouped[GENERATIONS].where(grouped[GENERATIONS] > 0)
        grouped = grouped.sort_values(GENERATIONS, ascending=False, kind="stable")
    return grouped.reset_index(drop=True)


# Teams --------------------------------------------------------------------------------


def team_metrics(
    tables: Tables,
    since: date | None = None,
    until: date | None = None,
    *,
    scope: str | None = None,
    entity_id: str | None = None,
) -> pd.DataFrame:
    """Return per-team activity in the window, plus an ``unattributed`` row.

    Following GitHub's team-level metrics: each daily user row is joined with the same
    day's user-teams rows on (scope, entity_id, day, user_id), never with one day of
    membership for a whole window. A user in several teams counts in each, so team rows
    overlap and their sum can exceed the entity total. Activity of users in no listed team
    that day (GitHub omits teams with fewer than five seated users) goes to the
    ``unattributed`` row. Columns: ``team_id`` (None for unattributed), ``slug``,
    ``members`` (distinct users listed in the team on any day of the window, idle ones
    included), ``users`` and ``active_users`` (distinct users with rows, and with
    interactions, while in the team), the counters summed, and ``acceptance_rate``.
    """
    view = select(tables, scope, entity_id)
    users = window(view.user_daily, since, until)
    teams = window(view.frames["user_teams"], since, until)
    keys = ["scope", "entity_id", "day", "user_id"]
    joined = users.merge(teams[[*keys, "team_id", "slug"]], on=keys, how="inner")
    rows = []
    for team_id, listed in teams.groupby("team_id"):
        activity = joined.loc[joined["team_id"] == team_id]
        row = _team_row(team_id, listed["slug"].iloc[-1], activity)
        row["members"] = int(listed["user_id"].nunique())
        rows.append(row)
    membership = teams[keys].drop_duplicates()
    flagged = users.merge(membership.assign(_member=True), on=keys, how="left")
    unattributed = users.loc[flagged["_member"].isna().to_numpy()]
    rows.append({**_team_row(None, UNATTRIBUTED, unattributed), "members": None})
    columns = ["team_id", "slug", "members", "users", "active_users", *ACTIVITY, "acceptance_rate"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["team_id"] = frame["team_id"].astype("Int64")
    frame["members"] = frame["members"].astype("Int64")
    return frame


def _team_row(team_id: Any, slug: Any, rows: pd.DataFrame) -> dict[str, Any]:
    row: dict[str, Any] = {
        "team_id": team_id,
        "slug": slug,
        "users": int(rows["user_id"].nunique()),
        "active_users": int(active_user_rows(rows)["user_id"].nunique()),
    }
    for name in ACTIVITY:
        row[name] = _sum(rows, name)
    row["acceptance_rate"] = acceptance_rate(row[ACCEPTANCES], row[GENERATIONS])
    return row


def team_reconciliation(
    tables: Tables,
    since: date | None = None,
    until: date | None = None,
    column: str = INTERACTIONS,
    *,
    scope: str | None = None,
    entity_id: str | None = None,
) -> dict[str, int]:
    """Return how team activity adds up to the entity total for one counter.

    ``attributed`` counts each user-day in at least one team once, so ``attributed +
    unattributed == entity_total``; ``team_sum`` adds the team rows, counting users in
    several teams once per team, and ``overlap = team_sum - attributed``.
    """
    teams = team_metrics(tables, since, until, scope=scope, entity_id=entity_id)
    view = select(tables, scope, entity_id)
    total = int(window(view.user_daily, since, until)[column].fillna(0).sum())
    unattributed = int(teams.loc[teams["slug"] == UNATTRIBUTED, column].fillna(0).sum())
    team_sum = int(teams.loc[teams["slug"] != UNATTRIBUTED, column].fillna(0).sum())
    attributed = total - unattributed
    return {
        "entity_total": total,
        "attributed": attributed,
        "unattributed": unattributed,
        "team_sum": team_sum,
        "overlap": team_sum - attributed,
    }


# Pull requests ------------------------------------------------------------------------


def pull_request_daily(
    tables: Tables,
    since: date | None = None,
    until: date | None = None,
    *,
    scope: str | None = None,
    entity_id: str | None = None,
) -> pd.DataFrame:
    """Return one row per calendar day with the entity's pull-request counts and medians.

    Medians (``median_minutes_to_merge*``) are GitHub's per-day medians. They are shown
    day by day and never summed or averaged across days, because a median of a window
    cannot be computed from daily medians. Missing days are NaN.
    """
    view = select(tables, scope, entity_id)
    frame = view.frames["entity_pull_requests"]
    if frame["entity_id"].nunique() > 1:
        frame = frame.loc[frame["entity_id"] == entity_ids(frame)[0]]
    frame = window(frame, since, until)
    start, end = _range(view, since, until)
    days = pd.date_range(start, end, freq="D") if start and end else pd.DatetimeIndex([])
    calendar = pd.DataFrame({"day": days.astype("datetime64[ns]")})
    columns = [*PULL_REQUEST_COUNTS, *PULL_REQUEST_MEDIANS]
    return calendar.merge(frame[["day", *columns]], on="day", how="left")


def pull_request_totals(
    tables: Tables,
    since: date | None = None,
    until: date | None = None,
    *,
    scope: str | None = None,
    entity_id: str | None = None,
) -> dict[str, int | None]:
    """Sum the pull-request counts over the window; medians are left out on purpose."""
    daily = pull_request_daily(tables, since, until, scope=scope, entity_id=entity_id)
    return {name: _sum(daily, name) for name in PULL_REQUEST_COUNTS}


def active_users_series(
    tables: Tables,
    since: date | None = None,
    until: date | None = None,
    *,
    scope: str | None = None,
    entity_id: str | None = None,
) -> pd.DataFrame:
    """Return daily, weekly and monthly active users for each calendar day in the window.

    With organisation or enterprise day records the numbers are GitHub's own. With only
    user-day rows, each day counts the distinct users active in the trailing 1, 7 and 28
    days, including days before ``since``. Days without a record are NaN.
    """
    since, until = _range(tables, since, until)
    view = select(tables, scope, entity_id)
    columns = ["daily_active_users", "weekly_active_users", "monthly_active_users"]
    calendar = pd.DataFrame({"day": pd.date_range(since, until, freq="D") if since else []})
    if _uses_entity_records(view):
        source = _entity_view(view).groupby("day", as_index=False)[columns].sum(min_count=1)
    else:
        source = _user_active_counts(unique_user_days(view.user_daily))
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
        return index - pd.to_timedelta(index.day_of_week, unit="D")
    if grain == "month":
        return index.to_period("M").to_timestamp()
    raise ValueError(f"unknown grain {grain!r}: use one of {', '.join(GRAINS)}")


def distinct_users_per_period(active: np.ndarray, period_starts: np.ndarray) -> np.ndarray:
    """Count the distinct users in each period from a day x user activity grid.

    ``active[d, u]`` is True when user ``u`` has an active user-day row on the ``d``-th day
    of the grid; the days are grouped by period, in order, and ``period_starts`` holds the
    first day of each group. A user active on several days of a period counts once in it:
    the count comes from the user rows, never from adding daily counts.
    """
    if active.shape[0] == 0 or len(period_starts) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(period_starts) == active.shape[0]:
        return np.asarray(active.sum(axis=1), dtype=np.int64)  # one day per period
    return np.asarray(np.logical_or.reduceat(active, period_starts, axis=0).sum(axis=1), dtype=np.int64)


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
