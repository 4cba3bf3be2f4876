"""Teams: one team in depth or several side by side, reconciled with the entity total."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from copilot_lib import metrics
from copilot_lib.tables import Tables
from copilot_lib.views.filters import Filters
from copilot_lib.views.result import NO_DATA, NO_DATA_IN_RANGE, NO_TEAMS, NO_USER_ROWS, ViewResult
from copilot_lib.views.selection import Selection, resolve
from copilot_lib.views.teams_join import TeamRows, team_codes, team_rows

# GitHub leaves teams with fewer than five seated users out of the user-teams report.
TEAM_FLOOR = 5
BELOW_FLOOR = f"not reported: fewer than {TEAM_FLOOR} seated users, so GitHub omits the team"
# Without a team selection the series shows the teams with the most interactions: a chart
# of hundreds of lines is unreadable, and the totals table still lists every team.
SERIES_TEAMS = 10


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


def _pair_counts(grid: np.ndarray, rows: TeamRows, selection: Selection) -> np.ndarray:
    """Count distinct users per team with a True cell on a selected day, in selected entities."""
    seen = grid[:, selection.days_index].any(axis=1)
    seen &= selection.entity_mask[rows.pair_entity]
    return np.bincount(rows.pair_team[seen], minlength=rows.teams)


def _summed(arrays: dict[str, np.ndarray], selection: Selection, chosen: list[int] | None) -> dict[str, np.ndarray]:
    """Sum entity x [team x] day arrays over the selected entities and days."""
    days = selection.day_mask
    result = {}
    for name, values in arrays.items():
        cells = values[selection.entity_mask]
        cells = cells[:, chosen][..., days] if chosen is not None else cells[..., days]
        present = ~np.isnan(cells)
        total = np.nansum(cells, axis=(0, -1))
        result[name] = np.where(present.any(axis=(0, -1)), total, np.nan)
    return result


def _totals(rows: TeamRows, chosen: list[int], selection: Selection) -> pd.DataFrame:
    """Sum each chosen team's members' activity, then add the unattributed bucket."""
    frame = pd.DataFrame(
        {"slug": [rows.slugs[code] for code in chosen], "team_id": [rows.team_ids[code] for code in chosen]}
    )
    for name, values in _summed(rows.sums, selection, chosen).items():
        frame[name] = values
    frame["active_users"] = _pair_counts(rows.active, rows, selection)[chosen]
    frame["members"] = _pair_counts(rows.members, rows, selection)[chosen]
    frame = pd.concat([frame, _unattributed(rows, selection)], ignore_index=True)
    frame["acceptance_rate"] = metrics.rate_of_sums(frame[metrics.ACCEPTANCES], frame[metrics.GENERATIONS])
    return frame


def _unattributed(rows: TeamRows, selection: Selection) -> pd.DataFrame:
    """Sum the activity of users in no reported team on each day."""
    frame = pd.DataFrame({"slug": [metrics.UNATTRIBUTED], "team_id": [None]})
    for name, value in _summed(rows.unattributed, selection, None).items():
        frame[name] = [value]
    for column, grid_name in (("active_users", "active"), ("members", "rows")):
        grid = rows.unattributed_users[grid_name][selection.entity_mask].any(axis=0)
        frame[column] = int(grid[selection.days_index].any(axis=0).sum())
    return frame


def _series(rows: TeamRows, chosen: list[int], selection: Selection) -> pd.DataFrame:
    """Sum counters and count distinct active users per period and team."""
    prepared = selection.prepared
    codes, starts = prepared.period_codes[selection.filters.grain]
    day_codes = np.flatnonzero(selection.day_mask)
    periods = len(starts)
    onehot = np.zeros((len(day_codes), periods))
    onehot[np.arange(len(day_codes)), codes[day_codes]] = 1.0
    frame = pd.DataFrame(
        {"period": np.tile(starts, len(chosen)), "slug": np.repeat([rows.slugs[code] for code in chosen], periods)}
    )
    present = np.zeros(len(chosen) * periods, dtype=bool)
    for name, values in rows.sums.items():
        cells = values[selection.entity_mask][:, chosen][..., day_codes]
        has = (~np.isnan(cells)).any(axis=0).astype(float) @ onehot
        total = np.nansum(cells, axis=0) @ onehot
        frame[name] = np.where(has > 0, total, np.nan).reshape(-1)
        present |= (has > 0).reshape(-1)
    frame["active_users"] = _period_active(rows, chosen, selection, codes, periods).reshape(-1)
    frame = frame.loc[present].reset_index(drop=True)
    frame["acceptance_rate"] = metrics.rate_of_sums(frame[metrics.ACCEPTANCES], frame[metrics.GENERATIONS])
    return frame


def _period_active(
    rows: TeamRows, chosen: list[int], selection: Selection, codes: np.ndarray, periods: int
) -> np.ndarray:
    """Count distinct active members per chosen team and period (teams x periods)."""
    days = np.flatnonzero(selection.day_mask)
    wanted = np.zeros(rows.teams, dtype=bool)
    wanted[chosen] = True
    pairs = np.flatnonzero(wanted[rows.pair_team] & selection.entity_mask[rows.pair_entity])
    counts = np.zeros((rows.teams, periods), dtype=np.int64)
    if len(days) == 0 or len(pairs) == 0:
        return counts[chosen]
    in_period = codes[days]
    first = np.flatnonzero(np.r_[True, in_period[1:] != in_period[:-1]])
    grid = np.logical_or.reduceat(rows.active[pairs][:, days], first, axis=1)
    pair_index, period_index = np.nonzero(grid)
    flat = rows.pair_team[pairs][pair_index].astype(np.int64) * periods + in_period[first][period_index]
    counts += np.bincount(flat, minlength=rows.teams * periods).reshape(rows.teams, periods)
    return counts[chosen]


def _reconciliation(rows: TeamRows, totals: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """Show how team sums, the overlap and the unattributed bucket add up to the entity total.

    ``team_sum`` adds every reported team (a user in two teams counts twice), ``attributed``
    counts each user-day in at least one team once, and ``overlap = team_sum - attributed``.
    """
    prepared = selection.prepared
    everyone = _summed({name: prepared.user_day_sums[name] for name in rows.sums}, selection, None)
    teams = _summed(rows.sums, selection, list(range(rows.teams)))
    alone = _summed(rows.unattributed, selection, None)
    records = []
    for name in (metrics.INTERACTIONS, metrics.GENERATIONS, metrics.ACCEPTANCES, metrics.LOC_ADDED):
        total = float(np.nan_to_num(everyone[name]))
        unattributed = float(np.nan_to_num(alone[name]))
        team_sum = float(np.nansum(teams[name]))
        records.append(
            {
                "counter": name,
                "entity_total": total,
                "attributed": total - unattributed,
                "unattributed": unattributed,
                "team_sum": team_sum,
                "overlap": team_sum - (total - unattributed),
            }
        )
    return pd.DataFrame(records)


def teams(tables: Tables, filters: Filters) -> TeamsView:
    """Compare teams over the range with the day-accurate team join.

    Each user-day row counts for the teams the user belonged to on that day (rows joined on
    day, entity and user), so a user in two teams counts in both and moving teams moves
    their activity from that day on. Users in no reported team that day form the
    ``unattributed`` bucket, so attributed plus unattributed equals the entity total.
    ``filters.teams`` picks the teams to show; all reported teams when empty, with the
    series limited to the ``SERIES_TEAMS`` most active.
    """
    selection = resolve(tables, replace(filters, teams=()))
    prepared = selection.prepared
    if prepared.days == 0:
        return TeamsView(missing=NO_DATA)
    if prepared.user_count == 0:
        return TeamsView(missing=NO_USER_ROWS)
    rows = team_rows(tables, prepared)
    listing = prepared.cache.get("team-list")
    if not isinstance(listing, pd.DataFrame):
        listing = team_list(tables, rows)
        prepared.cache["team-list"] = listing
    if rows is None:
        return TeamsView(missing=NO_TEAMS, teams=listing)
    if not selection.has_days():
        return TeamsView(missing=NO_DATA_IN_RANGE.format(since=selection.since, until=selection.until), teams=listing)
    chosen = team_codes(rows, filters.teams) if filters.teams else list(range(len(rows.slugs)))
    result = TeamsView(teams=listing, notes=list(selection.notes))
    result.totals = _totals(rows, chosen, selection)
    shown = chosen
    if not filters.teams and len(chosen) > SERIES_TEAMS:
        ranked = result.totals.iloc[: len(chosen)].sort_values(metrics.INTERACTIONS, ascending=False, kind="stable")
        shown = [chosen[position] for position in ranked.index[:SERIES_TEAMS]]
        result.notes.append(
            f"The series shows the {SERIES_TEAMS} teams with the most interactions; pick teams to compare others."
        )
    result.series = _series(rows, shown, selection)
    result.reconciliation = _reconciliation(rows, result.totals, selection)
    unknown = [team for team in filters.teams if team not in rows.slugs and team not in rows.team_ids]
    for team in unknown:
        status = listing.loc[(listing["slug"] == team) | (listing["team_id"] == team), "status"]
        reason = status.iloc[0] if not status.empty else "not found in the teams or user-teams data"
        result.notes.append(f"Team {team!r} is {reason}.")
    return result
