"""Compact per-load structures that make every view cheap to recompute after a control change.

Building them costs a few seconds on a year of data for ten thousand users, once per load.
After that a control change only slices day-sorted integer arrays and sums small per-day
aggregates: the user-day rows become parallel numpy arrays sorted by day (so a date range
is a slice), user ids become dense codes (so distinct users are a boolean bitmap, never a
sum of daily counts) and entity totals become an entity x day matrix with NaN for days
without a record.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from copilot_lib import metrics
from copilot_lib.schema import USER_FLAGS
from copilot_lib.tables import Tables

logger = logging.getLogger(__name__)

# The counters the views chart, in the order they appear in tables.
COUNTERS = (
    metrics.INTERACTIONS,
    metrics.GENERATIONS,
    metrics.ACCEPTANCES,
    "loc_suggested_to_add_sum",
    metrics.LOC_ADDED,
    metrics.LOC_DELETED,
)
ENTITY_USER_COUNTS = (
    "daily_active_users",
    "weekly_active_users",
    "monthly_active_users",
    "monthly_active_chat_users",
    "monthly_active_agent_users",
    "daily_active_cli_users",
    "daily_active_copilot_code_review_users",
    "daily_active_copilot_cloud_agent_users",
    "daily_active_copilot_app_users",
)


def _float(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Return a column as float64 with NaN for missing values, or all NaN when absent."""
    if column not in frame:
        return np.full(len(frame), np.nan)
    return frame[column].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)


