"""Column names and types of every table built from the usage metrics reports.

Column names keep GitHub's field names. Where a field sits in a nested object, the column
takes the innermost name (``token_usage.output_tokens_sum`` becomes ``output_tokens_sum``)
unless that would be ambiguous, in which case the object's name is kept as a prefix
(``last_known_ide_version.sampled_at`` becomes ``ide_version_sampled_at``).
docs/data-model.md describes each table, its natural key and its source.
"""

from __future__ import annotations

# Column types: "int" (pandas Int64), "int32" (Int32), "float" (Float64), "bool" (boolean),
# "day" (datetime64 at midnight UTC), "text" (string), "category" (low-cardinality string).
# Counters of one user on one day are "int32": they stay far below 2**31, halve the memory
# of the largest tables, and pandas sums them as Int64. A larger value fails the load.
INT, INT32, FLOAT, BOOL, DAY, TEXT, CATEGORY = "int", "int32", "float", "bool", "day", "text", "category"

# The activity counters GitHub reports at the top level and inside breakdown elements.
COUNTERS = (
    "user_initiated_interaction_count",
    "code_generation_activity_count",
    "code_acceptance_activity_count",
    "loc_suggested_to_add_sum",
    "loc_suggested_to_delete_sum",
    "loc_added_sum",
    "loc_deleted_sum",
)

ENTITY_USER_COUNTS = (
    "daily_active_users",
    "weekly_active_users",
    "monthly_active_users",
    "monthly_active_chat_users",
    "monthly_active_agent_users",
    "daily_active_cli_users",
    "daily_active_copilot_code_review_users",
    "weekly_active_copilot_code_review_users",
    "monthly_active_copilot_code_review_users",
    "daily_passive_copilot_code_review_users",
    "weekly_passive_copilot_code_review_users",
    "monthly_passive_copilot_code_review_users",
    "daily_active_copilot_cloud_agent_users",
    "weekly_active_copilot_cloud_agent_users",
    "monthly_active_copilot_cloud_agent_users",
    "daily_active_copilot_app_users",
)

USER_FLAGS = (
    "used_agent",
    "used_chat",
    "used_cli",
    "used_copilot_code_review_active",
    "used_copilot_code_review_passive",
    "used_copilot_cloud_agent",
    "used_copilot_app",
)
# GitHub is renaming "coding agent" to "cloud agent"; both spellings fill one column.
FLAG_ALIASES = {"used_copilot_coding_agent": "used_copilot_cloud_agent"}

# Feature values that some payloads also send as top-level integer fields.
CHAT_PANEL_FIELDS = (
    "chat_panel_ask_mode",
    "chat_panel_edit_mode",
    "chat_panel_agent_mode",
    "chat_panel_plan_mode",
    "chat_panel_custom_mode",
    "chat_panel_unknown_mode",
)

SESSION_COUNTS = ("session_count", "request_count", "prompt_count")
TOKEN_USAGE = ("output_tokens_sum", "prompt_tokens_sum", "avg_tokens_per_request")

PULL_REQUEST_COUNTS = (
    "total_created",
    "total_reviewed",
    "total_merged",
    "total_suggestions",
    "total_applied_suggestions",
    "total_created_by_copilot",
    "total_reviewed_by_copilot",
    "total_merged_created_by_copilot",
    "total_merged_reviewed_by_copilot",
    "total_copilot_suggestions",
    "total_copilot_applied_suggestions",
)
PULL_REQUEST_MEDIANS = (
    "median_minutes_to_merge",
    "median_minutes_to_merge_copilot_authored",
    "median_minutes_to_merge_copilot_reviewed",
)
COMMENT_TYPE_COUNTS = ("total_copilot_suggestions", "total_copilot_applied_suggestions")

SCOPE_ORGANIZATION = "organization"
SCOPE_ENTERPRISE = "enterprise"
UNKNOWN = "unknown"

KEY = (("scope", CATEGORY), ("entity_id", CATEGORY), ("day", DAY))
IDS = (("organization_id", CATEGORY), ("enterprise_id", CATEGORY))
PROVENANCE = (
    ("report_created_at", TEXT),
    ("report_span_days", INT),
    ("source_file", CATEGORY),
    ("source_line", INT),
)
PROVENANCE_COLUMNS = tuple(name for name, _ in PROVENANCE)


def _typed(names: tuple[str, ...], kind: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, kind) for name in names)


ENTITY_DAILY = (*KEY, *IDS, *_typed(ENTITY_USER_COUNTS, INT), *_typed(COUNTERS, INT), *PROVENANCE)
USER_DAILY = (
    *KEY,
    *IDS,
    ("user_id", INT),
    ("user_login", CATEGORY),
    *_typed(COUNTERS, INT32),
    *_typed(USER_FLAGS, BOOL),
    ("ai_credits_used", FLOAT),
    ("ai_adoption_phase", CATEGORY),
    ("ai_adoption_phase_number", INT),
    *PROVENANCE,
)
USER_TEAMS = (
    *KEY,
    ("user_id", INT),
    ("user_login", CATEGORY),
    ("team_id", INT),
    ("slug", CATEGORY),
    *PROVENANCE,
)
REPO_DAILY = (
    *KEY,
    *IDS,
    ("repo_id", INT),
    ("repo_owner_name", TEXT),
    ("repo_name", TEXT),
    ("repo_visibility", CATEGORY),
    *_typed(PULL_REQUEST_COUNTS, INT),
    *_typed(PULL_REQUEST_MEDIANS, FLOAT),
    *PROVENANCE,
)

