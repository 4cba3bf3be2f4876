"""Pull requests: counts per period and per repository, GitHub's daily medians day by day."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from copilot_lib.schema import PULL_REQUEST_COUNTS, PULL_REQUEST_MEDIANS
from copilot_lib.tables import Tables
from copilot_lib.views.breakdowns import breakdown_days
from copilot_lib.views.filters import Filters
from copilot_lib.views.result import NO_DATA, NO_DATA_IN_RANGE, ViewResult
from copilot_lib.views.selection import Selection, by_period, resolve

NO_PULL_REQUESTS = (
    "No pull-request data: GitHub sends it in the pull_requests block of organisation and "
    "enterprise reports and in the repository report; fetch those reports."
)
MEDIANS_NOTE = (
    "Medians are GitHub's per-day medians and appear day by day only: a median of a week or "
    "month cannot be computed from daily medians, so they are never summed or averaged."
)


@dataclass
class PullRequestsView(ViewResult):
    """Pull-request counts per period, daily medians, and counts per repository."""

    series: pd.DataFrame = field(default_factory=pd.DataFrame)
    daily_medians: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_repository: pd.DataFrame = field(default_factory=pd.DataFrame)
    repository_daily: pd.DataFrame = field(default_factory=pd.DataFrame)


def _repositories(tables: Tables, selection: Selection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sum pull-request counts per repository, and list the repository rows, for the selection."""
    frame = tables.frames.get("repo_daily")
    if frame is None or frame.empty:
        return pd.DataFrame(), pd.DataFrame()
    prepared = selection.prepared
    cached = prepared.cache.get("repo-codes")
    if not isinstance(cached, tuple):
        cached = prepared.codes(frame)
        prepared.cache["repo-codes"] = cached
    day, entity, _ = cached
    inside = (day >= 0) & (day < prepared.days) & (entity >= 0)
    keep = inside.copy()
    keep[inside] = selection.day_mask[day[inside]] & selection.entity_mask[entity[inside]]
    rows = frame.loc[keep]
    names = ["repo_id", "repo_owner_name", "repo_name"]
    counts = [name for name in PULL_REQUEST_COUNTS if name in rows]
    totals = rows.groupby(names, observed=True, dropna=False)[counts].sum(min_count=1).reset_index()
    totals = totals.sort_values("total_created", ascending=False, kind="stable").reset_index(drop=True)
    medians = [name for name in PULL_REQUEST_MEDIANS if name in rows]
    daily = rows[["day", *names, *counts, *medians]].sort_values(["day", "repo_name"], kind="stable")
    return totals, daily.reset_index(drop=True)


def pull_requests(tables: Tables, filters: Filters) -> PullRequestsView:
    """Compute pull-request counts per period and per repository for the range.

    Counts are summed per period; the median minutes to merge stay per day. Pull-request
    data has no user dimension, so the team filter does not apply to it.
    """
    selection = resolve(tables, replace(filters, teams=()))
    if selection.prepared.days == 0:
        return PullRequestsView(missing=NO_DATA)
    counts = breakdown_days(tables, selection, "pull_requests", (), (*PULL_REQUEST_COUNTS, *PULL_REQUEST_MEDIANS))
    by_repository, repository_daily = _repositories(tables, selection)
    if (counts is None or counts.empty) and by_repository.empty:
        repositories = tables.frames.get("repo_daily")
        if counts is None and (repositories is None or repositories.empty):
            return PullRequestsView(missing=NO_PULL_REQUESTS)
        return PullRequestsView(missing=NO_DATA_IN_RANGE.format(since=selection.since, until=selection.until))
    result = PullRequestsView(by_repository=by_repository, repository_daily=repository_daily, notes=[MEDIANS_NOTE])
    if filters.teams:
        result.notes.append("Pull-request data has no user dimension: the team filter does not apply here.")
    if counts is not None and not counts.empty:
        medians = [name for name in PULL_REQUEST_MEDIANS if name in counts]
        if int(selection.entity_mask.sum()) > 1:
            # Sums of several entities' medians mean nothing; keep them out.
            counts[medians] = float("nan")
            result.notes.append("Several organisations are selected: their daily medians cannot be combined.")
        result.daily_medians = counts[["day", *medians]]
        result.series = by_period(counts.drop(columns=medians), filters.grain)
    return result
