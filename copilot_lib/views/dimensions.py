"""Languages, IDEs (with client versions) and models views."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from copilot_lib import metrics
from copilot_lib.tables import Tables
from copilot_lib.views.breakdowns import breakdown_days, totals
from copilot_lib.views.filters import Filters
from copilot_lib.views.prepared import Prepared
from copilot_lib.views.pseudonym import alias_logins
from copilot_lib.views.result import NO_DATA, NO_DATA_IN_RANGE, ViewResult
from copilot_lib.views.selection import Selection, by_period, resolve

CODE_COUNTERS = (
    metrics.GENERATIONS,
    metrics.ACCEPTANCES,
    "loc_suggested_to_add_sum",
    metrics.LOC_ADDED,
    metrics.LOC_DELETED,
)
ALL_COUNTERS = (metrics.INTERACTIONS, *CODE_COUNTERS)
MODELS_LABEL = "Chat and agent activity only: GitHub's model breakdowns do not cover code completions."

# Minimum IDE and Copilot extension versions that report lines of code, from GitHub's
# "Lines of Code metrics" reference (docs.github.com/en/copilot/reference/
# copilot-usage-metrics/lines-of-code-metrics, as published in 2026). ``any`` is the lowest
# pair for which some feature reports lines, ``all`` the pair for which every feature does.
# GitHub lists no minimum for other IDEs (Neovim, for one), so their coverage is unknown.
LOC_MINIMUM_VERSIONS = {
    "vscode": {"any": ("1.102.0", "0.29.0"), "all": ("1.104.0", "0.31.0")},
    "jetbrains": {"any": ("2024.2.6", "1.5.52"), "all": ("2024.2.6", "1.5.52")},
    "visualstudio": {"any": ("17.14.13", "18.0.471"), "all": ("17.14.14", "18.0.471")},
    "xcode": {"any": ("14.3.1", "0.40.0"), "all": ("15.2", "0.43.0")},
    "eclipse": {"any": ("4.31", "0.9.3"), "all": ("4.31", "0.11.0")},
}


@dataclass
class DimensionView(ViewResult):
    """A breakdown over one dimension: totals over the range, per-period series, extra tables."""

    dimension: str = ""
    label: str = ""
    totals: pd.DataFrame = field(default_factory=pd.DataFrame)
    series: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_feature: pd.DataFrame = field(default_factory=pd.DataFrame)
    versions: pd.DataFrame = field(default_factory=pd.DataFrame)


def _shares(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    if column in frame:
        total = frame[column].sum(min_count=1)
        frame[f"share_of_{column}"] = frame[column] / total if pd.notna(total) and total > 0 else float("nan")
    return frame


def _dimension_view(
    tables: Tables,
    selection: Selection,
    kind: str,
    dims: tuple[str, ...],
    counters: tuple[str, ...],
    missing: str,
) -> DimensionView:
    if selection.prepared.days == 0:
        return DimensionView(missing=NO_DATA)
    days = breakdown_days(tables, selection, kind, dims, counters)
    if days is None:
        return DimensionView(missing=missing)
    if days.empty:
        return DimensionView(missing=NO_DATA_IN_RANGE.format(since=selection.since, until=selection.until))
    key = dims[0]
    first = days.drop(columns=[dim for dim in dims if dim != key])
    result = DimensionView(dimension=key, notes=list(selection.notes))
    sort_column = metrics.GENERATIONS if metrics.GENERATIONS in first else counters[0]
    result.totals = _shares(totals(first, (key,)), sort_column).sort_values(sort_column, ascending=False, kind="stable")
    result.totals = result.totals.reset_index(drop=True)
    result.series = by_period(first, selection.filters.grain, (key,))
    if len(dims) > 1:
        result.by_feature = totals(days, dims).sort_values(list(dims), kind="stable").reset_index(drop=True)
    return result


def languages(tables: Tables, filters: Filters) -> DimensionView:
    """Sum code activity per language (and per language and feature) over the range.

    GitHub's language breakdowns carry no interaction count, so only code counters appear.
    """
    selection = resolve(tables, filters)
    missing = "No language breakdown in the reports: GitHub sends it in totals_by_language_feature."
    view = _dimension_view(tables, selection, "by_language_feature", ("language", "feature"), CODE_COUNTERS, missing)
    view.label = "Languages"
    return view


def ides(tables: Tables, filters: Filters) -> DimensionView:
    """Sum activity per IDE and list the IDE and plugin versions users last ran.

    The versions table flags clients older than the minimum versions that report lines of
    code, whose users contribute no lines (``lines_reported`` is ``none``) or only some.
    """
    selection = resolve(tables, filters)
    missing = "No IDE breakdown in the reports: GitHub sends it in totals_by_ide."
    view = _dimension_view(tables, selection, "by_ide", ("ide",), ALL_COUNTERS, missing)
    view.label = "IDEs"
    if view.ok:
        view.versions = ide_versions(tables, selection)
    return view


def models(tables: Tables, filters: Filters) -> DimensionView:
    """Sum chat and agent activity per model (and per model and feature) over the range."""
    selection = resolve(tables, filters)
    missing = "No model breakdown in the reports: GitHub sends it in totals_by_model_feature."
    view = _dimension_view(tables, selection, "by_model_feature", ("model", "feature"), ALL_COUNTERS, missing)
    view.label = MODELS_LABEL
    view.notes.insert(0, MODELS_LABEL)
    return view


def _version_tuple(text: object) -> tuple[int, ...] | None:
    if not isinstance(text, str):
        return None
    parts = re.findall(r"\d+", text)
    return tuple(int(part) for part in parts[:4]) if parts else None


def lines_reported(ide: str, ide_version: object, plugin_version: object) -> str:
    """Return ``all``, ``some``, ``none`` or ``unknown``: which features report lines for a client.

    A client reports lines only when both its IDE and its Copilot extension are at least
    the minimum versions. An unparsable version or an IDE GitHub lists no minimum for is
    ``unknown``.
    """
    minimum = LOC_MINIMUM_VERSIONS.get(ide)
    ide_parts, plugin_parts = _version_tuple(ide_version), _version_tuple(plugin_version)
    if minimum is None or ide_parts is None or plugin_parts is None:
        return "unknown"

    def meets(level: str) -> bool:
        ide_min, plugin_min = minimum[level]
        return ide_parts >= (_version_tuple(ide_min) or ()) and plugin_parts >= (_version_tuple(plugin_min) or ())

    if meets("all"):
        return "all"
    return "some" if meets("any") else "none"


@dataclass
class VersionRuns:
    """Runs of consecutive user-IDE rows on one client version, sorted by (user and IDE, day).

    A user keeps a client version for weeks, so runs are far fewer than rows, and the
    version a user last ran in a window is the last run per user and IDE that overlaps it.
    """

    key: np.ndarray
    combo: np.ndarray
    entity: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray
    combos: pd.DataFrame


def version_runs(tables: Tables, prepared: Prepared) -> VersionRuns | None:
    """Return the IDE version runs of the user-IDE rows, built once per load; None without them."""
    if "ide-version-runs" not in prepared.cache:
        prepared.cache["ide-version-runs"] = _build_version_runs(tables, prepared)
    cached = prepared.cache["ide-version-runs"]
    return cached if isinstance(cached, VersionRuns) else None


def _text_combinations(frame: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Number each combination of the columns' text values in order of first appearance.

    A missing value reads as ``unknown``, the same value as the text ``unknown``. The
    values are coded through categories, so millions of rows need no Python string each.
    """
    combined = np.zeros(len(frame), dtype=np.int64)
    labels = []
    for column in columns:
        values = pd.Categorical(frame[column].astype("category"))
        names = np.append(np.asarray(values.categories.astype("string"), dtype=object), metrics.UNKNOWN)
        merged, unique = pd.factorize(names)
        codes = merged[np.where(values.codes < 0, len(names) - 1, values.codes)]
        combined = combined * len(unique) + codes
        labels.append(np.asarray(unique, dtype=object))
    combo, seen = pd.factorize(combined)
    seen = np.asarray(seen)
    table = {}
    for column, names in zip(reversed(columns), reversed(labels), strict=True):
        table[column] = pd.array(names[seen % len(names)], dtype="str")
        seen = seen // len(names)
    return combo, pd.DataFrame({column: table[column] for column in columns})


