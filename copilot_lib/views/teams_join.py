"""The day-accurate join of user-day rows with user-team rows on (day, entity, user).

The join is done once per load. What a control change needs is kept in small forms: per
team and day sums of every counter, the (team, user) pairs of active members per day
sorted by day, and for each user-day row whether its user was in any reported team that
day. The unattributed bucket then needs no join at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from copilot_lib.tables import Tables
from copilot_lib.views.prepared import COUNTERS, Prepared

USER_TEAMS = "user_teams"


@dataclass
class TeamRows:
    """User-team rows joined with the user-day rows, in forms a control change can slice.

    A pair numbers one (entity, team, user) combination; ``pair_team`` and ``pair_entity``
    map it to its team and entity codes. ``members[p, d]`` is True when pair ``p`` had a
    membership row on day ``d`` and ``active[p, d]`` when that member was also active, so
    distinct members over any days are an ``any`` over columns. ``sums`` contains an entity x
    team x day array per counter (NaN where no member had a row), ``unattributed`` an
    entity x day matrix per counter for users in no team, ``unattributed_users`` entity x
    day x user grids of those users (``rows``: any row, ``active``: active), and ``attributed`` marks the
    user-day rows whose user was in at least one reported team that day. ``team`` and
    ``match`` (the user-day row of each membership row, -1 if none) serve the team filter.
    """

    slugs: list[str]
    team_ids: list[str]
    team: np.ndarray
    match: np.ndarray
    pair_team: np.ndarray
    pair_entity: np.ndarray
    members: np.ndarray
    active: np.ndarray
    sums: dict[str, np.ndarray]
    unattributed: dict[str, np.ndarray]
    unattributed_users: dict[str, np.ndarray]
    attributed: np.ndarray

    @property
    def teams(self) -> int:
        return len(self.slugs)

    @property
    def pairs(self) -> int:
        return len(self.pair_team)


def _matches(prepared: Prepared, day: np.ndarray, entity: np.ndarray, user: np.ndarray) -> np.ndarray:
    """Return the position of each row's user-day row, or -1 when the user has none that day."""
    key = prepared.key(day, entity, user)
    keys = prepared.users.key
    position = np.searchsorted(keys, key)
    found = position < len(keys)
    found[found] = keys[position[found]] == key[found]
    found &= (user >= 0) & (entity >= 0) & (day >= 0)
    return np.where(found, position, -1)


def _team_day_sums(
    prepared: Prepared, entity: np.ndarray, team: np.ndarray, day: np.ndarray, match: np.ndarray, teams: int
) -> dict[str, np.ndarray]:
    matched = match >= 0
    entities = max(len(prepared.entities), 1)
    flat = (entity[matched].astype(np.int64) * teams + team[matched]) * prepared.days + day[matched]
    size = entities * teams * prepared.days
    present = np.bincount(flat, minlength=size) > 0
    sums = {}
    for name in COUNTERS:
        values = np.nan_to_num(prepared.users.counters[name][match[matched]])
        total = np.bincount(flat, weights=values, minlength=size)
        cells = np.where(present, total, np.nan).reshape(entities, teams, prepared.days)
        sums[name] = np.where(_unreported(prepared, name)[:, None, :], np.nan, cells)
    return sums


def _unreported(prepared: Prepared, name: str) -> np.ndarray:
    """Return an entity x day mask of the days on which no user row carried counter ``name``.

    The prepared row arrays read a missing counter as 0, so the per-day sums, which keep
    NaN, tell when a counter was missing from every row of the day.
    """
    sums = prepared.user_day_sums[name]
    if not sums.size:
        return np.zeros((max(len(prepared.entities), 1), prepared.days), dtype=bool)
    return np.isnan(sums) & prepared.user_present


def _unattributed_sums(prepared: Prepared, attributed: np.ndarray) -> dict[str, np.ndarray]:
    users = prepared.users
    alone = ~attributed & (users.entity >= 0)
    entities = max(len(prepared.entities), 1)
    flat = users.entity[alone].astype(np.int64) * prepared.days + users.day[alone]
    size = entities * prepared.days
    present = np.bincount(flat, minlength=size) > 0
    sums = {}
    for name in COUNTERS:
        total = np.bincount(flat, weights=np.nan_to_num(users.counters[name][alone]), minlength=size)
        cells = np.where(present, total, np.nan).reshape(entities, prepared.days)
        sums[name] = np.where(_unreported(prepared, name), np.nan, cells)
    return sums


