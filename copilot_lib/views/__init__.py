"""Data for every dashboard view: pure functions of the tables and the global controls.

Each view function takes ``(tables, filters)`` and returns a result whose DataFrames are
ready to chart and tabulate. A result with ``missing`` set has nothing to show, and the
sentence states what is missing and how to get it. View functions do not raise on empty or
partial data. The first call on a ``Tables`` object builds compact per-load structures
(see ``prepare``); later calls reuse them, so a control change is cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from copilot_lib.tables import Tables
from copilot_lib.views.compact import compact
from copilot_lib.views.dimensions import (
    DimensionView,
    ide_versions,
    ides,
    languages,
    lines_reported,
    models,
    old_client_users,
)
from copilot_lib.views.features import FeaturesView, features
from copilot_lib.views.filters import DEFAULT_SEAT_PRICES, Filters
from copilot_lib.views.health import HealthView, health
from copilot_lib.views.overview import Kpi, OverviewView, overview
from copilot_lib.views.prepared import Prepared, prepare
from copilot_lib.views.pseudonym import alias, alias_logins
from copilot_lib.views.pull_requests import PullRequestsView, pull_requests
from copilot_lib.views.result import ViewResult
from copilot_lib.views.seats import SeatsView, seats_view
from copilot_lib.views.selection import resolve
from copilot_lib.views.teams import TeamsView, teams
from copilot_lib.views.teams_join import team_rows
from copilot_lib.views.users import UsersView, users

VIEWS: dict[str, Callable[[Tables, Filters], ViewResult]] = {
    "overview": overview,
    "features": features,
    "languages": languages,
    "ides": ides,
    "models": models,
    "pull_requests": pull_requests,
    "seats": seats_view,
    "teams": teams,
    "users": users,
    "health": health,
}


def entity_options(tables: Tables) -> list[tuple[str, str]]:
    """Return the (scope, entity id) pairs the data contains, for the scope control."""
    return list(prepare(tables).entities)


def date_bounds(tables: Tables) -> tuple[date | None, date | None]:
    """Return the first and last day any table covers, for the date-range control."""
    prepared = prepare(tables)
    if prepared.days == 0:
        return None, None
    return prepared.calendar[0].date(), prepared.calendar[-1].date()


def team_options(tables: Tables) -> list[str]:
    """Return the team slugs the user-teams report names, for the team control."""
    rows = team_rows(tables, prepare(tables))
    return list(rows.slugs) if rows else []


def warm(tables: Tables) -> None:
    """Build every per-load structure now, so no later control change pays for one.

    Without this the first use of a team filter builds the team join and codes the user
    breakdown tables, which takes seconds at ten thousand users. Call it while the
    dashboard shows its loading progress, after :func:`compact` when the process only
    shows the views.
    """
    teams_found = team_options(tables)
    recompute(tables, Filters(teams=tuple(teams_found[:1])))
    recompute(tables, Filters())


def recompute(tables: Tables, filters: Filters, names: tuple[str, ...] | None = None) -> dict[str, ViewResult]:
    """Compute the named views (all of them by default) for one set of controls."""
    chosen = names or tuple(VIEWS)
    return {name: VIEWS[name](tables, filters) for name in chosen}


__all__ = [
    "DEFAULT_SEAT_PRICES",
    "VIEWS",
    "DimensionView",
    "FeaturesView",
    "Filters",
    "HealthView",
    "Kpi",
    "OverviewView",
    "Prepared",
    "PullRequestsView",
    "SeatsView",
    "TeamsView",
    "UsersView",
    "ViewResult",
    "alias",
    "alias_logins",
    "compact",
    "date_bounds",
    "entity_options",
    "features",
    "health",
    "ide_versions",
    "ides",
    "languages",
    "lines_reported",
    "models",
    "old_client_users",
    "overview",
    "prepare",
    "pull_requests",
    "recompute",
    "resolve",
    "seats_view",
    "team_options",
    "teams",
    "users",
    "warm",
]
