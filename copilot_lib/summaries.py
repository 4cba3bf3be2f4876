"""Frames behind the dashboard's views: per-period series, per-user rows and data health.

Every function is pure pandas on the tables and metrics frames, so each number a view shows
can be recomputed in a notebook from the same call.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import numpy as np
import pandas as pd

from copilot_lib.metrics import (
    ACCEPTANCES,
    GENERATIONS,
    INTERACTIONS,
    LOC_ADDED,
    LOC_DELETED,
    active_user_rows,
    window,
)
from copilot_lib.tables import Tables

GRAIN_DAY = "day"
GRAIN_WEEK = "week"
GRAIN_MONTH = "month"
GRAINS = (GRAIN_DAY, GRAIN_WEEK, GRAIN_MONTH)
# pandas period aliases: ISO weeks start on Monday, so a period ends on Sunday.
PERIODS = {GRAIN_WEEK: "W-SUN", GRAIN_MONTH: "M"}
COUNTER_COLUMNS = (INTERACTIONS, GENERATIONS, ACCEPTANCES, LOC_ADDED, LOC_DELETED)
UNKNOWN = "unknown"
# GitHub's reports for a day can still change for about two days after it ends.
SETTLING_DAYS = 2


def drop_weekends(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the rows whose ``day`` is Monday to Friday."""
    return frame.loc[frame["day"].dt.day_of_week < 5].reset_index(drop=True)


