"""Seats view: assigned, active within a threshold, never used, pending cancellation, idle cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from copilot_lib import metrics
from copilot_lib.tables import Tables
from copilot_lib.views.filters import Filters
from copilot_lib.views.pseudonym import alias_logins
from copilot_lib.views.result import NO_SEATS, ViewResult
from copilot_lib.views.selection import resolve

# The seats table may name a column after the nested field (``assignee.login`` -> ``login``)
# or with the parent's prefix; the first name found wins.
SEAT_COLUMNS = {
    "user_login": ("user_login", "assignee_login", "login"),
    "user_id": ("user_id", "assignee_id"),
    "plan_type": ("plan_type",),
    "created_at": ("created_at",),
    "last_activity_at": ("last_activity_at",),
    "last_activity_editor": ("last_activity_editor",),
    "last_authenticated_at": ("last_authenticated_at",),
    "pending_cancellation_date": ("pending_cancellation_date",),
    "assigning_team": ("assigning_team_slug", "assigning_team", "team_slug"),
}


def seat_frame(tables: Tables, as_of: date | None = None) -> pd.DataFrame | None:
    """Return the seat listing in effect on ``as_of`` with the columns above.

    None when there is no seats file. A history store keeps a snapshot a day; see
    :func:`copilot_lib.metrics.seat_listing` for the one chosen.
    """
    frame = metrics.seat_listing(tables, as_of)
    if frame is None:
        return None
    seats = pd.DataFrame(index=frame.index)
    for name, candidates in SEAT_COLUMNS.items():
        found = next((column for column in candidates if column in frame), None)
        seats[name] = frame[found] if found else pd.NA
    seats["user_id"] = seats["user_id"].astype("Int64")
    return seats.reset_index(drop=True)


@dataclass
class SeatsView(ViewResult):
    """Seat counts, the idle cost and the seat table for the seats view."""

    as_of: pd.Timestamp | None = None
    threshold_days: int = 30
    assigned: int = 0
    active: int = 0
    idle: int = 0
    never_used: int = 0
    pending_cancellation: int = 0
    idle_monthly_cost: float = 0.0
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    states: pd.DataFrame = field(default_factory=pd.DataFrame)
    activity_age: pd.DataFrame = field(default_factory=pd.DataFrame)
    idle_cost: pd.DataFrame = field(default_factory=pd.DataFrame)


def seats_view(tables: Tables, filters: Filters) -> SeatsView:
    """Count seats by state on the last day of the range and list every seat.

    A seat is active when its ``last_activity_at`` lies within ``seat_threshold_days`` days
    before the range's last day; every other seat is idle, including seats never used. The
    idle cost is the idle seats times the monthly price of their plan.
    """
    if metrics.seat_listing(tables) is None:
        return SeatsView(missing=NO_SEATS)
    selection = resolve(tables, filters)
    seats = seat_frame(tables, selection.until)
    if seats is None:
        return SeatsView(missing=NO_SEATS)
    as_of = pd.Timestamp(selection.until)
    active = metrics.seat_is_active(seats["last_activity_at"], as_of, filters.seat_threshold_days)
    never = seats["last_activity_at"].isna()
    pending = seats["pending_cancellation_date"].notna()
    price = seats["plan_type"].map(lambda plan: filters.seat_price(plan if isinstance(plan, str) else None))
    table = seats.assign(
        active=active,
        never_used=never,
        pending_cancellation=pending,
        days_since_activity=days_since_activity(seats["last_activity_at"], as_of),
        monthly_price=price,
    )
    if filters.pseudonymise:
        table["user_login"] = alias_logins(table["user_id"], table["user_login"])
    if filters.search:
        table = table.loc[_matches(table, filters.search)]
    idle = ~active
    result = SeatsView(
        as_of=as_of,
        threshold_days=filters.seat_threshold_days,
        assigned=len(seats),
        active=int(active.sum()),
        idle=int(idle.sum()),
        never_used=int(never.sum()),
        pending_cancellation=int(pending.sum()),
        idle_monthly_cost=float(price[idle].sum()),
        table=table.sort_values(["active", "last_activity_at"], na_position="first", kind="stable").reset_index(
            drop=True
        ),
        notes=list(selection.notes),
        states=seat_states(table, filters.seat_threshold_days),
        activity_age=activity_age_bins(table, filters.seat_threshold_days),
        idle_cost=idle_cost_by_editor(table),
    )
    result.summary = pd.DataFrame(
        {
            "measure": [
                "assigned",
                f"active in the last {filters.seat_threshold_days} days",
                "idle",
                "never used",
                "pending cancellation",
                "idle cost per month (USD)",
            ],
            "value": [
                result.assigned,
                result.active,
                result.idle,
                result.never_used,
                result.pending_cancellation,
                result.idle_monthly_cost,
            ],
        }
    )
    return result


def days_since_activity(last_activity_at: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """Return whole UTC days from each seat's last activity to ``as_of``, or NA for a seat never used.

    The seat listing is a snapshot of the day it was fetched, so a seat used after ``as_of``
    (a range ending in the past) counts as 0 days, and as active, like in
    :func:`copilot_lib.metrics.seat_is_active`.
    """
    moments = pd.to_datetime(last_activity_at, utc=True, errors="coerce")
    end = pd.Timestamp(as_of)
    end = end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")
    days = (end.normalize() - moments.dt.normalize()).dt.days
    return days.clip(lower=0).astype("Int64")


def seat_states(table: pd.DataFrame, threshold_days: int) -> pd.DataFrame:
    """Count the seats of ``table`` by state: active, idle but used, never used.

    The three states split every seat. Pending cancellation cuts across them, so its row
    counts seats already counted in one of the first three.
    """
    active = table["active"].astype(bool)
    never = table["never_used"].astype(bool)
    labels = [
        f"Active within {threshold_days} days",
        "Idle but used",
        "Never used",
        "Pending cancellation (any state)",
    ]
    counts = [
        int(active.sum()),
        int((~active & ~never).sum()),
        int((~active & never).sum()),
        int(table["pending_cancellation"].astype(bool).sum()),
    ]
    return pd.DataFrame({"state": labels, "seats": counts})


# Bin widths in days for the days-since-activity histogram, the narrowest first. The first
# one that needs at most ACTIVITY_AGE_MAX_BINS bins to cover the oldest seat is used.
ACTIVITY_AGE_BIN_DAYS = (1, 7, 14, 28, 91)
ACTIVITY_AGE_MAX_BINS = 40


def activity_age_bins(table: pd.DataFrame, threshold_days: int) -> pd.DataFrame:
    """Count seats per bin of days since their last activity, split at the threshold.

    A bin covers ``from_days`` up to but not including ``to_days``. A seat is active when
    its days since activity are below ``threshold_days``, so the bin that contains the
    threshold is cut there and every bin is either active or idle. Seats never used have
    no last activity and are left out (``seat_states`` counts them).
    """
    days = table["days_since_activity"].dropna().astype("int64")
    columns = ["from_days", "to_days", "seats", "active"]
    if days.empty:
        return pd.DataFrame({name: pd.Series(dtype="int64") for name in columns}).astype({"active": bool})
    oldest = int(days.max())
    width = next(
        (size for size in ACTIVITY_AGE_BIN_DAYS if (oldest + 1) / size <= ACTIVITY_AGE_MAX_BINS),
        ACTIVITY_AGE_BIN_DAYS[-1],
    )
    edges = set(range(0, oldest + width + 1, width))
    if threshold_days <= oldest:
        edges.add(threshold_days)
    bounds = sorted(edges)
    counts = pd.cut(days, bins=bounds, right=False).value_counts(sort=False)
    frame = pd.DataFrame(
        {
            "from_days": [int(interval.left) for interval in counts.index],
            "to_days": [int(interval.right) for interval in counts.index],
            "seats": counts.to_numpy(dtype="int64"),
        }
    )
    frame["active"] = frame["to_days"] <= threshold_days
    return frame[columns]


def editor_name(editor: object) -> str:
    """Return the editor of a ``last_activity_editor`` value such as ``vscode/1.99.0/copilot/1.308.0``."""
    if not isinstance(editor, str) or not editor:
        return "none reported"
    return editor.split("/", 1)[0]


def idle_cost_by_editor(table: pd.DataFrame) -> pd.DataFrame:
    """Sum idle seats and their monthly price by last-activity editor and plan type.

    Seats never used have no editor and are filed under ``never used``.
    """
    idle = table.loc[~table["active"].astype(bool)]
    columns = ["editor", "plan_type", "idle_seats", "idle_monthly_cost"]
    if idle.empty:
        return pd.DataFrame(columns=columns)
    editor = idle["last_activity_editor"].map(editor_name).where(~idle["never_used"].astype(bool), "never used")
    plan = idle["plan_type"].astype("string").fillna("unknown")
    grouped = (
        pd.DataFrame({"editor": editor, "plan_type": plan, "price": idle["monthly_price"]})
        .groupby(["editor", "plan_type"], sort=True)
        .agg(idle_seats=("price", "size"), idle_monthly_cost=("price", "sum"))
        .reset_index()
    )
    return grouped.sort_values("idle_monthly_cost", ascending=False, kind="stable").reset_index(drop=True)[columns]


def _matches(table: pd.DataFrame, text: str) -> pd.Series:
    needle = text.casefold()
    mask = pd.Series(False, index=table.index)
    for column in ("user_login", "last_activity_editor", "assigning_team", "plan_type"):
        mask |= (
            table[column].astype("string").str.casefold().str.contains(needle, regex=False).fillna(False).astype(bool)
        )
    return mask
