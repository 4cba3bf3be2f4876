"""Turn the global controls into masks over the prepared arrays, and aggregate by period."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from copilot_lib import metrics
from copilot_lib.tables import SCOPE_ENTERPRISE, SCOPE_ORGANIZATION, Tables
from copilot_lib.views.filters import Filters
from copilot_lib.views.prepared import COUNTERS, Prepared, prepare
from copilot_lib.views.result import NO_TEAMS
from copilot_lib.views.teams_join import team_row_mask

SATURDAY = 5


@dataclass
class Selection:
    """The rows and days the controls select, for one window."""

    prepared: Prepared
    filters: Filters
    since: date
    until: date
    entity_mask: np.ndarray
    day_mask: np.ndarray
    team_rows: np.ndarray | None
    notes: list[str] = field(default_factory=list)
    rows_cache: dict[bool, np.ndarray] = field(default_factory=dict)

    @property
    def from_entity(self) -> bool:
        """True when totals come from organisation or enterprise records (GitHub's own totals).

        With a team selected, totals come from the team members' user rows instead.
        """
        present = self.prepared.entity_present[self.entity_mask]
        return self.team_rows is None and bool(present.any())

    @property
    def first(self) -> int:
        return max(self.prepared.day_code(self.since), 0)

    @property
    def last(self) -> int:
        return min(self.prepared.day_code(self.until), self.prepared.days - 1)

    def has_days(self) -> bool:
        return self.prepared.days > 0 and self.first <= self.last and bool(self.day_mask.any())

    def user_rows(self, active_only: bool = True) -> np.ndarray:
        """Return the positions of selected user rows (in the day-sorted arrays)."""
        cached = self.rows_cache.get(active_only)
        if cached is not None:
            return cached
        rows = self.prepared.users
        if not self.has_days():
            return np.zeros(0, dtype=np.int64)
        window = rows.day_slice(self.first, self.last)
        keep = self.day_mask[rows.day[window]] & self.entity_mask[rows.entity[window]]
        if active_only:
            keep &= rows.active[window]
        if self.team_rows is not None:
            keep &= self.team_rows[window]
        positions = np.flatnonzero(keep) + window.start
        self.rows_cache[active_only] = positions
        return positions

    @property
    def days_index(self) -> slice | np.ndarray:
        """Return the selected day codes: a slice when they are contiguous (no copy), else an array."""
        if self.has_days() and self.day_mask[self.first : self.last + 1].all():
            return slice(self.first, self.last + 1)
        return np.flatnonzero(self.day_mask)

    def all_rows(self) -> slice | np.ndarray:
        """Return the selected user rows, active or not: a slice when the window keeps every row.

        A slice avoids copying millions of values when no weekend, entity or team filter
        removes rows inside the date range.
        """
        rows = self.prepared.users
        if self.has_days() and self.team_rows is None and isinstance(self.days_index, slice):
            window = rows.day_slice(self.first, self.last)
            if self.entity_mask[rows.entity[window.start : window.stop]].all():
                return window
        return self.user_rows(active_only=False)

    def activity(self, flag: str | None = None) -> np.ndarray:
        """Return a day x user array: True where the user was active (with ``flag`` set).

        Only the selected entities count; with a team selected, only the team's rows.
        """
        prepared = self.prepared
        name = flag or "active"
        if self.team_rows is None:
            grid = prepared.activity[name][self.entity_mask]
            return grid[0] if grid.shape[0] == 1 else grid.any(axis=0)
        key = f"team-activity:{self.filters.teams}:{self.entity_mask.tobytes().hex()}:{name}"
        cached = prepared.cache.get(key)
        if isinstance(cached, np.ndarray):
            return cached
        window = slice(0, len(prepared.users))
        users = prepared.users
        keep = users.active & self.entity_mask[users.entity] & self.team_rows & (users.entity >= 0)
        if flag is not None:
            keep &= users.flags[flag]
        grid = np.zeros((prepared.days, max(prepared.user_count, 1)), dtype=bool)
        grid[users.day[window][keep], users.user[window][keep]] = True
        prepared.cache[key] = grid
        return grid

    def shifted(self, since: date, until: date) -> Selection:
        """Return the same selection over another window."""
        return select(self.prepared, self.filters, since, until, self.entity_mask, self.team_rows)


def default_scope(prepared: Prepared) -> str | None:
    scopes = {scope for scope, _ in prepared.entities}
    if SCOPE_ENTERPRISE in scopes:
        return SCOPE_ENTERPRISE
    return SCOPE_ORGANIZATION if scopes else None


def entity_mask(prepared: Prepared, filters: Filters) -> np.ndarray:
    """Return which entities the scope and entity controls select."""
    scope = filters.scope or default_scope(prepared)
    return np.array(
        [s == scope and (filters.entity is None or e == str(filters.entity)) for s, e in prepared.entities], dtype=bool
    )


def day_mask(prepared: Prepared, since: date, until: date, exclude_weekends: bool) -> np.ndarray:
    """Return which calendar days lie in [since, until], without weekends if asked."""
    codes = np.arange(prepared.days)
    mask = (codes >= prepared.day_code(since)) & (codes <= prepared.day_code(until))
    if exclude_weekends:
        mask &= prepared.calendar.day_of_week < SATURDAY
    return np.asarray(mask, dtype=bool)


def select(
    prepared: Prepared,
    filters: Filters,
    since: date,
    until: date,
    entities: np.ndarray | None = None,
    team_rows: np.ndarray | None = None,
) -> Selection:
    mask = entity_mask(prepared, filters) if entities is None else entities
    return Selection(
        prepared, filters, since, until, mask, day_mask(prepared, since, until, filters.exclude_weekends), team_rows
    )


def resolve(tables: Tables, filters: Filters) -> Selection:
    """Return the selection for the controls, with the range defaulting to the data range."""
    prepared = prepare(tables)
    first = prepared.calendar[0].date() if prepared.days else date.today()
    last = prepared.calendar[-1].date() if prepared.days else date.today()
    since = filters.since or first
    until = filters.until or last
    teams = team_row_mask(tables, prepared, filters.teams) if filters.teams else None
    selection = select(prepared, filters, since, until, team_rows=teams)
    if filters.teams and teams is None:
        selection.notes.append("The team filter was ignored: " + NO_TEAMS[0].lower() + NO_TEAMS[1:])
    return selection


def previous(selection: Selection) -> Selection:
    """Return the selection for the window of equal length just before this one."""
    since, until = metrics.previous_window(selection.since, selection.until)
    return selection.shifted(since, until)


def daily_totals(selection: Selection) -> pd.DataFrame:
    """Return one row per selected calendar day with the counters summed; NaN when absent."""
    prepared = selection.prepared
    days = np.flatnonzero(selection.day_mask)
    frame = pd.DataFrame({"day": prepared.calendar[days]})
    if selection.team_rows is not None:
        positions = selection.user_rows(active_only=False)
        rows = prepared.users
        present = np.bincount(rows.day[positions], minlength=prepared.days)[days] > 0
        for name in COUNTERS:
            sums = np.bincount(
                rows.day[positions], weights=np.nan_to_num(rows.counters[name][positions]), minlength=prepared.days
            )
            # The row arrays read a missing counter as 0, so the per-day sums tell when it is missing.
            reported = ~np.isnan(prepared.user_day_sums[name][selection.entity_mask][:, days]).all(axis=0)
            frame[name] = np.where(present & reported, sums[days], np.nan)
        return frame
    source = prepared.entity_days if selection.from_entity else prepared.user_day_sums
    present_matrix = prepared.entity_present if selection.from_entity else prepared.user_present
    present = present_matrix[selection.entity_mask][:, days].any(axis=0)
    for name in COUNTERS:
        matrix = source.get(name)
        if matrix is None:
            frame[name] = np.nan
            continue
        cells = matrix[selection.entity_mask][:, days]
        # A counter no record of the day carries is missing, not zero.
        reported = present & ~np.isnan(cells).all(axis=0)
        frame[name] = np.where(reported, np.nansum(cells, axis=0), np.nan)
    return frame


def by_period(frame: pd.DataFrame, grain: str, keys: tuple[str, ...] = ()) -> pd.DataFrame:
    """Sum counters per period (and ``keys``); a period with no value at all stays NaN."""
    periods = frame.assign(period=metrics.period_start(frame["day"], grain))
    counters = [name for name in frame.columns if name not in ("day", *keys)]
    grouped = periods.groupby(["period", *keys], observed=True, sort=True)[counters].sum(min_count=1).reset_index()
    if metrics.ACCEPTANCES in grouped and metrics.GENERATIONS in grouped:
        grouped["acceptance_rate"] = metrics.rate_of_sums(grouped[metrics.ACCEPTANCES], grouped[metrics.GENERATIONS])
    return grouped


def active_users_by_period(selection: Selection, grain: str, flag: str | None = None) -> pd.Series:
    """Count distinct active users per period from user rows, optionally those with ``flag`` set.

    A period with no user rows at all is NaN; a user active on several days counts once.
    """
    prepared = selection.prepared
    codes, starts = prepared.period_codes[grain]
    days = np.flatnonzero(selection.day_mask)
    if len(days) == 0 or prepared.user_count == 0:
        return pd.Series([], index=pd.DatetimeIndex([]), dtype="float64", name=flag or "active_users")
    periods = codes[days]
    first = np.flatnonzero(np.r_[True, periods[1:] != periods[:-1]])
    counts = metrics.distinct_users_per_period(selection.activity(flag)[days], first)
    covered = np.logical_or.reduceat(prepared.user_present[selection.entity_mask][:, days].any(axis=0), first)
    values = np.where(covered, counts, np.nan)
    return pd.Series(values, index=starts[periods[first]], name=flag or "active_users")


def distinct_active(selection: Selection, flag: str | None = None) -> int | None:
    """Count distinct active users in the window; None when the window has no user rows."""
    prepared = selection.prepared
    if prepared.user_count == 0 or not selection.has_days():
        return None
    grid = selection.activity(flag)[selection.days_index]
    return int(metrics.distinct_users_per_period(grid, np.zeros(1, dtype=np.intp))[0]) if len(grid) else 0


def trailing_active(selection: Selection, last: int, days: int) -> int | None:
    """Count distinct active users in the ``days`` calendar days ending on day code ``last``."""
    prepared = selection.prepared
    if prepared.user_count == 0 or last < 0:
        return None
    first = max(last - days + 1, 0)
    grid = selection.activity()[first : last + 1]
    return int(metrics.distinct_users_per_period(grid, np.zeros(1, dtype=np.intp))[0])
