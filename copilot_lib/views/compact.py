"""Release the large user tables once every structure the views read from them is built.

At ten thousand users over a year the user-day, user-team and user breakdown frames take
most of a load's memory, and after the per-load structures exist the views no longer read
them. :func:`compact` builds those structures table by table and releases each frame as
soon as its structures exist, so the frames and the structures are never all in memory
at once. A released frame raises :class:`~copilot_lib.errors.ReleasedTableError`
on any use, so a view that still needs one fails instead of showing a wrong number.
"""

from __future__ import annotations

import logging

from copilot_lib.tables import Tables
from copilot_lib.views.breakdowns import coded
from copilot_lib.views.dimensions import ALL_COUNTERS, CODE_COUNTERS, client_rows, version_runs
from copilot_lib.views.features import AGENT_COUNTERS, SESSION_COUNTERS
from copilot_lib.views.health import BREAKDOWNS
from copilot_lib.views.prepared import prepare
from copilot_lib.views.teams_join import USER_TEAMS, team_rows
from copilot_lib.views.users import TOP_COLUMNS, phase_codes, top_index

logger = logging.getLogger(__name__)

# (breakdown kind, dimensions, counters) of every coded user breakdown a view reads.
CODED_BREAKDOWNS = (
    ("by_feature", ("feature",), ALL_COUNTERS),
    ("by_3rd_party_agent", ("agent_name",), AGENT_COUNTERS),
    ("cli", (), SESSION_COUNTERS),
    ("copilot_app", (), SESSION_COUNTERS),
    ("by_language_feature", ("language", "feature"), CODE_COUNTERS),
    *((kind, dims, counters) for kind, dims, counters, _ in BREAKDOWNS),
)


def compact(tables: Tables) -> None:
    """Build every per-load structure of the views and release the user tables' frames.

    Call it once per load in a process that only shows the views, such as the dashboard,
    before :func:`~copilot_lib.views.warm`. Other uses of the tables (export, notebooks,
    the CLI) need the frames and must not call it.
    """
    prepared = prepare(tables)
    phase_codes(tables, prepared)
    _release(tables, "user_daily")
    team_rows(tables, prepared)
    _release(tables, USER_TEAMS)
    names = {f"user_{kind}" for kind, _, _ in CODED_BREAKDOWNS}
    for name in sorted(names):
        for kind, dims, counters in CODED_BREAKDOWNS:
            if f"user_{kind}" == name and tables.has_rows(name):
                coded(tables, prepared, name, dims, counters, summed=False)
        for table, dims, counters, dimension, counter in TOP_COLUMNS.values():
            if table == name:
                top_index(tables, prepared, table, dims, counters, dimension, counter)
        if name == "user_by_ide":
            version_runs(tables, prepared)
            client_rows(tables, prepared)
        _release(tables, name)


def _release(tables: Tables, name: str) -> None:
    if tables.has_rows(name):
        tables.release(name)