def drop_unknown(frame: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """Return the rows whose ``dimension`` is a known value, not ``unknown``."""
    return frame.loc[frame[dimension].astype(str) != UNKNOWN].reset_index(drop=True)


def period_start(days: pd.Series, grain: str) -> pd.Series:
    """Return the first day of the day, ISO week (Monday) or calendar month of each day."""
    if grain == GRAIN_DAY:
        return days
    return days.dt.to_period(PERIODS[grain]).dt.start_time


def resample_activity(series: pd.DataFrame, grain: str) -> pd.DataFrame:
    """Sum :func:`copilot_lib.metrics.daily_series` counters per period, rate from the sums.

    A period without any day of data stays NaN, so it is a gap and not a zero.
    """
    if grain == GRAIN_DAY:
        return series
    frame = series.assign(day=period_start(series["day"], grain))
    columns = [name for name in COUNTER_COLUMNS if name in frame]
    grouped = frame.groupby("day", as_index=False)[columns].sum(min_count=1)
    grouped["acceptance_rate"] = grouped[ACCEPTANCES] / grouped[GENERATIONS].where(
        grouped[GENERATIONS] > 0
    )
    return grouped


def resample_active_users(series: pd.DataFrame, grain: str) -> pd.DataFrame:
    """Reduce :func:`copilot_lib.metrics.active_users_series` to one row per period.

    Daily active users become their mean over the period's days with data. Weekly and monthly
    active users are the value on the last day with data: they already count a trailing
    window, so adding them up would count a user more than once.
    """
    if grain == GRAIN_DAY:
        return series
    frame = series.assign(day=period_start(series["day"], grain))
    grouped = frame.groupby("day")
    result = pd.DataFrame(
        {
            "daily_active_users": grouped["daily_active_users"].mean(),
            "weekly_active_users": grouped["weekly_active_users"].last(),
            "monthly_active_users": grouped["monthly_active_users"].last(),
        }
    ).reset_index()
    return result


def previous_window(since: date, until: date) -> tuple[date, date]:
    """Return the window of equal length that ends the day before ``since``."""
    length = (until - since).days + 1
    return since - timedelta(days=length), since - timedelta(days=1)


def relative_change(current: float | None, previous: float | None) -> float | None:
    """Return (current - previous) / previous, or None when either is missing or previous is 0."""
    if current is None or previous is None or previous == 0:
        return None
    return (float(current) - float(previous)) / float(previous)


def alias(login: str) -> str:
    """Return a stable pseudonym for ``login``: the same login always gets the same alias."""
    # NOTE: an unsalted hash hides logins from viewers, but anyone holding a list of candidate
    # logins can recompute the aliases, so this is not anonymisation.
    digest = hashlib.sha256(login.encode("utf-8")).hexdigest()
    return f"user-{digest[:8]}"


def _top_value(frame: pd.DataFrame, dimension: str) -> pd.Series:
    """Return, per user, the value of ``dimension`` with the most activity."""
    if frame.empty:
        return pd.Series(dtype="object")
    # Language breakdowns carry no interaction count, so sum whichever counters exist.
    counters = [name for name in (INTERACTIONS, GENERATIONS) if name in frame]
    activity = frame[counters].fillna(0).sum(axis=1)
    totals = (
        frame.assign(_activity=activity)
        .groupby(["user_id", dimension], observed=True)["_activity"]
        .sum()
    )
    totals = totals.reset_index().sort_values(
        ["user_id", "_activity"], ascending=[True, False], kind="stable"
    )
    return totals.drop_duplicates("user_id").set_index("user_id")[dimension]


def user_table(
    tables: Tables, since: date | None, until: date | None, *, pseudonymise: bool = False
) -> pd.DataFrame:
    """Return one row per user with activity in the window, most interactions first.

    Columns: login, active days, the counters summed, the acceptance rate (a ratio of sums),
    top IDE and language, whether the user used agent mode, chat or the CLI, AI credits and
    the latest adoption phase. With ``pseudonymise`` every login is replaced by its alias.
    """
    rows = window(tables.user_daily, since, until)
    if rows.empty:
        return pd.DataFrame(
            columns=["user_login", "active_days", *COUNTER_COLUMNS, "acceptance_rate"]
        )
    grouped = rows.groupby("user_id")
    table = grouped[list(COUNTER_COLUMNS)].sum(min_count=1)
    table.insert(0, "user_login", grouped["user_login"].last())
    table.insert(1, "active_days", active_user_rows(rows).groupby("user_id")["day"].nunique())
    table["active_days"] = table["active_days"].fillna(0).astype("int64")
    table["acceptance_rate"] = table[ACCEPTANCES] / table[GENERATIONS].where(table[GENERATIONS] > 0)
    for flag in ("used_agent", "used_chat", "used_cli"):
        if flag in rows:
            table[flag] = grouped[flag].any()
    if "ai_credits_used" in rows:
        table["ai_credits_used"] = grouped["ai_credits_used"].sum(min_count=1)
    if "ai_adoption_phase" in rows:
        table["ai_adoption_phase"] = (
            rows.sort_values("day").groupby("user_id")["ai_adoption_phase"].last()
        )
    if "user_by_ide" in tables:
        table["top_ide"] = _top_value(window(tables["user_by_ide"], since, until), "ide")
    if "user_by_language_feature" in tables:
        table["top_language"] = _top_value(
            window(tables["user_by_language_feature"], since, until), "language"
        )
    table = table.reset_index().sort_values(
        [INTERACTIONS, "user_id"], ascending=[False, True], kind="stable"
    )
    table = table.drop(columns=["user_id"]).reset_index(drop=True)
    if pseudonymise:
        table["user_login"] = table["user_login"].map(lambda login: alias(str(login)))
    return table


def unknown_share(frame: pd.DataFrame, dimension: str) -> float | None:
    """Return the share of code generations whose ``dimension`` is ``unknown``."""
    if frame.empty or GENERATIONS not in frame:
        return None
    total = frame[GENERATIONS].sum()
    if not total:
        return None
    unknown = frame.loc[frame[dimension].astype(str) == UNKNOWN, GENERATIONS].sum()
    return float(unknown) / float(total)


def health_table(tables: Tables, since: date, until: date, today: date) -> pd.DataFrame:
    """Return one row per check of the data in the window: what was measured and its value.

    Checks: days without any record, days still settling (GitHub may revise them), the share
    of generations with an unknown language and IDE, and the share of the organisation's
    interactions that user rows account for.
    """
    calendar = pd.date_range(since, until, freq="D")
    entity = window(tables.entity_daily, since, until)
    users = window(tables.user_daily, since, until)
    source = entity if not entity.empty else users
    present = set(source["day"])
    missing = [day.date().isoformat() for day in calendar if day not in present]
    settling_from = today - timedelta(days=SETTLING_DAYS)
    settling = [
        day.date().isoformat() for day in calendar if day.date() > settling_from and day in present
    ]
    prefix = "entity" if tables.has_entity_records() else "user"
    language = unknown_share(
        window(tables[f"{prefix}_by_language_feature"], since, until), "language"
    )
    ide = unknown_share(window(tables[f"{prefix}_by_ide"], since, until), "ide")
    attributed = None
    if not entity.empty and not users.empty and entity[INTERACTIONS].sum():
        attributed = float(users[INTERACTIONS].sum()) / float(entity[INTERACTIONS].sum())
    rows = [
        (
            "Days without data",
            len(missing),
            ", ".join(missing[:20]) + (" …" if len(missing) > 20 else ""),
        ),
        ("Days still settling", len(settling), ", ".join(settling)),
        ("Generations with unknown language", _percent(language), "share of code generations"),
        ("Generations with unknown IDE", _percent(ide), "share of code generations"),
        (
            "Interactions attributed to user rows",
            _percent(attributed),
            "user rows / organisation totals",
        ),
    ]
    return pd.DataFrame(rows, columns=["check", "value", "detail"])


def _percent(value: float | None) -> str:
    return "n/a" if value is None or np.isnan(value) else f"{value:.1%}"


# List prices per seat and month in US dollars that GitHub publishes for Copilot Business (19)
# and Copilot Enterprise (39); the dashboard's price control overrides them.
# NOTE: these are typed in, not fetched, so they go stale when GitHub changes its prices.
SEAT_PRICES = {"business": 19.0, "enterprise": 39.0}
DEFAULT_SEAT_PRICE = 19.0
SEAT_THRESHOLD_DAYS = 30


def seat_table(
    seats: pd.DataFrame, today: date, threshold_days: int, *, pseudonymise: bool = False
) -> pd.DataFrame:
    """Return one row per seat with its days since last activity and whether it is idle.

    ``seats`` has the columns of the seats table: ``assignee_login``, ``plan_type``,
    ``last_activity_at``, ``last_activity_editor``, ``pending_cancellation_date`` and
    ``assigning_team_slug``. A seat is idle when its last activity is older than
    ``threshold_days`` days before ``today``, or when it was never used.
    """
    frame = pd.DataFrame(
        {
            "user_login": seats["assignee_login"].astype("object"),
            "plan_type": seats["plan_type"].astype("object"),
            "assigning_team": seats["assigning_team_slug"].astype("object"),
            "last_activity_day": _as_day(seats["last_activity_at"]),
            "last_activity_editor": seats["last_activity_editor"].astype("object"),
            "pending_cancellation_date": _as_day(seats["pending_cancellation_date"]),
        }
    )
    days = (pd.Timestamp(today) - frame["last_activity_day"]).dt.days
    frame["days_since_activity"] = days.astype("Int64")
    frame["never_used"] = frame["last_activity_day"].isna()
    frame["idle"] = frame["never_used"] | (days > threshold_days)
    if pseudonymise:
        frame["user_login"] = frame["user_login"].map(
            lambda login: alias(str(login)) if pd.notna(login) else login
        )
    return frame.sort_values(
        ["idle", "days_since_activity"], ascending=[False, False], kind="stable"
    ).reset_index(drop=True)


def _as_day(column: pd.Series) -> pd.Series:
    values = pd.to_datetime(column, utc=True, errors="coerce")
    return values.dt.tz_localize(None).dt.normalize()


def seat_summary(table: pd.DataFrame, price: float | None = None) -> dict[str, float | int]:
    """Count assigned, active, idle, never-used and pending-cancellation seats, and idle cost.

    ``table`` is :func:`seat_table` output. The monthly cost of idle seats uses ``price`` per
    seat when given, else each seat's plan list price.
    """
    idle = table.loc[table["idle"]]
    if price is not None:
        cost = price * len(idle)
    else:
        cost = float(
            idle["plan_type"].map(lambda plan: SEAT_PRICES.get(str(plan), DEFAULT_SEAT_PRICE)).sum()
        )
    return {
        "assigned": len(table),
        "active": int((~table["idle"]).sum()),
        "idle": len(idle),
        "never_used": int(table["never_used"].sum()),
        "pending_cancellation": int(table["pending_cancellation_date"].notna().sum()),
        "idle_monthly_cost": cost,
    }
