"""Teams: one team in depth or several side by side, reconciled with the entity total."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from copilot_lib import metrics
from copilot_lib.tables import Tables
from copilot_lib.views.filters import Filters
from copilot_lib.views.prepared import COUNTERS
from copilot_lib.views.result import NO_DATA, NO_DATA_IN_RANGE, NO_TEAMS, NO_USER_ROWS, ViewResult
from copilot_lib.views.selection import Selection, resolve
from copilot_lib.views.teams_join import TeamRows, team_codes, team_rows

# GitHub leaves teams with fewer than five seated users out of the user-teams report.
TEAM_FLOOR = 5
BELOW_FLOOR = f"not reported: fewer than {TEAM_FLOOR} seated users, so GitHub omits the team"


@dataclass
class TeamsView(ViewResult):
    """Per-team totals and series, the unattributed bucket and the reconciliation."""

    teams: pd.DataFrame = field(default_factory=pd.DataFrame)
    totals: pd.DataFrame = field(default_factory=pd.DataFrame)
    series: pd.DataFrame = field(default_factory=pd.DataFrame)
    reconciliation: pd.DataFrame = field(default_factory=pd.DataFrame)


def team_list(tables: Tables, rows: TeamRows | None) -> pd.DataFrame:
    """List every known team, saying which are absent from the user-teams report and why."""
    reported = (
        pd.DataFrame({"slug": rows.slugs, "team_id": rows.team_ids})
        if rows
        else pd.DataFrame(columns=["slug", "team_id"])
    )
    reported["reported"] = True
    known = tables.frames.get("teams")
    if known is not None and not known.empty:
        named = known[["slug", "name", "team_id"]].astype({"team_id": "string"})
        frame = named.merge(reported[["slug", "reported"]], on="slug", how="outer")
        frame["team_id"] = frame["team_id"].fillna(
            frame["slug"].map(dict(zip(reported["slug"], reported["team_id"], strict=True)))
        )
    else:
        frame = reported.assign(name=reported["slug"])
    frame["reported"] = frame["reported"].astype("boolean").fillna(False).astype(bool)
    frame["status"] = np.where(frame["reported"], "reported", BELOW_FLOOR)
    return frame[["slug", "name", "team_id", "reported", "status"]].sort_values("slug").reset_index(drop=True)


def _window_rows(rows: TeamRows, selection: Selection) -> np.ndarray:
    inside = (rows.day >= 0) & (rows.day < selection.prepared.days) & (rows.entity >= 0)
    keep = inside.copy()
    keep[inside] = selection.day_mask[rows.day[inside]] & selection.entity_mask[rows.entity[inside]]
    return keep


def _sums(positions: np.ndarray, groups: np.ndarray, size: int, selection: Selection) -> dict[str, np.ndarray]:
    users = selection.prepared.users
    sums = {}
    for name in COUNTERS:
        values = users.counters[name][positions]
        has_value = np.bincount(groups[~np.isnan(values)], minlength=size) > 0
        total = np.bincount(groups, weights=np.nan_to_num(values), minlength=size)
        sums[name] = np.where(has_value, total, np.nan)
    return sums


def _distinct(groups: np.ndarray, user: np.ndarray, size: int, users: int) -> np.ndarray:
    if len(groups) == 0:
        return np.zeros(size, dtype=np.int64)
    pairs = np.unique(groups.astype(np.int64) * max(users, 1) + user)
    return np.bincount(pairs // max(users, 1), minlength=size)


def _totals(rows: TeamRows, keep: np.ndarray, chosen: list[int], selection: Selection) -> pd.DataFrame:
    """Sum each chosen team's members' activity, then add the unattributed bucket."""
    prepared = selection.prepared
    wanted = keep & np.isin(rows.team, chosen)
    matched = wanted & (rows.match >= 0)
    positions = rows.match[matched]
    team = rows.team[matched]
    size = len(rows.slugs)
    frame = pd.DataFrame({"slug": rows.slugs, "team_id": rows.team_ids})
    for name, values in _sums(positions, team, size, selection).items():
        frame[name] = values
    active = prepared.users.active[positions]
    frame["active_users"] = _distinct(team[active], prepared.users.user[positions][active], size, prepared.user_count)
    frame["members"] = _distinct(rows.team[wanted], rows.member[wanted], size, rows.members)
    frame = frame.iloc[chosen]
    unattributed = _unattributed(rows, keep, selection)
    frame = pd.concat([frame, unattributed], ignore_index=True)
    frame["acceptance_rate"] = metrics.rate_of_sums(frame[metrics.ACCEPTANCES], frame[metrics.GENERATIONS])
    return frame


def _unattributed_positions(rows: TeamRows, keep: np.ndarray, selection: Selection) -> np.ndarray:
    """Return the selected user rows of users in no team that day."""
    all_rows = selection.user_rows(active_only=False)
    attributed = np.zeros(len(selection.prepared.users), dtype=bool)
    attributed[rows.match[keep & (rows.match >= 0)]] = True
    return all_rows[~attributed[all_rows]]


def _unattributed(rows: TeamRows, keep: np.ndarray, selection: Selection) -> pd.DataFrame:
    prepared = selection.prepared
    positions = _unattributed_positions(rows, keep, selection)
    groups = np.zeros(len(positions), dtype=np.int64)
    frame = pd.DataFrame({"slug": [metrics.UNATTRIBUTED], "team_id": [None]})
    for name, values in _sums(positions, groups, 1, selection).items():
        frame[name] = values
    active = prepared.users.active[positions]
    frame["active_users"] = _distinct(groups[active], prepared.users.user[positions][active], 1, prepared.user_count)
    frame["members"] = _distinct(groups, prepared.users.user[positions], 1, prepared.user_count)
    return frame


def _series(rows: TeamRows, keep: np.ndarray, chosen: list[int], selection: Selection) -> pd.DataFrame:
    """Sum counters and count distinct active users per period and team."""
    prepared = selection.prepared
    codes, starts = prepared.period_codes[selection.filters.grain]
    teams = len(rows.slugs)
    wanted = keep & np.isin(rows.team, chosen) & (rows.match >= 0)
    positions = rows.match[wanted]
    groups = codes[rows.day[wanted]].astype(np.int64) * teams + rows.team[wanted]
    size = len(starts) * teams
    present = np.bincount(groups, minlength=size) > 0
    frame = pd.DataFrame({"period": np.repeat(starts, teams), "slug": np.tile(rows.slugs, len(starts))})
    for name, values in _sums(positions, groups, size, selection).items():
        frame[name] = values
    active = prepared.users.active[positions]
    frame["active_users"] = _distinct(groups[active], prepared.users.user[positions][active], size, prepared.user_count)
    frame = frame.loc[present].reset_index(drop=True)
    frame["acceptance_rate"] = metrics.rate_of_sums(frame[metrics.ACCEPTANCES], frame[metrics.GENERATIONS])
    return frame


def _reconciliation(rows: TeamRows, keep: np.ndarray, totals: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """Show how team sums, the overlap and the unattributed bucket add up to the entity total.

    ``team_sum`` adds every reported team (a user in two teams counts twice), ``attributed``
    counts each user-day in at least one team once, and ``overlap = team_sum - attributed``.
    """
    users = selection.prepared.users
    all_rows = selection.user_rows(active_only=False)
    member_rows = rows.match[keep & (rows.match >= 0)]
    attributed_rows = np.unique(member_rows)
    records = []
    for name in (metrics.INTERACTIONS, metrics.GENERATIONS, metrics.ACCEPTANCES, metrics.LOC_ADDED):
        values = users.counters[name]
        total = float(np.nansum(values[all_rows]))
        attributed = float(np.nansum(values[attributed_rows]))
        team_sum = float(np.nansum(values[member_rows]))
        unattributed = float(np.nansum(totals.loc[totals["slug"] == metrics.UNATTRIBUTED, name]))
        records.append(
            {
                "counter": name,
                "entity_total": total,
                "attributed": attributed,
                "unattributed": unattributed,
                "team_sum": team_sum,
                "overlap": team_sum - attributed,
            }
        )
    return pd.DataFrame(records)


def teams(tables: Tables, filters: Filters) -> TeamsView:
    """Compare teams over the range with the day-accurate team join.

    Each user-day row counts for the teams the user belonged to on that day (rows joined on
    day, entity and user), so a user in two teams counts in both and moving teams moves
    their activity from that day on. Users in no reported team that day form the
    ``unattributed`` bucket, so attributed plus unattributed equals the entity total.
    ``filters.teams`` picks the teams to show; all reported teams when empty.
    """
    selection = resolve(tables, replace(filters, teams=()))
    prepared = selection.prepared
    if prepared.days == 0:
        return TeamsView(missing=NO_DATA)
    if prepared.user_count == 0:
        return TeamsView(missing=NO_USER_ROWS)
    rows = team_rows(tables, prepared)
    listing = team_list(tables, rows)
    if rows is None:
        return TeamsView(missing=NO_TEAMS, teams=listing)
    if not selection.has_days():
        return TeamsView(missing=NO_DATA_IN_RANGE.format(since=selection.since, until=selection.until), teams=listing)
    chosen = team_codes(rows, filters.teams) if filters.teams else list(range(len(rows.slugs)))
    keep = _window_rows(rows, selection)
    result = TeamsView(teams=listing, notes=list(selection.notes))
    result.totals = _totals(rows, keep, chosen, selection)
    result.series = _series(rows, keep, chosen, selection)
    result.reconciliation = _reconciliation(rows, keep, result.totals, selection)
    unknown = [team for team in filters.teams if team not in rows.slugs and team not in rows.team_ids]
    for team in unknown:
        status = listing.loc[(listing["slug"] == team) | (listing["team_id"] == team), "status"]
        reason = status.iloc[0] if not status.empty else "not found in the teams or user-teams data"
        result.notes.append(f"Team {team!r} is {reason}.")
    return result
