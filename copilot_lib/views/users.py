"""Users: one row per user with activity, top IDE, language and model, and adoption phase."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from copilot_lib import metrics
from copilot_lib.tables import Tables
from copilot_lib.views.breakdowns import CodedBreakdown, coded, small_int
from copilot_lib.views.dimensions import ALL_COUNTERS, CODE_COUNTERS
from copilot_lib.views.filters import Filters
from copilot_lib.views.prepared import Prepared, UserRows
from copilot_lib.views.pseudonym import alias_logins
from copilot_lib.views.result import NO_DATA, NO_DATA_IN_RANGE, NO_USER_ROWS, ViewResult
from copilot_lib.views.selection import SATURDAY, Selection, resolve

# (table, its dimensions and counters, the dimension shown, the counter that ranks values)
# for each "top" column. The dimensions and counters match the breakdown views, so both
# share one coded copy of each table.
TOP_COLUMNS = {
    "top_ide": ("user_by_ide", ("ide",), ALL_COUNTERS, "ide", metrics.INTERACTIONS),
    "top_language": (
        "user_by_language_feature",
        ("language", "feature"),
        CODE_COUNTERS,
        "language",
        metrics.GENERATIONS,
    ),
    "top_model": ("user_by_model_feature", ("model", "feature"), ALL_COUNTERS, "model", metrics.INTERACTIONS),
}
TABLE_COUNTERS = (
    metrics.INTERACTIONS,
    metrics.GENERATIONS,
    metrics.ACCEPTANCES,
    metrics.LOC_ADDED,
    metrics.LOC_DELETED,
)


@dataclass
class UsersView(ViewResult):
    """The per-user table."""

    table: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass
class TopIndex:
    """Per-row arrays of one user breakdown for ranking values per user, built once per load."""

    row: np.ndarray
    day_window: CodedBreakdown
    user: np.ndarray
    value: np.ndarray
    weight: np.ndarray
    values: np.ndarray
    all_matched: bool


def top_index(
    tables: Tables,
    prepared: Prepared,
    table: str,
    dims: tuple[str, ...],
    counters: tuple[str, ...],
    dimension: str,
    counter: str,
) -> TopIndex | None:
    """Return the ranking arrays of one user breakdown, built once per load; None without it."""
    key = f"top:{table}:{dimension}:{counter}"
    cached = prepared.cache.get(key)
    if isinstance(cached, TopIndex):
        return cached
    if not tables.has_rows(table):
        return None
    rows = coded(tables, prepared, table, dims, counters, summed=False)
    if rows.row is None or counter not in rows.counters:
        return None
    value_of_combo, values = pd.factorize(rows.combos[dimension])
    user = np.where(rows.row >= 0, prepared.users.user[rows.row], -1).astype(np.int32)
    index = TopIndex(
        row=rows.row,
        day_window=rows,
        user=user,
        value=value_of_combo[rows.combo].astype(small_int(len(values))),
        # A tiny weight per row makes a value used without the counter still count.
        weight=(np.nan_to_num(rows.counters[counter]) + 1e-6).astype(np.float32),
        values=np.asarray(values, dtype=object),
        all_matched=bool((user >= 0).all()),
    )
    prepared.cache[key] = index
    return index


# Sums per (block of days, weekday or weekend, user) let a long range add up a few dozen
# blocks instead of millions of rows. Only the partial blocks at the two ends read rows.
BLOCK_DAYS = 16
SUM_COLUMNS = ("active_days", *TABLE_COUNTERS, "agent_days", "cli_days", "ai_credits_used", "rows")


@dataclass
class UserSums:
    """Per-user sums over some rows: the table's columns, top-value grids, latest phase."""

    columns: dict[str, np.ndarray]
    top: dict[str, np.ndarray]
    phase_day: np.ndarray
    phase_code: np.ndarray

    def add(self, other: UserSums) -> None:
        for name, values in other.columns.items():
            self.columns[name] = self.columns[name] + values
        for name, grid in other.top.items():
            self.top[name] = self.top[name] + grid
        newer = other.phase_day > self.phase_day
        self.phase_day = np.where(newer, other.phase_day, self.phase_day)
        self.phase_code = np.where(newer, other.phase_code, self.phase_code)


