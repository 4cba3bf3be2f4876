"""Seats view: assigned, active within a threshold, never used, pending cancellation, idle cost."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from copilot_lib import metrics
from copilot_lib.tables import Tables
from copilot_lib.views.filters import Filters
from copilot_lib.views.pseudonym import alias_logins
from copilot_lib.views.result import NO_SEATS, ViewResult
from copilot_lib.views.selection import resolve

SEATS = "seats"
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


def seat_frame(tables: Tables) -> pd.DataFrame | None:
    """Return the seats table with the columns above, or None when there is no seats file."""
    frame = tables.frames.get(SEATS)
    if frame is None or frame.empty:
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


def seats_view(tables: Tables, filters: Filters) -> SeatsView:
    """Count seats by state on the last day of the range and list every seat.

    A seat is active when its ``last_activity_at`` lies within ``seat_threshold_days`` days
    before the range's last day; every other seat is idle, including seats never used. The
    idle cost is the idle seats times the monthly price of their plan.
    """
    seats = seat_frame(tables)
    if seats is None:
        return SeatsView(missing=NO_SEATS)
    selection = resolve(tables, filters)
    as_of = pd.Timestamp(selection.until)
    active = metrics.seat_is_active(seats["last_activity_at"], as_of, filters.seat_threshold_days)
    never = seats["last_activity_at"].isna()
    pending = seats["pending_cancellation_date"].notna()
    price = seats["plan_type"].map(lambda plan: filters.seat_price(plan if isinstance(plan, str) else None))
    table = seats.assign(active=active, never_used=never, pending_cancellation=pending, monthly_price=price)
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


def _matches(table: pd.DataFrame, text: str) -> pd.Series:
    needle = text.casefold()
    mask = pd.Series(False, index=table.index)
    for column in ("user_login", "last_activity_editor", "assigning_team", "plan_type"):
        mask |= (
            table[column].astype("string").str.casefold().str.contains(needle, regex=False).fillna(False).astype(bool)
        )
    return mask