def _bool(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame[column].astype("boolean").fillna(False).to_numpy(dtype=bool)


@dataclass
class UserRows:
    """The user-day rows as parallel arrays sorted by (day, entity, user).

    Counters and ``ai_credits_used`` are float64 with missing values read as 0.
    """

    day: np.ndarray
    user: np.ndarray
    entity: np.ndarray
    key: np.ndarray
    active: np.ndarray
    counters: dict[str, np.ndarray]
    flags: dict[str, np.ndarray]
    ai_credits_used: np.ndarray
    position: np.ndarray
    day_bounds: np.ndarray

    def __len__(self) -> int:
        return len(self.day)

    def day_slice(self, first: int, last: int) -> slice:
        """Return the slice of rows whose day code lies in [first, last]."""
        return slice(int(self.day_bounds[first]), int(self.day_bounds[last + 1]))


@dataclass
class Prepared:
    """Everything a view needs from one set of tables, built once per load."""

    calendar: pd.DatetimeIndex
    entities: list[tuple[str, str]]
    user_ids: np.ndarray
    logins: np.ndarray
    users: UserRows
    entity_days: dict[str, np.ndarray]
    entity_present: np.ndarray
    user_day_sums: dict[str, np.ndarray]
    user_present: np.ndarray
    period_codes: dict[str, tuple[np.ndarray, pd.DatetimeIndex]]
    activity: dict[str, np.ndarray] = field(default_factory=dict)
    cache: dict[str, object] = field(default_factory=dict)

    @property
    def days(self) -> int:
        return len(self.calendar)

    @property
    def user_count(self) -> int:
        return len(self.user_ids)

    def day_code(self, day: date | pd.Timestamp) -> int:
        """Return the code of ``day``; days outside the data range fall outside [0, days)."""
        if self.days == 0:
            return 0
        return int((pd.Timestamp(day) - self.calendar[0]).days)

    def key(self, day: np.ndarray, entity: np.ndarray, user: np.ndarray) -> np.ndarray:
        """Return the join key of (day, entity, user) codes; user rows are sorted by it."""
        entities = max(len(self.entities), 1)
        users = max(self.user_count, 1)
        return (day.astype(np.int64) * entities + entity.astype(np.int64)) * users + user.astype(np.int64)

    def codes(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return day, entity and user codes of a frame with scope, entity_id, day, user_id.

        Rows whose entity or user is unknown to the user-day rows get code -1.
        """
        origin = self.calendar[0].to_datetime64() if self.days else np.datetime64("1970-01-01", "ns")
        day = (frame["day"].to_numpy(dtype="datetime64[ns]") - origin) // np.timedelta64(1, "D")
        entity = entity_codes(frame, self.entities)
        if "user_id" in frame and self.user_count:
            ids = frame["user_id"].astype("Int64").to_numpy(dtype="int64", na_value=-1)
            user = np.searchsorted(self.user_ids, ids)
            user = np.where(
                (user < self.user_count) & (self.user_ids[np.minimum(user, self.user_count - 1)] == ids), user, -1
            )
        else:
            user = np.full(len(frame), -1)
        return day.astype(np.int32), entity, user.astype(np.int32)


def entity_codes(frame: pd.DataFrame, entities: list[tuple[str, str]]) -> np.ndarray:
    """Return each row's index in ``entities`` (-1 when absent)."""
    if frame.empty or not entities:
        return np.full(len(frame), -1, dtype=np.int16)
    lookup = {pair: code for code, pair in enumerate(entities)}
    scope, scopes = pd.factorize(frame["scope"])
    entity, entity_ids = pd.factorize(frame["entity_id"])
    # Scopes and entity ids have a handful of values, so the mapping table is tiny.
    table = np.array(
        [[lookup.get((str(s), str(e)), -1) for e in entity_ids] + [-1] for s in scopes]
        + [[-1] * (len(entity_ids) + 1)],
        dtype=np.int16,
    )
    return table[scope, entity]


# Tables whose days are not report days: seat and team snapshots of a history store, and
# the retired APIs' days, which the History tab shows.
NOT_REPORT_TABLES = ("seats", "teams", "billing")


def _calendar(tables: Tables) -> pd.DatetimeIndex:
    """Return every day from the first to the last day of the usage reports."""
    firsts, lasts = [], []
    for name, frame in tables.frames.items():
        if name in NOT_REPORT_TABLES or name.startswith("legacy_"):
            continue
        if "day" in frame and not frame.empty:
            firsts.append(frame["day"].min())
            lasts.append(frame["day"].max())
    if not firsts:
        return pd.DatetimeIndex([], dtype="datetime64[ns]")
    return pd.date_range(min(firsts), max(lasts), freq="D")


def _entities(tables: Tables) -> list[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for name in ("entity_daily", "user_daily"):
        frame = tables.frames.get(name)
        if frame is not None and not frame.empty:
            pairs.update(zip(frame["scope"].astype(str), frame["entity_id"].astype(str), strict=True))
    return sorted(pairs)


def _user_rows(prepared: Prepared, frame: pd.DataFrame) -> UserRows:
    day, entity, user = prepared.codes(frame)
    key = prepared.key(day, entity, user)
    order = np.argsort(key, kind="stable")
    day = day[order]
    counters = {name: _float(frame, name)[order] for name in COUNTERS}
    interactions = np.nan_to_num(counters[metrics.INTERACTIONS])
    return UserRows(
        day=day,
        user=user[order],
        entity=entity[order],
        key=key[order],
        active=interactions > 0,
        counters=counters,
        flags={name: _bool(frame, name)[order] for name in USER_FLAGS},
        ai_credits_used=_float(frame, "ai_credits_used")[order],
        position=order,
        day_bounds=np.searchsorted(day, np.arange(prepared.days + 1)),
    )


def _per_entity_day(entity: np.ndarray, day: np.ndarray, values: np.ndarray, entities: int, days: int) -> np.ndarray:
    """Sum ``values`` per (entity, day); NaN where no row had a value."""
    flat = entity.astype(np.int64) * days + day
    size = entities * days
    present = np.bincount(flat[~np.isnan(values)], minlength=size) > 0
    sums = np.bincount(flat, weights=np.nan_to_num(values), minlength=size)
    return np.where(present, sums, np.nan).reshape(entities, days)


def _activity(prepared: Prepared) -> dict[str, np.ndarray]:
    """Return entity x day x user boolean arrays: active that day, and active with each flag set.

    Distinct users over any set of days are then an ``any`` over those days, which is far
    cheaper than finding unique users among millions of rows. The arrays take
    (1 + flags) x entities x days x users bytes: about 29 MB for a year of 10,000 users.
    """
    rows = prepared.users
    shape = (max(len(prepared.entities), 1), prepared.days, max(prepared.user_count, 1))
    known = (rows.entity >= 0) & (rows.user >= 0) & rows.active
    arrays = {}
    for name in ("active", *USER_FLAGS):
        chosen = known if name == "active" else known & rows.flags[name]
        grid = np.zeros(shape, dtype=bool)
        grid[rows.entity[chosen], rows.day[chosen], rows.user[chosen]] = True
        arrays[name] = grid
    return arrays


def _periods(calendar: pd.DatetimeIndex) -> dict[str, tuple[np.ndarray, pd.DatetimeIndex]]:
    periods = {}
    for grain in metrics.GRAINS:
        starts = metrics.period_start(calendar, grain)
        codes, unique = pd.factorize(starts, sort=True)
        periods[grain] = (codes.astype(np.int32), pd.DatetimeIndex(unique))
    return periods


def _table(tables: Tables, name: str) -> pd.DataFrame:
    """Return a table, or an empty one with the key columns when the folder had none."""
    frame = tables.frames.get(name)
    if frame is not None and not frame.empty:
        return frame
    return pd.DataFrame(
        {
            "scope": pd.Series([], dtype="category"),
            "entity_id": pd.Series([], dtype="category"),
            "day": pd.Series([], dtype="datetime64[ns]"),
            "user_id": pd.Series([], dtype="Int64"),
            "user_login": pd.Series([], dtype="string"),
        }
    )


def build(tables: Tables) -> Prepared:
    """Build the compact structures for ``tables``."""
    calendar = _calendar(tables)
    entities = _entities(tables)
    user_daily = _table(tables, "user_daily")
    ids = (
        np.unique(user_daily["user_id"].dropna().astype("int64").to_numpy())
        if not user_daily.empty
        else np.zeros(0, np.int64)
    )
    logins = np.full(len(ids), None, dtype=object)
    if not user_daily.empty:
        latest = user_daily.dropna(subset=["user_id"]).sort_values("day").drop_duplicates("user_id", keep="last")
        logins[np.searchsorted(ids, latest["user_id"].astype("int64").to_numpy())] = latest["user_login"].to_numpy()
    empty = np.zeros((len(entities), len(calendar)))
    prepared = Prepared(
        calendar=calendar,
        entities=entities,
        user_ids=ids,
        logins=logins,
        users=None,  # type: ignore[arg-type]  # filled below, it needs the codes above
        entity_days={},
        entity_present=empty.astype(bool),
        user_day_sums={},
        user_present=empty.astype(bool),
        period_codes=_periods(calendar),
    )
    prepared.users = _user_rows(prepared, user_daily)
    rows = prepared.users
    for name in COUNTERS:
        prepared.user_day_sums[name] = _per_entity_day(
            rows.entity, rows.day, rows.counters[name], len(entities), len(calendar)
        )
    present = np.bincount(
        rows.entity.astype(np.int64) * len(calendar) + rows.day, minlength=len(entities) * len(calendar)
    )
    prepared.user_present = (present > 0).reshape(len(entities), len(calendar))
    prepared.activity = _activity(prepared)
    # The per-day sums above keep NaN for counters that no row reported. From here on the
    # row arrays read them as 0, so per-user and per-team sums need no NaN handling.
    for name in COUNTERS:
        np.nan_to_num(rows.counters[name], copy=False)
    np.nan_to_num(rows.ai_credits_used, copy=False)
    entity_daily = _table(tables, "entity_daily")
    if not entity_daily.empty:
        day, entity, _ = prepared.codes(entity_daily)
        for name in (*COUNTERS, *ENTITY_USER_COUNTS):
            prepared.entity_days[name] = _per_entity_day(
                entity, day, _float(entity_daily, name), len(entities), len(calendar)
            )
        seen = np.bincount(entity.astype(np.int64) * len(calendar) + day, minlength=len(entities) * len(calendar))
        prepared.entity_present = (seen > 0).reshape(len(entities), len(calendar))
    logger.info(
        "prepared %d user-day rows, %d users, %d entities over %d days",
        len(rows),
        len(ids),
        len(entities),
        len(calendar),
    )
    return prepared


_PREPARED: dict[int, tuple[weakref.ref[Tables], Prepared]] = {}


def prepare(tables: Tables) -> Prepared:
    """Return the prepared structures for ``tables``, building them on first use.

    The result is cached per ``Tables`` object for as long as that object lives; build a
    new ``Tables`` (a new load) to see changed data.
    """
    cached = _PREPARED.get(id(tables))
    if cached is not None and cached[0]() is tables:
        return cached[1]
    prepared = build(tables)
    key = id(tables)
    _PREPARED[key] = (weakref.ref(tables, lambda _: _PREPARED.pop(key, None)), prepared)
    return prepared