def phase_codes(tables: Tables, prepared: Prepared) -> tuple[np.ndarray, np.ndarray] | None:
    """Return the adoption phase code of each user-day row (-1 when none) and the phase names.

    None when the user-day table has no phase column. The result, None included, is cached
    per load.
    """
    if "ai_adoption_phase" not in prepared.cache:
        column = tables.user_daily.get("ai_adoption_phase")
        phases = None
        if column is not None:
            codes, names = pd.factorize(column, use_na_sentinel=True)
            # GitHub names a handful of phases, so 16-bit codes are plenty.
            phases = (codes[prepared.users.position].astype(np.int16), np.asarray(names, dtype=object))
        prepared.cache["ai_adoption_phase"] = phases
    cached = prepared.cache["ai_adoption_phase"]
    return cached if isinstance(cached, tuple) else None


def _row_columns(
    users: UserRows, positions: slice | np.ndarray, groups: np.ndarray, size: int
) -> dict[str, np.ndarray]:
    """Sum the table's columns of the given rows per group (a user, or a block and user)."""
    columns = {
        "active_days": np.bincount(groups, weights=users.active[positions], minlength=size),
        "agent_days": np.bincount(groups, weights=users.flags["used_agent"][positions], minlength=size),
        "cli_days": np.bincount(groups, weights=users.flags["used_cli"][positions], minlength=size),
        "ai_credits_used": np.bincount(groups, weights=users.ai_credits_used[positions], minlength=size),
        "rows": np.bincount(groups, minlength=size).astype(np.float64),
    }
    for name in TABLE_COUNTERS:
        columns[name] = np.bincount(groups, weights=users.counters[name][positions], minlength=size)
    return columns


