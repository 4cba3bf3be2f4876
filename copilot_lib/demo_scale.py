"""Generate large demo tables quickly, straight into the table schema, for benchmarks.

The report-file generator in :mod:`copilot_lib.demo` builds every record in Python, which
takes minutes and gigabytes for a year of ten thousand users. This generator draws the
same tables with numpy instead: user-day rows with every flag, the feature, IDE,
language, model and CLI breakdowns of each user, the organisation totals aggregated from
them, day-by-day team membership, seats, teams, repositories and pull requests. The
numbers are plausible, not a model of real behaviour; use it to measure speed and memory.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from copilot_lib.ingest import CHILD_PARENTS, PARENT_KEYS, as_categories
from copilot_lib.schema import COUNTERS, PULL_REQUEST_COUNTS, PULL_REQUEST_MEDIANS
from copilot_lib.tables import Tables

logger = logging.getLogger(__name__)

ORG_ID = "4455667"
ENTERPRISE_ID = "88001"
IDES = np.array(["vscode", "jetbrains", "visualstudio", "neovim", "xcode"], dtype=object)
IDE_WEIGHTS = np.array([0.62, 0.2, 0.09, 0.05, 0.04])
IDE_VERSIONS = np.array(["1.101.0", "1.131.2", "2026.2", "17.14.8", "0.11.2", "26.1"], dtype=object)
PLUGIN_VERSIONS = np.array(["0.28.0", "0.58.1", "1.7.2", "18.0.310", "1.52.0", "0.44.1"], dtype=object)
PLUGINS = np.array(["copilot-chat", "copilot-intellij", "copilot-vs", "copilot.vim", "copilot-xcode"], dtype=object)
LANGUAGES = np.array(
    ["python", "typescript", "java", "go", "csharp", "javascript", "rust", "kotlin", "sql", "unknown"], dtype=object
)
FEATURES = np.array(
    [
        "code_completion",
        "chat_panel_ask_mode",
        "chat_panel_agent_mode",
        "chat_panel_edit_mode",
        "chat_inline",
        "chat_panel_plan_mode",
        "agent_edit",
    ],
    dtype=object,
)
# Chance that an active user-day uses each feature, in FEATURES order.
FEATURE_CHANCE = np.array([0.9, 0.45, 0.3, 0.1, 0.1, 0.03, 0.25])
MODELS = np.array(["claude-sonnet-4.5", "gpt-5.1", "gemini-2.5-pro", "gpt-4.1", "unknown"], dtype=object)
FLAGS = (
    "used_agent",
    "used_chat",
    "used_cli",
    "used_copilot_code_review_active",
    "used_copilot_code_review_passive",
    "used_copilot_cloud_agent",
    "used_copilot_app",
)
USERS_PER_TEAM = 25
REPOSITORIES_PER_100_USERS = 2


# The tables the report ingest types column by column; seats, billing and teams are built apart.
TABLE_NAMES = (*PARENT_KEYS, *CHILD_PARENTS)


def _int(values: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.array(values.astype(np.int64), dtype="Int64")


def _int32(values: np.ndarray) -> pd.arrays.IntegerArray:
    """Return a user-level counter column, typed Int32 as the schema types them."""
    return pd.array(values.astype(np.int32), dtype="Int32")


def _key(frame: pd.DataFrame, rows: int, days: pd.DatetimeIndex, day: np.ndarray) -> pd.DataFrame:
    frame.insert(0, "scope", pd.Categorical(np.full(rows, "organization", dtype=object)))
    frame.insert(1, "entity_id", pd.Categorical(np.full(rows, ORG_ID, dtype=object)))
    frame.insert(2, "day", days[day].astype("datetime64[ns]"))
    return frame


def _counters(rng: np.random.Generator, rows: int, scale: np.ndarray) -> dict[str, np.ndarray]:
    generations = rng.poisson(8 * scale)
    acceptances = rng.binomial(generations, 0.3)
    suggested = generations * rng.integers(2, 6, rows)
    return {
        # An active user has at least one interaction, as the metrics define "active".
        "user_initiated_interaction_count": rng.poisson(3 * scale) + (scale > 0),
        "code_generation_activity_count": generations,
        "code_acceptance_activity_count": acceptances,
        "loc_suggested_to_add_sum": suggested,
        "loc_suggested_to_delete_sum": np.zeros(rows, dtype=np.int64),
        "loc_added_sum": acceptances * rng.integers(1, 5, rows),
        "loc_deleted_sum": rng.poisson(scale),
    }


def _breakdown(
    rng: np.random.Generator, parent: np.ndarray, dims: dict[str, np.ndarray], user_day: pd.DataFrame, name: str
) -> pd.DataFrame:
    """Build a user breakdown table: one row per parent user-day row in ``parent``."""
    rows = len(parent)
    frame = pd.DataFrame({"user_id": user_day["user_id"].to_numpy()[parent]})
    for dim, values in dims.items():
        frame[dim] = pd.array(values, dtype="str")
    for column, values in _counters(rng, rows, np.ones(rows)).items():
        if column == "user_initiated_interaction_count" and name.startswith("user_by_language"):
            continue
        frame[column] = _int32(values)
    frame.insert(0, "scope", user_day["scope"].to_numpy()[parent])
    frame.insert(1, "entity_id", user_day["entity_id"].to_numpy()[parent])
    frame.insert(2, "day", user_day["day"].to_numpy()[parent])
    frame["user_id"] = frame["user_id"].astype("Int64")
    return frame


def _entity_breakdown(frame: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    counters = [column for column in frame.columns if column in COUNTERS or column.endswith(("_count", "_sum"))]
    grouped = frame.groupby(["scope", "entity_id", "day", *dims], observed=True)[counters].sum().reset_index()
    for column in counters:
        grouped[column] = grouped[column].astype("Int64")
    return grouped


def generate_tables_fast(users: int = 10_000, days: int = 365, seed: int = 7, end: date | None = None) -> Tables:
    """Generate ``days`` days of tables for ``users`` users, deterministically for a seed."""
    rng = np.random.default_rng(seed)
    end = end or (datetime.now(UTC).date() - timedelta(days=2))
    calendar = pd.date_range(end - timedelta(days=days - 1), end, freq="D")
    user_ids = 7_300_000 + np.arange(users, dtype=np.int64) * 17
    logins = np.array([f"dev-{index:06d}" for index in range(users)], dtype=object)
    activity = np.where(rng.random(users) < 0.1, 0.0, rng.uniform(0.15, 0.95, users))
    ide = rng.choice(len(IDES), users, p=IDE_WEIGHTS)
    weekend = calendar.day_of_week >= 5

    # One user-day row when a user is active, plus a few all-zero rows GitHub detects server-side.
    chance = activity[None, :] * np.where(weekend, 0.25, 1.0)[:, None]
    draw = rng.random((days, users), dtype=np.float32)
    active = draw < chance
    silent = ~active & (activity[None, :] > 0) & (draw > 0.985)
    day, user = np.nonzero(active | silent)
    is_active = active[day, user]
    rows = len(day)
    scale = np.where(is_active, rng.uniform(0.4, 1.6, rows), 0.0)
    user_day = pd.DataFrame(
        {
            "organization_id": pd.Categorical(np.full(rows, ORG_ID, dtype=object)),
            "enterprise_id": pd.Categorical(np.full(rows, ENTERPRISE_ID, dtype=object)),
            "user_id": _int(user_ids[user]),
            "user_login": pd.array(logins[user], dtype="str"),
        }
    )
    _key(user_day, rows, calendar, day)
    counters = _counters(rng, rows, scale)
    for column, values in counters.items():
        user_day[column] = _int32(values * is_active)
    for flag, share in zip(FLAGS, (0.4, 0.7, 0.1, 0.1, 0.2, 0.03, 0.02), strict=True):
        user_day[flag] = pd.array((rng.random(rows) < share) & is_active, dtype="boolean")
    user_day["ai_credits_used"] = pd.array(np.round(rng.uniform(0.5, 60.0, rows) * is_active, 2), dtype="Float64")
    phase = rng.integers(1, 5, users)[user]
    user_day["ai_adoption_phase"] = pd.array(np.char.add("Phase ", phase.astype(str)).astype(object), dtype="str")
    user_day["ai_adoption_phase_number"] = _int(phase)

    tables = Tables()
    tables.frames["user_daily"] = user_day
    _add_breakdowns(rng, tables, user_day, np.flatnonzero(is_active), user[np.flatnonzero(is_active)], ide)
    _add_entity_tables(rng, tables, calendar, active)
    _add_teams_and_seats(rng, tables, calendar, user_ids, logins, activity, end)
    tables.duplicates_dropped = dict.fromkeys(("entity_daily", "user_daily", "user_teams", "repo_daily"), 0)
    for name in TABLE_NAMES:
        if name in tables.frames:
            as_categories(tables.frames[name])
    logger.info("generated %d user-day rows for %d users over %d days", rows, users, days)
    return tables


def _add_breakdowns(
    rng: np.random.Generator,
    tables: Tables,
    user_day: pd.DataFrame,
    active: np.ndarray,
    user: np.ndarray,
    ide: np.ndarray,
) -> None:
    frames = tables.frames
    ide_rows = _breakdown(rng, active, {"ide": IDES[ide[user]]}, user_day, "user_by_ide")
    # Each user runs one client version; a few upgrade halfway through the period.
    per_user = rng.integers(0, len(IDE_VERSIONS), int(user.max()) + 1 if len(user) else 1)
    upgraded = rng.random(len(active)) < 0.1
    version = np.where(
        upgraded & (active > len(user_day) // 2), (per_user[user] + 1) % len(IDE_VERSIONS), per_user[user]
    )
    ide_rows["ide_version"] = pd.array(IDE_VERSIONS[version], dtype="str")
    ide_rows["plugin"] = pd.array(PLUGINS[ide[user]], dtype="str")
    ide_rows["plugin_version"] = pd.array(PLUGIN_VERSIONS[version], dtype="str")
    frames["user_by_ide"] = ide_rows

    uses = rng.random((len(active), len(FEATURES))) < FEATURE_CHANCE
    parent_index, feature = np.nonzero(uses)
    parent = active[parent_index]
    features = FEATURES[feature]
    frames["user_by_feature"] = _breakdown(rng, parent, {"feature": features}, user_day, "user_by_feature")
    favourite = rng.integers(0, len(LANGUAGES) - 1, len(user_day))
    language = np.where(rng.random(len(parent)) < 0.05, len(LANGUAGES) - 1, favourite[parent])
    frames["user_by_language_feature"] = _breakdown(
        rng, parent, {"language": LANGUAGES[language], "feature": features}, user_day, "user_by_language_feature"
    )
    chat = feature > 0
    model = rng.integers(0, len(MODELS), int(chat.sum()))
    frames["user_by_model_feature"] = _breakdown(
        rng, parent[chat], {"model": MODELS[model], "feature": features[chat]}, user_day, "user_by_model_feature"
    )
    frames["user_by_language_model"] = _breakdown(
        rng,
        parent[chat],
        {"language": LANGUAGES[language[chat]], "model": MODELS[model]},
        user_day,
        "user_by_language_model",
    )
    cli_rows = np.flatnonzero(user_day["used_cli"].to_numpy(dtype=bool))
    cli = pd.DataFrame({"user_id": user_day["user_id"].to_numpy()[cli_rows]})
    requests = rng.integers(3, 40, len(cli_rows))
    cli["session_count"] = _int32(rng.integers(1, 4, len(cli_rows)))
    cli["request_count"] = _int32(requests)
    cli["prompt_count"] = _int32(np.maximum(requests // 3, 1))
    cli["output_tokens_sum"] = _int(requests * rng.integers(300, 900, len(cli_rows)))
    cli["prompt_tokens_sum"] = _int(requests * rng.integers(2000, 5000, len(cli_rows)))
    cli.insert(0, "scope", user_day["scope"].to_numpy()[cli_rows])
    cli.insert(1, "entity_id", user_day["entity_id"].to_numpy()[cli_rows])
    cli.insert(2, "day", user_day["day"].to_numpy()[cli_rows])
    cli["user_id"] = cli["user_id"].astype("Int64")
    frames["user_cli"] = cli


def _add_entity_tables(
    rng: np.random.Generator, tables: Tables, calendar: pd.DatetimeIndex, active: np.ndarray
) -> None:
    frames = tables.frames
    users = frames["user_daily"]
    entity = _entity_breakdown(users, [])
    # Trailing windows of distinct active users, from a running count of active days.
    running = np.concatenate(
        [np.zeros((1, active.shape[1]), dtype=np.int32), np.cumsum(active, axis=0, dtype=np.int32)]
    )
    codes = np.arange(1, len(calendar) + 1)
    for column, span in (("daily_active_users", 1), ("weekly_active_users", 7), ("monthly_active_users", 28)):
        window = running[codes] - running[np.maximum(codes - span, 0)]
        entity[column] = _int((window > 0).sum(axis=1)[: len(entity)])
    entity["daily_active_cli_users"] = _int(users.groupby("day")["used_cli"].sum().to_numpy()[: len(entity)])
    entity.insert(3, "organization_id", pd.Categorical(np.full(len(entity), ORG_ID, dtype=object)))
    entity.insert(4, "enterprise_id", pd.Categorical(np.full(len(entity), ENTERPRISE_ID, dtype=object)))
    frames["entity_daily"] = entity
    frames["entity_by_ide"] = _entity_breakdown(frames["user_by_ide"], ["ide"])
    frames["entity_by_feature"] = _entity_breakdown(frames["user_by_feature"], ["feature"])
    frames["entity_by_language_feature"] = _entity_breakdown(
        frames["user_by_language_feature"], ["language", "feature"]
    )
    frames["entity_by_model_feature"] = _entity_breakdown(frames["user_by_model_feature"], ["model", "feature"])
    frames["entity_by_language_model"] = _entity_breakdown(frames["user_by_language_model"], ["language", "model"])
    frames["entity_cli"] = _entity_breakdown(frames["user_cli"], [])
    created = rng.integers(20, 60, len(calendar))
    pulls = pd.DataFrame({name: _int(created * (index % 3 + 1) // 2) for index, name in enumerate(PULL_REQUEST_COUNTS)})
    for name in PULL_REQUEST_MEDIANS:
        pulls[name] = pd.array(np.round(rng.uniform(60, 400, len(calendar)), 1), dtype="Float64")
    frames["entity_pull_requests"] = _key(pulls, len(calendar), calendar, np.arange(len(calendar)))


def _add_teams_and_seats(
    rng: np.random.Generator,
    tables: Tables,
    calendar: pd.DatetimeIndex,
    user_ids: np.ndarray,
    logins: np.ndarray,
    activity: np.ndarray,
    end: date,
) -> None:
    frames = tables.frames
    users = len(user_ids)
    team_count = max(users // USERS_PER_TEAM, 2)
    slugs = np.array([f"team-{index:04d}" for index in range(team_count)], dtype=object)
    first = rng.integers(0, team_count, users)
    second = np.where(rng.random(users) < 0.2, rng.integers(0, team_count, users), -1)
    member_user = np.concatenate([np.arange(users), np.flatnonzero(second >= 0)])
    member_team = np.concatenate([first, second[second >= 0]])
    days = len(calendar)
    day = np.repeat(np.arange(days), len(member_user))
    member = np.tile(np.arange(len(member_user)), days)
    teams = pd.DataFrame(
        {
            "user_id": _int(user_ids[member_user][member]),
            "user_login": pd.array(logins[member_user][member], dtype="str"),
            "team_id": _int(902_000 + member_team[member]),
            "slug": pd.array(slugs[member_team][member], dtype="str"),
        }
    )
    frames["user_teams"] = _key(teams, len(teams), calendar, day)
    frames["teams"] = pd.DataFrame(
        {
            "team_id": _int(902_000 + np.arange(team_count)),
            "name": pd.array(slugs, dtype="string"),
            "slug": pd.array(slugs, dtype="string"),
        }
    )
    last_day = pd.Timestamp(end, tz="UTC")
    idle_days = rng.integers(0, 120, users)
    last_activity = pd.Series(last_day - pd.to_timedelta(idle_days, unit="D")).where(activity > 0)
    frames["seats"] = pd.DataFrame(
        {
            "assignee_id": _int(user_ids),
            "assignee_login": pd.array(logins, dtype="string"),
            "assigning_team_slug": pd.array(slugs[first], dtype="string"),
            "plan_type": pd.array(np.where(rng.random(users) < 0.8, "business", "enterprise"), dtype="string"),
            "created_at": last_day - pd.to_timedelta(rng.integers(100, 400, users), unit="D"),
            "pending_cancellation_date": pd.Series(last_day + pd.Timedelta(days=20), index=range(users)).where(
                rng.random(users) < 0.04
            ),
            "last_activity_at": last_activity,
            "last_activity_editor": pd.array(np.full(users, "vscode/1.131.2/copilot-chat/0.58.1"), dtype="string"),
        }
    )
    repositories = max(users * REPOSITORIES_PER_100_USERS // 100, 3)
    present = rng.random((days, repositories)) < 0.6
    repo_day, repo = np.nonzero(present)
    repos = pd.DataFrame(
        {
            "repo_id": _int(550_000_000 + repo),
            "repo_owner_name": pd.array(np.full(len(repo), "demo-org"), dtype="str"),
            "repo_name": pd.array(np.char.add("repo-", repo.astype(str)).astype(object), dtype="str"),
        }
    )
    for name in PULL_REQUEST_COUNTS:
        repos[name] = _int(rng.integers(0, 10, len(repo)))
    for name in PULL_REQUEST_MEDIANS:
        repos[name] = pd.array(np.round(rng.uniform(30, 600, len(repo)), 1), dtype="Float64")
    frames["repo_daily"] = _key(repos, len(repos), calendar, repo_day)
