"""Users: one row per user with activity, top IDE, language and model, and adoption phase."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from copilot_lib import metrics
from copilot_lib.tables import Tables
from copilot_lib.views.breakdowns import CodedBreakdown, coded
from copilot_lib.views.dimensions import ALL_COUNTERS, CODE_COUNTERS
from copilot_lib.views.filters import Filters
from copilot_lib.views.prepared import Prepared
from copilot_lib.views.pseudonym import alias_logins
from copilot_lib.views.result import NO_DATA, NO_DATA_IN_RANGE, NO_USER_ROWS, ViewResult
from copilot_lib.views.selection import Selection, resolve

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


def _top_index(
    tables: Tables,
    prepared: Prepared,
    table: str,
    dims: tuple[str, ...],
    counters: tuple[str, ...],
    dimension: str,
    counter: str,
) -> TopIndex | None:
    key = f"top:{table}:{dimension}:{counter}"
    cached = prepared.cache.get(key)
    if isinstance(cached, TopIndex):
        return cached
    if table not in tables or tables[table].empty:
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
        value=value_of_combo[rows.combo].astype(np.int32),
        # A tiny weight per row makes a value used without the counter still count.
        weight=(np.nan_to_num(rows.counters[counter]) + 1e-6).astype(np.float32),
        values=np.asarray(values, dtype=object),
        all_matched=bool((user >= 0).all()),
    )
    prepared.cache[key] = index
    return index


def _top(
    tables: Tables,
    selection: Selection,
    selected: np.ndarray | None,
    table: str,
    dims: tuple[str, ...],
    counters: tuple[str, ...],
    dimension: str,
    counter: str,
) -> np.ndarray:
    """Return each user's value of ``dimension`` with the largest ``counter`` in the window.

    ``selected`` marks the selected user-day rows (with a spare False cell at the end for
    rows without one); None means every row of the date range is selected.
    """
    prepared = selection.prepared
    names = np.full(prepared.user_count, None, dtype=object)
    index = _top_index(tables, prepared, table, dims, counters, dimension, counter)
    if index is None:
        return names
    window = index.day_window.window(selection.first, selection.last)
    user, value, weight = index.user[window], index.value[window], index.weight[window]
    keep: np.ndarray | None = None
    if selected is not None:
        keep = selected[index.row[window]]  # row -1 reads the spare last cell, always False
    elif not index.all_matched:
        keep = user >= 0
    if selection.filters.hide_unknown:
        known = (index.values != metrics.UNKNOWN)[value]
        keep = known if keep is None else keep & known
    if keep is not None:
        user, value, weight = user[keep], value[keep], weight[keep]
    width = max(len(index.values), 1)
    flat = user.astype(np.int64) * width + value
    grid = np.bincount(flat, weights=weight, minlength=prepared.user_count * width).reshape(prepared.user_count, width)
    used = grid.max(axis=1) > 0
    names[used] = index.values[grid[used].argmax(axis=1)]
    return names


def _phases(tables: Tables, prepared: Prepared, positions: slice | np.ndarray) -> np.ndarray:
    """Return each user's latest adoption phase in the window (rows are sorted by day)."""
    phases = np.full(prepared.user_count, None, dtype=object)
    column = tables.user_daily.get("ai_adoption_phase")
    if column is None:
        return phases
    cached = prepared.cache.get("ai_adoption_phase")
    if not isinstance(cached, tuple):
        codes, names = pd.factorize(column, use_na_sentinel=True)
        cached = (codes[prepared.users.position], np.asarray(names, dtype=object))
        prepared.cache["ai_adoption_phase"] = cached
    codes, names = cached
    chosen = codes[positions]
    if chosen.size == 0:
        return phases
    # Rows are sorted by day, so the largest row number per user is their latest row.
    order = np.arange(chosen.size)
    known = chosen >= 0
    latest = np.full(prepared.user_count, -1, dtype=np.int64)
    np.maximum.at(latest, prepared.users.user[positions][known], order[known])
    has_phase = latest >= 0
    phases[has_phase] = names[chosen[latest[has_phase]]]
    return phases


def _table(tables: Tables, selection: Selection) -> pd.DataFrame:
    prepared = selection.prepared
    users = prepared.users
    positions = selection.all_rows()
    user = users.user[positions]
    count = prepared.user_count
    frame = pd.DataFrame({"user_id": prepared.user_ids, "user_login": prepared.logins})
    frame["active_days"] = np.bincount(user[users.active[positions]], minlength=count)
    for name in TABLE_COUNTERS:
        frame[name] = np.bincount(user, weights=users.counters[name][positions], minlength=count)
    frame["acceptance_rate"] = metrics.rate_of_sums(frame[metrics.ACCEPTANCES], frame[metrics.GENERATIONS])
    selected = None
    if not isinstance(positions, slice):
        selected = np.zeros(len(users) + 1, dtype=bool)
        selected[positions] = True
    for column, (table, dims, counters, dimension, counter) in TOP_COLUMNS.items():
        frame[column] = _top(tables, selection, selected, table, dims, counters, dimension, counter)
    frame["agent_days"] = np.bincount(user[users.flags["used_agent"][positions]], minlength=count)
    frame["cli_days"] = np.bincount(user[users.flags["used_cli"][positions]], minlength=count)
    frame["ai_credits_used"] = np.bincount(user, weights=users.ai_credits_used[positions], minlength=count)
    frame["ai_adoption_phase"] = _phases(tables, prepared, positions)
    seen = np.bincount(user, minlength=count) > 0
    return frame.loc[seen].sort_values(metrics.INTERACTIONS, ascending=False, kind="stable").reset_index(drop=True)


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
