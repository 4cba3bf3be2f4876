"""Per-day sums of a breakdown table (by feature, IDE, language, model, CLI) for a selection.

Entity breakdowns are small (one row per entity, day and dimension value) and hold GitHub's
own totals, so they are used whenever the selected entities have them and no team is
selected. Otherwise the user breakdown rows are summed: once per load into per-day sums,
or per control change for the rows of a team's members on each day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from copilot_lib import metrics
from copilot_lib.tables import Tables
from copilot_lib.views.prepared import Prepared, _float
from copilot_lib.views.selection import Selection


@dataclass
class CodedBreakdown:
    """A breakdown table as arrays: day, entity and dimension-combination codes and counters."""

    day: np.ndarray
    entity: np.ndarray
    combo: np.ndarray
    combos: pd.DataFrame
    counters: dict[str, np.ndarray]
    row: np.ndarray | None
    day_bounds: np.ndarray | None = None

    def window(self, first: int, last: int) -> slice:
        """Return the rows of days [first, last] when rows are sorted by day, else all rows."""
        if self.day_bounds is None:
            return slice(0, len(self.day))
        if last < max(first, 0):
            return slice(0, 0)
        return slice(int(self.day_bounds[max(first, 0)]), int(self.day_bounds[last + 1]))

    def aggregate(self, mask: np.ndarray, days: int) -> pd.DataFrame:
        """Sum the counters of the masked rows per (day, combination)."""
        width = max(len(self.combos), 1)
        flat = self.day[mask].astype(np.int64) * width + self.combo[mask]
        size = days * width
        present = np.bincount(flat, minlength=size)
        cells = np.flatnonzero(present)
        frame = pd.DataFrame({"day_code": cells // width, "combo": cells % width})
        for name, values in self.counters.items():
            chosen = values[mask]
            has_value = np.bincount(flat[~np.isnan(chosen)], minlength=size)[cells] > 0
            sums = np.bincount(flat, weights=np.nan_to_num(chosen), minlength=size)[cells]
            frame[name] = np.where(has_value, sums, np.nan)
        return frame


def _combinations(frame: pd.DataFrame, dims: tuple[str, ...]) -> tuple[np.ndarray, pd.DataFrame]:
    """Number each combination of dimension values; missing values read as ``unknown``."""
    if not dims:
        return np.zeros(len(frame), dtype=np.int32), pd.DataFrame(index=[0])
    combined = np.zeros(len(frame), dtype=np.int64)
    values = []
    for dim in dims:
        codes, uniques = pd.factorize(frame[dim])
        names = np.append(np.asarray(uniques, dtype=object), metrics.UNKNOWN)
        combined = combined * len(names) + np.where(codes < 0, len(names) - 1, codes)
        values.append(names)
    combo, seen = pd.factorize(combined)
    seen = np.asarray(seen)
    columns = {}
    for dim, names in zip(reversed(dims), reversed(values), strict=True):
        columns[dim] = names[seen % len(names)]
        seen = seen // len(names)
    combos = pd.DataFrame({dim: pd.array(columns[dim], dtype="string") for dim in dims})
    combos = combos.fillna(metrics.UNKNOWN).replace("", metrics.UNKNOWN)
    return combo.astype(np.int32), combos


def _code(
    tables: Tables, prepared: Prepared, name: str, dims: tuple[str, ...], counters: tuple[str, ...]
) -> CodedBreakdown:
    frame = tables.frames[name]
    day, entity, user = prepared.codes(frame)
    combo, combos_frame = _combinations(frame, dims)
    values = {column: _float(frame, column) for column in counters if column in frame}
    if "user_id" not in frame:
        return CodedBreakdown(day, entity, combo, combos_frame, values, None)
    # User rows: sort by day so a date range is a slice, and keep each row's user-day row.
    order = np.argsort(day, kind="stable")
    day, entity, user, combo = day[order], entity[order], user[order], combo[order]
    key = prepared.key(day, entity, user)
    keys = prepared.users.key
    position = np.searchsorted(keys, key)
    found = position < len(keys)
    found[found] = keys[position[found]] == key[found]
    row = np.where(found & (user >= 0) & (day >= 0), position, -1).astype(np.int32)
    return CodedBreakdown(
        day=day.astype(small_int(prepared.days)),
        entity=entity,
        combo=combo.astype(small_int(len(combos_frame))),
        combos=combos_frame,
        # float32 halves the memory of millions of rows; sums are taken in float64.
        counters={column: array[order].astype(np.float32) for column, array in values.items()},
        row=row,
        day_bounds=np.searchsorted(day, np.arange(prepared.days + 1)),
    )


def small_int(count: int) -> type[np.signedinteger]:
    """Return the smallest integer type for codes in [-1, count), to save memory on millions of rows."""
    return np.int16 if count < np.iinfo(np.int16).max else np.int32


def _pre_summed(coded: CodedBreakdown, prepared: Prepared) -> CodedBreakdown:
    """Sum user breakdown rows per (entity, day, combination), once per load."""
    entities = max(len(prepared.entities), 1)
    width = max(len(coded.combos), 1)
    valid = (coded.entity >= 0) & (coded.day >= 0)
    flat = (coded.entity[valid].astype(np.int64) * prepared.days + coded.day[valid]) * width + coded.combo[valid]
    size = entities * prepared.days * width
    cells = np.flatnonzero(np.bincount(flat, minlength=size))
    counters = {}
    for name, values in coded.counters.items():
        chosen = values[valid]
        has_value = np.bincount(flat[~np.isnan(chosen)], minlength=size)[cells] > 0
        sums = np.bincount(flat, weights=np.nan_to_num(chosen), minlength=size)[cells]
        counters[name] = np.where(has_value, sums, np.nan)
    return CodedBreakdown(
        day=((cells // width) % prepared.days).astype(np.int32),
        entity=(cells // width // prepared.days).astype(np.int16),
        combo=(cells % width).astype(np.int32),
        combos=coded.combos,
        counters=counters,
        row=None,
    )


def coded(
    tables: Tables, prepared: Prepared, name: str, dims: tuple[str, ...], counters: tuple[str, ...], summed: bool
) -> CodedBreakdown:
    """Return a breakdown table coded for aggregation, cached per load.

    The summed form of a user table is built from its cached per-row form, so once the
    per-row form exists neither form reads the table again.
    """
    key = f"breakdown:{name}:{dims}:{counters}:{summed}"
    cached = prepared.cache.get(key)
    if isinstance(cached, CodedBreakdown):
        return cached
    if summed:
        result = _pre_summed(coded(tables, prepared, name, dims, counters, summed=False), prepared)
    else:
        result = _code(tables, prepared, name, dims, counters)
    prepared.cache[key] = result
    return result


def source_table(tables: Tables, selection: Selection, kind: str) -> str | None:
    """Return the table to read a breakdown from: the entity one when usable, else the user one."""
    entity_name, user_name = f"entity_{kind}", f"user_{kind}"
    has_entity = tables.has_rows(entity_name)
    if selection.team_rows is None and has_entity and selection.from_entity:
        return entity_name
    if tables.has_rows(user_name):
        return user_name
    if selection.team_rows is None and has_entity:
        return entity_name
    return None


def breakdown_days(
    tables: Tables, selection: Selection, kind: str, dims: tuple[str, ...], counters: tuple[str, ...]
) -> pd.DataFrame | None:
    """Return per-day sums of a breakdown for the selection: day, dims and counters.

    None when neither the entity nor the user table of this breakdown exists.
    """
    name = source_table(tables, selection, kind)
    if name is None:
        return None
    prepared = selection.prepared
    by_user = name.startswith("user_")
    table = coded(tables, prepared, name, dims, counters, summed=by_user and selection.team_rows is None)
    if selection.team_rows is not None and table.row is not None:
        # The selected user-day rows already apply the days, entities and team members.
        selected = np.zeros(len(prepared.users) + 1, dtype=bool)
        selected[selection.user_rows(active_only=False)] = True
        mask = np.zeros(len(table.day), dtype=bool)
        window = table.window(selection.first, selection.last)
        mask[window] = selected[table.row[window]]  # row -1 reads the spare last cell, always False
    else:
        valid = (table.day >= 0) & (table.entity >= 0)
        mask = valid.copy()
        mask[valid] = selection.day_mask[table.day[valid]] & selection.entity_mask[table.entity[valid]]
    frame = table.aggregate(mask, prepared.days)
    days = prepared.calendar[frame.pop("day_code").to_numpy()]
    combos = table.combos.iloc[frame.pop("combo").to_numpy()].reset_index(drop=True)
    result = pd.concat([pd.DataFrame({"day": days}), combos[list(dims)], frame.reset_index(drop=True)], axis=1)
    if selection.filters.hide_unknown:
        for dim in dims:
            result = result.loc[result[dim] != metrics.UNKNOWN]
    return result.reset_index(drop=True)


def totals(frame: pd.DataFrame, dims: tuple[str, ...]) -> pd.DataFrame:
    """Sum per-day breakdown rows over the whole window, with the acceptance rate as a ratio of sums."""
    counters = [name for name in frame.columns if name not in ("day", *dims)]
    grouped = frame.groupby(list(dims), observed=True, sort=False)[counters].sum(min_count=1).reset_index()
    if metrics.ACCEPTANCES in grouped and metrics.GENERATIONS in grouped:
        grouped["acceptance_rate"] = metrics.rate_of_sums(grouped[metrics.ACCEPTANCES], grouped[metrics.GENERATIONS])
    return grouped