def _build_version_runs(tables: Tables, prepared: Prepared) -> VersionRuns | None:
    columns = ["ide", "ide_version", "plugin", "plugin_version"]
    if not tables.has_rows("user_by_ide"):
        return None
    frame = tables.frames["user_by_ide"]
    if not all(column in frame for column in columns):
        return None
    day, entity, user = prepared.codes(frame)
    combo, table = _text_combinations(frame, columns)
    ide_code, _ = pd.factorize(frame["ide"])
    key = (entity.astype(np.int64) * (prepared.user_count + 1) + user + 1) * (int(ide_code.max()) + 1) + ide_code
    order = np.lexsort((day, key))
    key, combo, day, entity = key[order], combo[order], day[order], entity[order]
    start = np.flatnonzero(np.r_[True, (key[1:] != key[:-1]) | (combo[1:] != combo[:-1])])
    end = np.r_[start[1:] - 1, len(key) - 1]
    table["lines_reported"] = [
        lines_reported(str(ide), version, plugin)
        for ide, version, plugin in zip(table["ide"], table["ide_version"], table["plugin_version"], strict=True)
    ]
    return VersionRuns(key[start], combo[start], entity[start], day[start], day[end], table)


def ide_versions(tables: Tables, selection: Selection) -> pd.DataFrame:
    """Count users per IDE, IDE version, plugin and plugin version they last ran in the range.

    NOTE: a run of rows on one version counts as overlapping the range when its first and
    last day do, so a user with a gap in activity across the whole range still counts. The
    weekend control does not apply to versions.
    """
    runs = version_runs(tables, selection.prepared)
    if runs is None:
        return pd.DataFrame(columns=["ide", "ide_version", "plugin", "plugin_version", "users", "lines_reported"])
    valid = runs.entity >= 0
    keep = valid & (runs.first_day <= selection.last) & (runs.last_day >= selection.first)
    keep[valid] &= selection.entity_mask[runs.entity[valid]]
    chosen = np.flatnonzero(keep)
    keys = runs.key[chosen]
    latest = chosen[np.r_[keys[1:] != keys[:-1], True]] if len(chosen) else chosen
    counts = np.bincount(runs.combo[latest], minlength=len(runs.combos))
    table = runs.combos.assign(users=counts)
    table = table.loc[table["users"] > 0, ["ide", "ide_version", "plugin", "plugin_version", "users", "lines_reported"]]
    return table.sort_values(["ide", "users"], ascending=[True, False], kind="stable").reset_index(drop=True)


