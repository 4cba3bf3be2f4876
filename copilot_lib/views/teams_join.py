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

    Membership rows (``day``, ``entity``, ``pair``) and active-member rows (``active_*``)
    are sorted by day, with ``*_bounds[d]`` the first row of day code ``d``. A pair numbers
    one (team, user) combination; ``pair_team`` maps it to its team code. ``sums`` holds an
    entity x team x day array per counter (NaN where no member had a row), ``unattributed``
    an entity x day matrix per counter of users in no team, and ``attributed`` marks the
    user-day rows whose user was in at least one reported team that day.
    """

    slugs: list[str]
    team_ids: list[str]
    day: np.ndarray
    entity: np.ndarray
    team: np.ndarray
    pair: np.ndarray
    bounds: np.ndarray
    pair_team: np.ndarray
    active_day: np.ndarray
    active_entity: np.ndarray
    active_pair: np.ndarray
    active_bounds: np.ndarray
    sums: dict[str, np.ndarray]
    unattributed: dict[str, np.ndarray]
    attributed: np.ndarray
    match: np.ndarray

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
        sums[name] = np.where(present, total, np.nan).reshape(entities, teams, prepared.days)
    return sums


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
        sums[name] = np.where(present, total, np.nan).reshape(entities, prepared.days)
    return sums


def _build(frame: pd.DataFrame, prepared: Prepared) -> TeamRows:
    day, entity, user = prepared.codes(frame)
    slug = frame["slug"].astype("string").fillna(frame["team_id"].astype("string"))
    team, slugs = pd.factorize(slug, sort=True)
    team = team.astype(np.int32)
    ids = frame.groupby(team)["team_id"].first().astype("string").tolist()
    member, _ = pd.factorize(frame["user_id"])
    pair, pair_values = pd.factorize(team.astype(np.int64) * (int(member.max()) + 1 if len(member) else 1) + member)
    pair_team = (np.asarray(pair_values) // (int(member.max()) + 1 if len(member) else 1)).astype(np.int32)
    match = _matches(prepared, day, entity, user)

    order = np.argsort(day, kind="stable")
    day, entity, team, pair, match = day[order], entity[order], team[order], pair[order], match[order]
    active = match >= 0
    active[active] = prepared.users.active[match[active]]
    attributed = np.zeros(len(prepared.users), dtype=bool)
    attributed[match[match >= 0]] = True
    days = np.arange(prepared.days + 1)
    return TeamRows(
        slugs=[str(name) for name in slugs],
        team_ids=[str(team_id) for team_id in ids],
        day=day,
        entity=entity,
        team=team,
        pair=pair.astype(np.int32),
        bounds=np.searchsorted(day, days),
        pair_team=pair_team,
        active_day=day[active],
        active_entity=entity[active],
        active_pair=pair[active].astype(np.int32),
        active_bounds=np.searchsorted(day[active], days),
        sums=_team_day_sums(prepared, entity, team, day, match, len(slugs)),
        unattributed=_unattributed_sums(prepared, attributed),
        attributed=attributed,
        match=match.astype(np.int32),
    )


def team_rows(tables: Tables, prepared: Prepared) -> TeamRows | None:
    """Return the joined user-team rows, built once per load; None without a user-teams table."""
    cached = prepared.cache.get(USER_TEAMS)
    if isinstance(cached, TeamRows):
        return cached
    frame = tables.frames.get(USER_TEAMS)
    if frame is None or frame.empty or prepared.days == 0:
        return None
    rows = _build(frame, prepared)
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