def _latest_phase(
    tables: Tables, prepared: Prepared, positions: slice | np.ndarray, groups: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return the day and phase code of the latest row with a phase, per group (-1 when none)."""
    day = np.full(size, -1, dtype=np.int64)
    code = np.full(size, -1, dtype=np.int64)
    phases = phase_codes(tables, prepared)
    if phases is None:
        return day, code
    chosen = phases[0][positions]
    known = chosen >= 0
    if not known.any():
        return day, code
    # Rows are sorted by day, so the largest row number per group is its latest row.
    latest = np.full(size, -1, dtype=np.int64)
    np.maximum.at(latest, groups[known], np.flatnonzero(known))
    found = latest >= 0
    day[found] = prepared.users.day[positions][latest[found]]
    code[found] = chosen[latest[found]]
    return day, code


def _row_sums(tables: Tables, selection: Selection, first: int, last: int) -> UserSums:
    """Sum the selected user rows of days [first, last] per user."""
    prepared = selection.prepared
    users = prepared.users
    count = prepared.user_count
    positions: slice | np.ndarray = users.day_slice(first, last) if last >= first else slice(0, 0)
    selected: np.ndarray | None = None
    every_row = selection.team_rows is None and isinstance(selection.days_index, slice)
    if not (every_row and isinstance(positions, slice) and selection.entity_mask[users.entity[positions]].all()):
        window = positions if isinstance(positions, slice) else slice(0, 0)
        keep = selection.day_mask[users.day[window]] & selection.entity_mask[users.entity[window]]
        if selection.team_rows is not None:
            keep &= selection.team_rows[window]
        positions = np.flatnonzero(keep) + window.start
        selected = np.zeros(len(users) + 1, dtype=bool)
        selected[positions] = True
    user = users.user[positions]
    top = {}
    for column, (table, dims, counters, dimension, counter) in TOP_COLUMNS.items():
        index = top_index(tables, prepared, table, dims, counters, dimension, counter)
        if index is not None:
            top[column] = _top_grid(index, selection, selected, first, last)
    phase_day, phase_code = _latest_phase(tables, prepared, positions, user, count)
    return UserSums(_row_columns(users, positions, user, count), top, phase_day, phase_code)


def _top_grid(index: TopIndex, selection: Selection, selected: np.ndarray | None, first: int, last: int) -> np.ndarray:
    """Sum each user's ranking counter per value over the rows of days [first, last]."""
    prepared = selection.prepared
    width = max(len(index.values), 1)
    if last < first:
        return np.zeros((prepared.user_count, width))
    window = index.day_window.window(first, last)
    user, value, weight = index.user[window], index.value[window], index.weight[window]
    keep: np.ndarray | None = None
    if selected is not None:
        keep = selected[index.row[window]]  # row -1 reads the spare last cell, always False
    elif not index.all_matched:
        keep = user >= 0
    if keep is not None:
        user, value, weight = user[keep], value[keep], weight[keep]
    flat = user.astype(np.int64) * width + value
    return np.bincount(flat, weights=weight, minlength=prepared.user_count * width).reshape(-1, width)


@dataclass
class UserBlocks:
    """Per-user sums for every (block, weekday or weekend) part of the calendar."""

    columns: dict[str, np.ndarray]
    top: dict[str, np.ndarray]
    phase_day: np.ndarray
    phase_code: np.ndarray
    entities: np.ndarray


def _part_of_day(prepared: Prepared) -> np.ndarray:
    weekend = np.asarray(prepared.calendar.day_of_week >= SATURDAY, dtype=np.int64)
    return (np.arange(prepared.days) // BLOCK_DAYS) * 2 + weekend


def _user_blocks(tables: Tables, prepared: Prepared) -> UserBlocks:
    cached = prepared.cache.get("user-blocks")
    if isinstance(cached, UserBlocks):
        return cached
    users = prepared.users
    count = prepared.user_count
    parts = int(_part_of_day(prepared).max()) + 1 if prepared.days else 0
    known = np.flatnonzero((users.entity >= 0) & (users.user >= 0))
    groups = _part_of_day(prepared)[users.day[known]] * count + users.user[known]
    size = parts * count
    columns = {name: values.reshape(parts, count) for name, values in _row_columns(users, known, groups, size).items()}
    top = {}
    for column, (table, dims, counters, dimension, counter) in TOP_COLUMNS.items():
        index = top_index(tables, prepared, table, dims, counters, dimension, counter)
        if index is None:
            continue
        width = max(len(index.values), 1)
        matched = index.user >= 0
        part = _part_of_day(prepared)[index.day_window.day[matched]]
        flat = (part * count + index.user[matched]) * width + index.value[matched]
        grid = np.bincount(flat, weights=index.weight[matched], minlength=size * width)
        top[column] = grid.reshape(parts, count, width)
    phase_day, phase_code = _latest_phase(tables, prepared, known, groups, size)
    blocks = UserBlocks(
        columns=columns,
        top=top,
        phase_day=phase_day.reshape(parts, count),
        phase_code=phase_code.reshape(parts, count),
        entities=np.unique(users.entity[known]),
    )
    prepared.cache["user-blocks"] = blocks
    return blocks


def _block_sums(blocks: UserBlocks, parts: np.ndarray) -> UserSums:
    """Add up the per-user sums of the chosen parts."""
    columns = {name: values[parts].sum(axis=0, dtype=np.float64) for name, values in blocks.columns.items()}
    top = {name: grid[parts].sum(axis=0, dtype=np.float64) for name, grid in blocks.top.items()}
    days = blocks.phase_day[parts]
    latest = days.argmax(axis=0)
    users = np.arange(days.shape[1])
    return UserSums(columns, top, days[latest, users], blocks.phase_code[parts][latest, users])


def _user_sums(tables: Tables, selection: Selection) -> UserSums:
    """Sum the selected rows per user: whole blocks from the block sums, the ends from rows.

    Block sums cover every entity and no team, so a team selection, or an entity selection
    that leaves out an entity with user rows, reads rows throughout.
    """
    prepared = selection.prepared
    first, last = selection.first, selection.last
    if selection.team_rows is not None or last - first + 1 < 2 * BLOCK_DAYS:
        return _row_sums(tables, selection, first, last)
    blocks = _user_blocks(tables, prepared)
    if not selection.entity_mask[blocks.entities].all():
        return _row_sums(tables, selection, first, last)
    start_block = -(-first // BLOCK_DAYS)
    end_block = (last + 1) // BLOCK_DAYS - 1
    parts = np.arange(start_block, end_block + 1) * 2
    if not selection.filters.exclude_weekends:
        parts = np.sort(np.concatenate([parts, parts + 1]))
    sums = _block_sums(blocks, parts)
    sums.add(_row_sums(tables, selection, first, start_block * BLOCK_DAYS - 1))
    sums.add(_row_sums(tables, selection, (end_block + 1) * BLOCK_DAYS, last))
    return sums


def _table(tables: Tables, selection: Selection) -> pd.DataFrame:
    prepared = selection.prepared
    sums = _user_sums(tables, selection)
    frame = pd.DataFrame({"user_id": prepared.user_ids, "user_login": prepared.logins})
    frame["active_days"] = sums.columns["active_days"].round().astype(np.int64)
    for name in TABLE_COUNTERS:
        frame[name] = sums.columns[name]
    frame["acceptance_rate"] = metrics.rate_of_sums(frame[metrics.ACCEPTANCES], frame[metrics.GENERATIONS])
    for column, grid in sums.top.items():
        frame[column] = _top_names(grid, TOP_COLUMNS[column], tables, prepared, selection.filters.hide_unknown)
    for column in TOP_COLUMNS:
        if column not in frame:
            frame[column] = None
    frame["agent_days"] = sums.columns["agent_days"].round().astype(np.int64)
    frame["cli_days"] = sums.columns["cli_days"].round().astype(np.int64)
    frame["ai_credits_used"] = sums.columns["ai_credits_used"]
    phases = phase_codes(tables, prepared)
    names = np.full(prepared.user_count, None, dtype=object)
    if phases is not None:
        found = sums.phase_code >= 0
        names[found] = phases[1][sums.phase_code[found]]
    frame["ai_adoption_phase"] = names
    seen = sums.columns["rows"] > 0
    return frame.loc[seen].sort_values(metrics.INTERACTIONS, ascending=False, kind="stable").reset_index(drop=True)


def _top_names(
    grid: np.ndarray,
    spec: tuple[str, tuple[str, ...], tuple[str, ...], str, str],
    tables: Tables,
    prepared: Prepared,
    hide_unknown: bool,
) -> np.ndarray:
    """Return each user's value with the largest summed counter, None for users without one."""
    table, dims, counters, dimension, counter = spec
    index = top_index(tables, prepared, table, dims, counters, dimension, counter)
    names = np.full(prepared.user_count, None, dtype=object)
    if index is None:
        return names
    if hide_unknown:
        grid = np.where((index.values == metrics.UNKNOWN)[None, :], 0.0, grid)
    used = grid.max(axis=1) > 0
    names[used] = index.values[grid[used].argmax(axis=1)]
    return names


def users(tables: Tables, filters: Filters) -> UsersView:
    """Build one row per user with a user-day row in the range.

    ``active_days`` counts days with interactions; users GitHub saw only through
    server-side telemetry appear with zero active days. With ``filters.pseudonymise`` the
    login column contains stable aliases instead of logins.
    """
    selection = resolve(tables, filters)
    if selection.prepared.days == 0:
        return UsersView(missing=NO_DATA)
    if selection.prepared.user_count == 0:
        return UsersView(missing=NO_USER_ROWS)
    table = _table(tables, selection)
    if table.empty:
        return UsersView(missing=NO_DATA_IN_RANGE.format(since=selection.since, until=selection.until))
    if filters.pseudonymise:
        table["user_login"] = alias_logins(table["user_id"], table["user_login"])
    if filters.search:
        needle = filters.search.casefold()
        table = table.loc[
            table["user_login"].astype("string").str.casefold().str.contains(needle, regex=False).fillna(False)
        ]
    return UsersView(table=table.reset_index(drop=True), notes=list(selection.notes))