@dataclass
class ClientRows:
    """The user-IDE rows that name an IDE version, sorted by day, as codes.

    ``key`` numbers each (user id, IDE) pair and ``client`` each (IDE, IDE version, plugin
    version) triple, a row of ``clients``. ``old`` marks the clients that report no lines.
    """

    day: np.ndarray
    user_id: np.ndarray
    key: np.ndarray
    client: np.ndarray
    clients: pd.DataFrame
    old: np.ndarray


CLIENT_COLUMNS = ["ide", "ide_version", "plugin_version"]


def client_rows(tables: Tables, prepared: Prepared) -> ClientRows | None:
    """Return the user-IDE rows that name a version, built once per load; None without them."""
    if "ide-client-rows" not in prepared.cache:
        prepared.cache["ide-client-rows"] = _build_client_rows(tables, prepared)
    cached = prepared.cache["ide-client-rows"]
    return cached if isinstance(cached, ClientRows) else None


def _combined_codes(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Number each distinct combination of the columns' values, missing values included."""
    combined = np.zeros(len(frame), dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(frame[column])
        combined = combined * (len(uniques) + 1) + codes + 1
    return pd.factorize(combined)[0]


def _build_client_rows(tables: Tables, prepared: Prepared) -> ClientRows | None:
    if not tables.has_rows("user_by_ide"):
        return None
    frame = tables.frames["user_by_ide"]
    if "plugin_version" not in frame:
        return None
    day, _, _ = prepared.codes(frame)
    known = np.flatnonzero(frame["ide_version"].notna().to_numpy())
    order = known[np.argsort(day[known], kind="stable")]
    rows = frame.iloc[order]
    client = pd.factorize(_combined_codes(rows, CLIENT_COLUMNS))[0]
    clients = rows[CLIENT_COLUMNS].iloc[np.unique(client, return_index=True)[1]].reset_index(drop=True)
    flags = [
        lines_reported(str(ide), version, plugin)
        for ide, version, plugin in zip(clients["ide"], clients["ide_version"], clients["plugin_version"], strict=True)
    ]
    return ClientRows(
        day=day[order],
        user_id=pd.array(rows["user_id"], dtype="Int64"),
        key=_combined_codes(rows, ["user_id", "ide"]),
        client=client.astype(np.int32),
        clients=clients,
        old=np.array([flag == "none" for flag in flags], dtype=bool),
    )


def old_client_users(tables: Tables, filters: Filters) -> pd.DataFrame:
    """List users whose last IDE client in the range reports no lines of code, for follow-up."""
    selection = resolve(tables, filters)
    rows = client_rows(tables, selection.prepared)
    if rows is None:
        return pd.DataFrame(columns=["user_id", "user_login", "ide", "ide_version", "plugin_version"])
    prepared = selection.prepared
    bounds = [prepared.day_code(selection.since), prepared.day_code(selection.until) + 1]
    start, stop = np.searchsorted(rows.day, bounds)
    # The last row of each (user, IDE) pair in the window: the first one of the reversed rows.
    keys = rows.key[start:stop]
    last = np.sort(len(keys) - 1 - np.unique(keys[::-1], return_index=True)[1]) + start
    latest = last[rows.old[rows.client[last]]]
    old = rows.clients.iloc[rows.client[latest]].reset_index(drop=True)
    old.insert(0, "user_id", rows.user_id[latest])
    logins = pd.Series(selection.prepared.logins, index=selection.prepared.user_ids)
    old.insert(1, "user_login", old["user_id"].map(logins))
    if filters.pseudonymise:
        old["user_login"] = alias_logins(old["user_id"], old["user_login"])
    return old.reset_index(drop=True)
