"""Features and modes: completions, chat modes, agent edits, CLI, Copilot app, review, agents."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from copilot_lib import metrics
from copilot_lib.tables import Tables
from copilot_lib.views.breakdowns import breakdown_days, totals
from copilot_lib.views.dimensions import ALL_COUNTERS
from copilot_lib.views.filters import Filters
from copilot_lib.views.result import NO_DATA, NO_DATA_IN_RANGE, ViewResult
from copilot_lib.views.selection import Selection, active_users_by_period, by_period, resolve

# Feature values GitHub reports in totals_by_feature, with the label the view shows.
FEATURE_LABELS = {
    "code_completion": "Code completion",
    "chat_panel_ask_mode": "Chat: ask mode",
    "chat_panel_edit_mode": "Chat: edit mode",
    "chat_panel_agent_mode": "Chat: agent mode",
    "chat_panel_plan_mode": "Chat: plan mode",
    "chat_panel_custom_mode": "Chat: custom mode",
    "chat_panel_unknown_mode": "Chat: unknown mode",
    "chat_inline": "Chat: inline",
    "agent_edit": "Agent edits",
    "copilot_cli": "Copilot CLI",
}
# User flags and what each records a user did that day.
SURFACES = {
    "used_chat": "Chat",
    "used_agent": "Agent",
    "used_cli": "Copilot CLI",
    "used_copilot_app": "Copilot app",
    "used_copilot_code_review_active": "Code review (requested)",
    "used_copilot_code_review_passive": "Code review (received)",
    "used_copilot_cloud_agent": "Cloud agent",
}
SESSION_COUNTERS = ("session_count", "request_count", "prompt_count", "output_tokens_sum", "prompt_tokens_sum")
AGENT_COUNTERS = (metrics.INTERACTIONS, "session_count")
# Daily user counts on entity records for surfaces outside the IDE; one value per day,
# never summed across days.
ENTITY_DAILY_SURFACES = {
    "daily_active_cli_users": "Copilot CLI",
    "daily_active_copilot_code_review_users": "Code review (requested)",
    "daily_active_copilot_cloud_agent_users": "Cloud agent",
    "daily_active_copilot_app_users": "Copilot app",
}


@dataclass
class FeaturesView(ViewResult):
    """Activity per feature, users per surface, CLI and Copilot app use, third-party agents."""

    totals: pd.DataFrame = field(default_factory=pd.DataFrame)
    series: pd.DataFrame = field(default_factory=pd.DataFrame)
    surfaces: pd.DataFrame = field(default_factory=pd.DataFrame)
    surface_daily: pd.DataFrame = field(default_factory=pd.DataFrame)
    cli: pd.DataFrame = field(default_factory=pd.DataFrame)
    copilot_app: pd.DataFrame = field(default_factory=pd.DataFrame)
    third_party_agents: pd.DataFrame = field(default_factory=pd.DataFrame)


def _label(frame: pd.DataFrame) -> pd.DataFrame:
    frame.insert(1, "label", frame["feature"].map(FEATURE_LABELS).fillna(frame["feature"]))
    return frame


def _sessions(tables: Tables, selection: Selection, kind: str) -> pd.DataFrame:
    """Sum CLI or Copilot app sessions, requests and tokens per period."""
    days = breakdown_days(tables, selection, kind, (), SESSION_COUNTERS)
    if days is None or days.empty:
        return pd.DataFrame()
    frame = by_period(days, selection.filters.grain)
    tokens = frame.get("output_tokens_sum", 0) + frame.get("prompt_tokens_sum", 0)
    frame["tokens_per_request"] = metrics.rate_of_sums(pd.Series(tokens), frame["request_count"])
    return frame


def _surfaces(selection: Selection) -> pd.DataFrame:
    """Count distinct users per period for each surface flag, from user rows."""
    if selection.prepared.user_count == 0:
        return pd.DataFrame()
    grain = selection.filters.grain
    columns = {label: active_users_by_period(selection, grain, flag) for flag, label in SURFACES.items()}
    frame = pd.DataFrame(columns)
    frame.index.name = "period"
    return frame.reset_index()


def _surface_daily(selection: Selection) -> pd.DataFrame:
    """Return GitHub's daily user counts per surface from entity records, per selected day."""
    prepared = selection.prepared
    if selection.team_rows is not None or not selection.from_entity:
        return pd.DataFrame()
    days = np.flatnonzero(selection.day_mask)
    frame = pd.DataFrame({"day": prepared.calendar[days]})
    for column, label in ENTITY_DAILY_SURFACES.items():
        matrix = prepared.entity_days.get(column)
        if matrix is None:
            continue
        cells = matrix[selection.entity_mask][:, days]
        frame[label] = np.where(np.isnan(cells).all(axis=0), np.nan, np.nansum(cells, axis=0))
    return frame


def features(tables: Tables, filters: Filters) -> FeaturesView:
    """Compute the features view for the range.

    Per-feature counters come from totals_by_feature. Users per surface are distinct users
    per period whose ``used_*`` flag was set, from user rows. CLI use is outside the IDE
    metrics, so it is shown apart and never added to IDE totals.
    """
    selection = resolve(tables, filters)
    if selection.prepared.days == 0:
        return FeaturesView(missing=NO_DATA)
    days = breakdown_days(tables, selection, "by_feature", ("feature",), ALL_COUNTERS)
    if days is None:
        return FeaturesView(missing="No feature breakdown in the reports: GitHub sends it in totals_by_feature.")
    if days.empty and not selection.has_days():
        return FeaturesView(missing=NO_DATA_IN_RANGE.format(since=selection.since, until=selection.until))
    result = FeaturesView(notes=list(selection.notes))
    if not days.empty:
        result.totals = _label(totals(days, ("feature",))).sort_values(metrics.INTERACTIONS, ascending=False)
        result.totals = result.totals.reset_index(drop=True)
        result.series = _label(by_period(days, filters.grain, ("feature",)))
    result.surfaces = _surfaces(selection)
    result.surface_daily = _surface_daily(selection)
    result.cli = _sessions(tables, selection, "cli")
    result.copilot_app = _sessions(tables, selection, "copilot_app")
    agents = breakdown_days(tables, selection, "by_3rd_party_agent", ("agent_name",), AGENT_COUNTERS)
    if agents is not None and not agents.empty:
        result.third_party_agents = totals(agents, ("agent_name",))
    if result.cli.empty:
        result.notes.append("No Copilot CLI use in the range (GitHub omits totals_by_cli on days without it).")
    return result