def _unattributed_users(prepared: Prepared, attributed: np.ndarray) -> dict[str, np.ndarray]:
    """Return entity x day x user grids of users in no team: with any row, and active."""
    users = prepared.users
    shape = (max(len(prepared.entities), 1), prepared.days, max(prepared.user_count, 1))
    alone = ~attributed & (users.entity >= 0) & (users.user >= 0)
    grids = {}
    for name, chosen in (("rows", alone), ("active", alone & users.active)):
        grid = np.zeros(shape, dtype=bool)
        grid[users.entity[chosen], users.day[chosen], users.user[chosen]] = True
        grids[name] = grid
    return grids


def _team_names(frame: pd.DataFrame) -> pd.Categorical:
    """Return each row's team slug, or its team id where the slug is missing, as sorted categories.

    Categories keep millions of membership rows as small integer codes, where strings
    would take a Python object each.
    """
    names = pd.Categorical(frame["slug"].astype("category"))
    missing = pd.isna(names)
    if missing.any():
        ids = frame["team_id"].astype("string")[missing]
        names = names.add_categories(sorted(set(ids) - set(names.categories)))
        names[missing] = ids.to_numpy()
    return names.reorder_categories(sorted(names.categories))


def _build(frame: pd.DataFrame, prepared: Prepared) -> TeamRows:
    day, entity, user = prepared.codes(frame)
    team, slugs = pd.factorize(_team_names(frame), sort=True)
    team = team.astype(np.int32)
    ids = frame.groupby(team)["team_id"].first().astype("string").tolist()
    member, _ = pd.factorize(frame["user_id"])
    members = int(member.max()) + 1 if len(member) else 1
    combined = (entity.astype(np.int64) * len(slugs) + team) * members + member
    pair, pair_values = pd.factorize(combined)
    pair_values = np.asarray(pair_values)
    match = _matches(prepared, day, entity, user)
    inside = (day >= 0) & (day < prepared.days)

    member_grid = np.zeros((len(pair_values), prepared.days), dtype=bool)
    member_grid[pair[inside], day[inside]] = True
    active = match >= 0
    active[active] = prepared.users.active[match[active]]
    active_grid = np.zeros_like(member_grid)
    active_grid[pair[active & inside], day[active & inside]] = True
    attributed = np.zeros(len(prepared.users), dtype=bool)
    attributed[match[match >= 0]] = True
    return TeamRows(
        slugs=[str(name) for name in slugs],
        team_ids=[str(team_id) for team_id in ids],
        team=team,
        match=match.astype(np.int32),
        pair_team=((pair_values // members) % len(slugs)).astype(np.int32),
        pair_entity=(pair_values // members // len(slugs)).astype(np.int16),
        members=member_grid,
        active=active_grid,
        sums=_team_day_sums(prepared, entity, team, day, match, len(slugs)),
        unattributed=_unattributed_sums(prepared, attributed),
        unattributed_users=_unattributed_users(prepared, attributed),
        attributed=attributed,
    )


def team_rows(tables: Tables, prepared: Prepared) -> TeamRows | None:
    """Return the joined user-team rows, built once per load; None without a user-teams table."""
    cached = prepared.cache.get(USER_TEAMS)
    if isinstance(cached, TeamRows):
        return cached
    if prepared.days == 0 or not tables.has_rows(USER_TEAMS):
        return None
    rows = _build(tables.frames[USER_TEAMS], prepared)
    prepared.cache[USER_TEAMS] = rows
    return rows


def team_codes(rows: TeamRows, teams: tuple[str, ...]) -> list[int]:
    """Return the codes of the teams named by slug or id."""
    wanted = set(teams)
    pairs = zip(rows.slugs, rows.team_ids, strict=True)
    return [code for code, (slug, team_id) in enumerate(pairs) if slug in wanted or team_id in wanted]


def team_row_mask(tables: Tables, prepared: Prepared, teams: tuple[str, ...]) -> np.ndarray | None:
    """Return which user-day rows belong to a member of ``teams`` on that day.

    None when there is no user-teams table, so the caller can say the filter was ignored.
    The last few masks are cached, so switching between team selections stays cheap.
    """
    rows = team_rows(tables, prepared)
    if rows is None:
        return None
    key = f"team-mask:{sorted(teams)}"
    cached = prepared.cache.get(key)
    if isinstance(cached, np.ndarray):
        return cached
    chosen = np.isin(rows.team, team_codes(rows, teams)) & (rows.match >= 0)
    mask = np.zeros(len(prepared.users), dtype=bool)
    mask[rows.match[chosen]] = True
    masks = [name for name in prepared.cache if name.startswith("team-mask:")]
    for name in masks[:-3]:
        del prepared.cache[name]
    prepared.cache[key] = mask
    return mask
