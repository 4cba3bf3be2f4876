"""The day-accurate join of user-day rows with user-team rows on (day, entity, user)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from copilot_lib.tables import Tables
from copilot_lib.views.prepared import Prepared

USER_TEAMS = "user_teams"


@dataclass
class TeamRows:
    """User-team rows as arrays, each with the position of its user-day row (-1 if none).

    ``user`` is the user code of the user-day rows (-1 for a member with none); ``member``
    numbers every user id in the user-teams rows, for counting members.
    """

    day: np.ndarray
    entity: np.ndarray
    team: np.ndarray
    user: np.ndarray
    member: np.ndarray
    members: int
    match: np.ndarray
    slugs: list[str]
    team_ids: list[str]


def team_rows(tables: Tables, prepared: Prepared) -> TeamRows | None:
    """Return the coded user-team rows, built once per load; None without a user-teams table."""
    cached = prepared.cache.get(USER_TEAMS)
    if isinstance(cached, TeamRows):
        return cached
    frame = tables.frames.get(USER_TEAMS)
    if frame is None or frame.empty or prepared.days == 0:
        return None
    day, entity, user = prepared.codes(frame)
    slug = frame["slug"].astype("string").fillna(frame["team_id"].astype("string"))
    codes, slugs = pd.factorize(slug, sort=True)
    ids = frame.groupby(codes)["team_id"].first().astype("string").tolist()
    member, member_ids = pd.factorize(frame["user_id"])
    key = prepared.key(day, entity, user)
    keys = prepared.users.key
    position = np.searchsorted(keys, key)
    found = position < len(keys)
    found[found] = keys[position[found]] == key[found]
    found &= (user >= 0) & (entity >= 0)
    rows = TeamRows(
        day=day,
        entity=entity,
        team=codes.astype(np.int32),
        user=user,
        member=member.astype(np.int64),
        members=len(member_ids),
        match=np.where(found, position, -1),
        slugs=[str(name) for name in slugs],
        team_ids=[str(team_id) for team_id in ids],
    )
    prepared.cache[USER_TEAMS] = rows
    return rows


def team_codes(rows: TeamRows, teams: tuple[str, ...]) -> list[int]:
    """Return the codes of the teams named by slug or id."""
    wanted = set(teams)
    return [
        code
        for code, (slug, team_id) in enumerate(zip(rows.slugs, rows.team_ids, strict=True))
        if slug in wanted or team_id in wanted
    ]


def team_row_mask(tables: Tables, prepared: Prepared, teams: tuple[str, ...]) -> np.ndarray | None:
    """Return which user-day rows belong to a member of ``teams`` on that day.

    None when there is no user-teams table, so the caller can say the filter was ignored.
    """
    rows = team_rows(tables, prepared)
    if rows is None:
        return None
    chosen = np.isin(rows.team, team_codes(rows, teams)) & (rows.match >= 0)
    mask = np.zeros(len(prepared.users), dtype=bool)
    mask[rows.match[chosen]] = True
    return mask