# Columns of the child tables, taken from each element of a breakdown. The parent's key
# columns (scope, entity_id, day and user_id or repo_id) are added in front of them.
COUNTER_COLUMNS = _typed(COUNTERS, INT)
# Language breakdowns carry the code counters only: GitHub sends no interaction count there.
CODE_COUNTER_COLUMNS = _typed(COUNTERS[1:], INT)
SESSION_COLUMNS = (
    *_typed(SESSION_COUNTS, INT),
    ("output_tokens_sum", INT),
    ("prompt_tokens_sum", INT),
    ("avg_tokens_per_request", FLOAT),
)
IDE_VERSION_COLUMNS = (
    ("ide_version", CATEGORY),
    ("ide_version_sampled_at", TEXT),
    ("plugin", CATEGORY),
    ("plugin_version", CATEGORY),
    ("plugin_version_sampled_at", TEXT),
)
CHILD_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "by_ide": (("ide", CATEGORY), *COUNTER_COLUMNS),
    "by_feature": (("feature", CATEGORY), *COUNTER_COLUMNS),
    "by_language_feature": (("language", CATEGORY), ("feature", CATEGORY), *CODE_COUNTER_COLUMNS),
    "by_language_model": (("language", CATEGORY), ("model", CATEGORY), *CODE_COUNTER_COLUMNS),
    "by_model_feature": (("model", CATEGORY), ("feature", CATEGORY), *COUNTER_COLUMNS),
    "by_3rd_party_agent": (
        ("agent_id", CATEGORY),
        ("agent_name", CATEGORY),
        ("user_initiated_interaction_count", INT),
        ("session_count", INT),
    ),
    "cli": SESSION_COLUMNS,
    "copilot_app": SESSION_COLUMNS,
    "by_ai_adoption_phase": (("phase", CATEGORY), ("phase_number", INT), ("total_engaged_users", INT)),
    "pull_requests": (*_typed(PULL_REQUEST_COUNTS, INT), *_typed(PULL_REQUEST_MEDIANS, FLOAT)),
    "pr_by_comment_type": (("comment_type", CATEGORY), *_typed(COMMENT_TYPE_COUNTS, INT)),
}
USER_CHILD_EXTRA: dict[str, tuple[tuple[str, str], ...]] = {
    "by_ide": IDE_VERSION_COLUMNS,
    "cli": (("cli_version", CATEGORY), ("cli_version_sampled_at", TEXT)),
}
ENTITY_CHILDREN = (
    "by_ide",
    "by_feature",
    "by_language_feature",
    "by_language_model",
    "by_model_feature",
    "by_3rd_party_agent",
    "cli",
    "copilot_app",
    "by_ai_adoption_phase",
    "pull_requests",
    "pr_by_comment_type",
)
USER_CHILDREN = (
    "by_ide",
    "by_feature",
    "by_language_feature",
    "by_language_model",
    "by_model_feature",
    "by_3rd_party_agent",
    "cli",
    "copilot_app",
)
# Key fields of each child that get ``unknown`` when missing or empty, as GitHub does.
DIMENSIONS = ("ide", "feature", "language", "model", "agent_id", "comment_type")


# Integer columns of user child tables that stay Int64: token sums of a heavy CLI user can
# pass 2**31 in a day.
USER_INT64_COLUMNS = frozenset(("output_tokens_sum", "prompt_tokens_sum"))


def child_columns(parent: str, child: str) -> tuple[tuple[str, str], ...]:
    """Return the typed columns of a child table, without the parent key in front."""
    if parent != "user":
        return CHILD_COLUMNS[child]
    columns = tuple(
        (name, INT32 if kind == INT and name not in USER_INT64_COLUMNS else kind) for name, kind in CHILD_COLUMNS[child]
    )
    return (*columns, *USER_CHILD_EXTRA.get(child, ()))


def parent_key(parent: str) -> tuple[tuple[str, str], ...]:
    """Return the columns a child table copies from its parent row."""
    if parent == "user":
        return (*KEY, ("user_id", INT))
    if parent == "repo":
        return (*KEY, ("repo_id", INT))
    return KEY


PARENT_TABLES = {"entity": "entity_daily", "user": "user_daily", "repo": "repo_daily"}


def child_table(parent: str, child: str) -> str:
    """Return a child table's name: ``entity_by_ide``, ``user_cli``, ``repo_pr_by_comment_type``."""
    if child == "pull_requests":
        return f"{parent}_pull_requests"
    return f"{parent}_{child}"


def category_columns() -> frozenset[str]:
    """Return the names of every column typed "category" in any table."""
    typed = [
        *ENTITY_DAILY,
        *USER_DAILY,
        *USER_TEAMS,
        *REPO_DAILY,
        *(column for columns in CHILD_COLUMNS.values() for column in columns),
        *(column for columns in USER_CHILD_EXTRA.values() for column in columns),
    ]
    return frozenset(name for name, kind in typed if kind == CATEGORY)
