"""Known payload realities of GitHub's Copilot APIs, each with a small input and its right value.

Covered here: totals versus breakdowns and their semantics, organisation versus enterprise
attribution, teams and seats, and what integrators measured in real exports.
"""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest
from model_builders import counters, entity, load_records, membership, user, write_ndjson

from copilot_lib import health, metrics
from copilot_lib.legacy import load_legacy
from copilot_lib.tables import load_folder


def _feature(name, interactions=0, generations=0, acceptances=0, **extra):
    return {"feature": name, **counters(interactions, generations, acceptances, **extra)}


# Totals versus breakdowns, semantics ---------------------------------------------------


def test_user_in_two_languages_counts_once(tmp_path):
    languages = [
        {"language": "go", "feature": "code_completion", **counters(0, 2, 1)},
        {"language": "rust", "feature": "code_completion", **counters(0, 3, 1)},
    ]
    tables = load_records(
        tmp_path,
        [
            user("2026-11-01", 1, 1, 5, 2, totals_by_language_feature=languages),
            user("2026-11-02", 1, 1, 5, 2, totals_by_language_feature=languages),
        ],
    )
    assert len(tables["user_by_language_feature"]) == 4
    assert metrics.distinct_active_users(tables.user_daily) == 1


def test_legacy_active_and_engaged_kept_apart(tmp_path):
    (tmp_path / "metrics.json").write_text(
        json.dumps([{"date": "2025-03-01", "total_active_users": 40, "total_engaged_users": 25}])
    )
    row = load_legacy(tmp_path)["legacy_metrics_daily"].iloc[0]
    assert (row["total_active_users"], row["total_engaged_users"]) == (40, 25)


def test_server_side_user_is_not_active(tmp_path):
    empty = {f"totals_by_{name}": [] for name in ("ide", "feature", "language_feature")}
    tables = load_records(tmp_path, [user("2026-11-01", 1, 0, **empty), user("2026-11-01", 2, 3)])
    result = metrics.kpis(tables)
    assert (result.unique_active_users, result.server_side_only_users) == (1, 1)


def test_acceptance_rate_ratio_of_sums_not_lines(tmp_path):
    tables = load_records(
        tmp_path,
        [
            entity("2026-11-01", 1, 100, 1, loc_added_sum=900),
            entity("2026-11-02", 1, 1, 1, loc_added_sum=5),
        ],
    )
    assert metrics.kpis(tables).acceptance_rate == pytest.approx(2 / 101)


def test_legacy_lines_accepted_below_acceptances(tmp_path):
    day = {
        "day": "2024-05-01",
        "breakdown": [
            {
                "language": "c#",
                "editor": "visualstudio",
                "suggestions_count": 9,
                "acceptances_count": 5,
                "lines_suggested": 9,
                "lines_accepted": 0,
            }
        ],
    }
    (tmp_path / "usage.json").write_text(json.dumps([day]))
    row = load_legacy(tmp_path)["legacy_usage_breakdown"].iloc[0]
    assert (row["acceptances_count"], row["lines_accepted"]) == (5, 0)


def test_interactions_without_lines_keep_plugin_version(tmp_path):
    ide = [
        {
            "ide": "vscode",
            **counters(18),
            "last_known_plugin_version": {"plugin": "copilot-chat", "plugin_version": "0.20.0"},
        }
    ]
    tables = load_records(tmp_path, [user("2026-11-01", 1, 18, totals_by_ide=ide)])
    assert int(tables.user_daily["loc_added_sum"].iloc[0]) == 0
    assert metrics.distinct_active_users(tables.user_daily) == 1
    assert tables["user_by_ide"]["plugin_version"].tolist() == ["0.20.0"]


def test_agent_edit_lines_leave_rate_alone(tmp_path):
    features = [
        _feature("code_completion", 0, 10, 4, loc_suggested_to_add_sum=20, loc_added_sum=8),
        _feature("agent_edit", 0, 3, 0, loc_added_sum=500),
    ]
    tables = load_records(tmp_path, [entity("2026-11-01", 2, 13, 4, loc_added_sum=508, totals_by_feature=features)])
    totals = metrics.breakdown_totals(tables["entity_by_feature"], "feature").set_index("feature")
    assert totals.loc["agent_edit", "acceptance_rate"] == 0
    assert metrics.kpis(tables).acceptance_rate == pytest.approx(4 / 13)


def test_cli_absent_is_missing_and_separate(tmp_path):
    cli = {"session_count": 2, "request_count": 30, "prompt_count": 5}
    tables = load_records(
        tmp_path,
        [
            entity("2026-11-01", 5, daily_active_users=3),
            entity("2026-11-02", 5, daily_active_users=3, daily_active_cli_users=1, totals_by_cli=cli),
        ],
    )
    assert pd.isna(tables.entity_daily["daily_active_cli_users"].iloc[0])
    assert tables["entity_cli"]["request_count"].tolist() == [30]
    assert metrics.kpis(tables).interactions == 10


def test_copilot_cli_feature_value_kept(tmp_path):
    tables = load_records(
        tmp_path,
        [
            user(
                "2026-11-01",
                1,
                4,
                used_copilot_app=False,
                totals_by_feature=[_feature("copilot_cli", 4, 2, 2)],
            )
        ],
    )
    assert tables["user_by_feature"]["feature"].tolist() == ["copilot_cli"]
    assert bool(tables.user_daily["used_copilot_app"].iloc[0]) is False


def test_copilot_app_not_an_ide(tmp_path):
    app = {"session_count": 1, "request_count": 3, "prompt_count": 1}
    tables = load_records(
        tmp_path,
        [
            entity(
                "2026-11-01",
                3,
                totals_by_feature=[_feature("copilot_app", 3)],
                totals_by_ide=[{"ide": "vscode", **counters(0)}],
                totals_by_copilot_app=app,
            )
        ],
    )
    assert "copilot_app" not in set(tables["entity_by_ide"]["ide"])
    assert tables["entity_copilot_app"]["request_count"].tolist() == [3]


def test_empty_dimension_values_become_unknown(tmp_path):
    models = [
        {"model": "", "feature": "chat_panel_ask_mode", **counters(1, 1)},
        {"model": None, "feature": "chat_panel_ask_mode", **counters(1, 1)},
        {"feature": "chat_panel_ask_mode", **counters(1, 2)},
    ]
    tables = load_records(tmp_path, [entity("2026-11-01", 3, 4, totals_by_model_feature=models)])
    assert set(tables["entity_by_model_feature"]["model"]) == {"unknown"}
    assert health.unknown_shares(tables)["model"] == pytest.approx(1.0)


def test_model_breakdown_covers_chat_only(tmp_path):
    record = entity(
        "2026-11-01",
        2,
        10,
        3,
        totals_by_model_feature=[{"model": "gpt-5.1", "feature": "chat_panel_agent_mode", **counters(2, 4, 1)}],
    )
    shares = health.attribution_shares(load_records(tmp_path, [record]))
    assert shares["by_model_feature"] == pytest.approx(0.4)


def test_coding_agent_flag_renamed(tmp_path):
    tables = load_records(
        tmp_path,
        [
            user("2026-11-01", 1, 1, used_copilot_coding_agent=True),
            user("2026-11-01", 2, 1, used_copilot_cloud_agent=False),
            user("2026-11-01", 3, 1),
        ],
    )
    assert tables.user_daily["used_copilot_cloud_agent"].tolist() == [True, False, pd.NA]


def test_optional_and_unknown_fields(tmp_path):
    record = user("2026-11-01", 1, 2, totals_by_skill=[{"skill": "x"}], distinct_mcp_use_count=3)
    tables = load_records(tmp_path, [record])
    assert pd.isna(tables.user_daily["used_cli"].iloc[0])
    assert int(tables.user_daily["user_initiated_interaction_count"].iloc[0]) == 2


def test_third_party_agent_not_in_interactions(tmp_path):
    agents = [
        {
            "agent_id": "1",
            "agent_name": "Claude",
            "user_initiated_interaction_count": 9,
            "session_count": 4,
        }
    ]
    tables = load_records(tmp_path, [entity("2026-11-01", 5, totals_by_3rd_party_agent=agents)])
    assert metrics.kpis(tables).interactions == 5
    assert tables["entity_by_3rd_party_agent"]["session_count"].tolist() == [4]


def test_monthly_window_is_trailing_28_days(tmp_path):
    tables = load_records(tmp_path, [user("2026-11-28", 1, 1), user("2026-11-01", 2, 1), user("2026-10-31", 3, 1)])
    assert metrics.kpis(tables, until=date(2026, 11, 28)).monthly_active_users == 2


# Organisation versus enterprise, teams, seats -----------------------------------------


def test_user_in_two_orgs_not_double_counted(tmp_path):
    tables = load_records(tmp_path, [user("2026-11-01", 1, 4, 6, 3, org="1"), user("2026-11-01", 1, 4, 6, 3, org="2")])
    result = metrics.kpis(tables, scope="organization")
    assert (result.unique_active_users, result.interactions, result.code_generations) == (1, 4, 6)


def test_pull_requests_without_ide_activity(tmp_path):
    tables = load_records(
        tmp_path,
        [
            {
                "day": "2026-11-01",
                "organization_id": "1",
                "pull_requests": {"total_created": 3, "total_merged": 1},
            }
        ],
    )
    assert metrics.pull_request_totals(tables)["total_created"] == 3
    assert metrics.kpis(tables).interactions is None


def test_multi_team_user_counted_in_each_team(tmp_path):
    write_ndjson(
        tmp_path / "teams.ndjson",
        [membership("2026-11-01", 1, 10, "a"), membership("2026-11-01", 1, 20, "b")],
    )
    tables = load_records(tmp_path, [user("2026-11-01", 1, 5)], "users.ndjson")
    teams = metrics.team_metrics(tables).set_index("slug")
    assert teams.loc["a", "user_initiated_interaction_count"] == teams.loc["b", "user_initiated_interaction_count"] == 5
    assert metrics.team_reconciliation(tables)["overlap"] == 5


def test_team_activity_joined_day_by_day(tmp_path):
    write_ndjson(tmp_path / "teams.ndjson", [membership("2026-11-02", 1, 10, "a")])
    tables = load_records(tmp_path, [user("2026-11-01", 1, 5), user("2026-11-02", 1, 2)], "users.ndjson")
    teams = metrics.team_metrics(tables).set_index("slug")
    assert teams.loc["a", "user_initiated_interaction_count"] == 2


def test_idle_team_members_listed(tmp_path):
    write_ndjson(
        tmp_path / "teams.ndjson",
        [membership("2026-11-01", 1, 10, "a"), membership("2026-11-01", 2, 10, "a")],
    )
    tables = load_records(tmp_path, [user("2026-11-01", 1, 5)], "users.ndjson")
    row = metrics.team_metrics(tables).set_index("slug").loc["a"]
    assert (row["members"], row["active_users"]) == (2, 1)


def test_org_and_enterprise_teams_keyed_by_scope(tmp_path):
    rows = [
        membership("2026-11-01", 1, 10, "a"),
        {"user_id": 1, "day": "2026-11-01", "enterprise_id": "9", "team_id": 10, "slug": "a"},
    ]
    tables = load_records(tmp_path, rows)
    assert sorted(tables["user_teams"]["scope"].astype(str)) == ["enterprise", "organization"]


def _seat(user_id, org="acme", team=None, **extra):
    seat = {
        "created_at": "2026-01-01T00:00:00Z",
        "assignee": None if user_id is None else {"id": user_id, "login": f"u{user_id}"},
        "organization": {"login": org},
        "assigning_team": team,
        "last_activity_at": "2026-11-01T10:00:00Z",
    }
    seat.update(extra)
    return seat


def test_enterprise_seats_repeat_users(tmp_path):
    listing = {"total_seats": 2, "seats": [_seat(1, "a"), _seat(1, "b"), _seat(2, "a")]}
    (tmp_path / "seats.json").write_text(json.dumps(listing))
    tables = load_folder(tmp_path)
    assert len(tables["seats"]) == 3
    assert metrics.assigned_seats(tables) == 2


def test_null_assignee_seat(tmp_path):
    (tmp_path / "seats.json").write_text(json.dumps({"total_seats": 2, "seats": [_seat(1), _seat(None)]}))
    tables = load_folder(tmp_path)
    assert tables["seats"]["assignee_id"].isna().sum() == 1
    assert metrics.assigned_seats(tables) == 2


def test_null_last_activity(tmp_path):
    (tmp_path / "seats.json").write_text(json.dumps({"total_seats": 1, "seats": [_seat(1, last_activity_at=None)]}))
    assert pd.isna(load_folder(tmp_path)["seats"]["last_activity_at"].iloc[0])


def test_seat_without_updated_at(tmp_path):
    (tmp_path / "seats.json").write_text(json.dumps({"total_seats": 1, "seats": [_seat(1)]}))
    seats = load_folder(tmp_path)["seats"]
    assert pd.isna(seats["updated_at"].iloc[0])
    assert seats["created_at"].iloc[0] == pd.Timestamp("2026-01-01T00:00:00Z")


def test_seat_pages_in_several_files(tmp_path):
    (tmp_path / "seats-1.json").write_text(json.dumps({"total_seats": 3, "seats": [_seat(1), _seat(2)]}))
    (tmp_path / "seats-2.json").write_text(json.dumps({"total_seats": 3, "seats": [_seat(3)]}))
    tables = load_folder(tmp_path)
    assert metrics.assigned_seats(tables) == 3


# Payload realities measured by integrators --------------------------------------------


def test_ide_breakdown_below_totals(tmp_path):
    record = entity(
        "2026-11-01",
        10,
        10,
        2,
        totals_by_ide=[{"ide": "vscode", **counters(7, 6, 1)}],
        totals_by_feature=[_feature("chat_panel_ask_mode", 10, 10, 2)],
    )
    shares = health.attribution_shares(load_records(tmp_path, [record]))
    assert (shares["by_ide"], shares["by_feature"]) == (pytest.approx(0.6), pytest.approx(1.0))


def test_lines_added_exceed_suggested(tmp_path):
    tables = load_records(tmp_path, [entity("2026-11-01", 1, 4, 2, loc_suggested_to_add_sum=10, loc_added_sum=80)])
    result = metrics.kpis(tables)
    assert (result.loc_added, result.acceptance_rate) == (80, pytest.approx(0.5))


def test_dormant_rows_with_credits(tmp_path):
    tables = load_records(tmp_path, [user("2026-11-01", 1, 0, ai_credits_used=3.5), user("2026-11-01", 2, 1)])
    assert metrics.kpis(tables).unique_active_users == 1
    assert tables.user_daily["ai_credits_used"].tolist() == [3.5, pd.NA]


def test_duplicates_across_parts_and_pulls(tmp_path):
    older = {
        "created_at": "2026-11-03T00:00:00Z",
        "organization_id": "1",
        "report_start_day": "2026-10-06",
        "report_end_day": "2026-11-02",
        "day_totals": [user("2026-11-01", 1, 1), user("2026-11-02", 1, 1)],
    }
    newer = {
        "created_at": "2026-11-04T00:00:00Z",
        "organization_id": "1",
        "report_start_day": "2026-10-07",
        "report_end_day": "2026-11-03",
        "day_totals": [user("2026-11-02", 1, 9)],
    }
    (tmp_path / "z-older.json").write_text(json.dumps(older))
    (tmp_path / "a-newer.json").write_text(json.dumps(newer))
    write_ndjson(tmp_path / "part-0.ndjson", [user("2026-11-05", 2, 4)])
    write_ndjson(tmp_path / "part-1.ndjson", [user("2026-11-05", 2, 4)])
    tables = load_folder(tmp_path)
    by_day = tables.user_daily.set_index(["day", "user_id"])["user_initiated_interaction_count"]
    assert by_day.loc[(pd.Timestamp("2026-11-02"), 1)] == 9
    assert len(tables.user_daily) == 3
    assert tables.duplicates_dropped["user_daily"] == 2


def test_one_day_report_beats_28_day_on_tie(tmp_path):
    stamp = "2026-11-04T00:00:00Z"
    long = {
        "created_at": stamp,
        "organization_id": "1",
        "report_start_day": "2026-10-07",
        "report_end_day": "2026-11-03",
        "day_totals": [entity("2026-11-03", 1)],
    }
    short = {
        "created_at": stamp,
        "organization_id": "1",
        "report_start_day": "2026-11-03",
        "report_end_day": "2026-11-03",
        "day_totals": [entity("2026-11-03", 2)],
    }
    (tmp_path / "a-short.json").write_text(json.dumps(short))
    (tmp_path / "b-long.json").write_text(json.dumps(long))
    assert load_folder(tmp_path).entity_daily["user_initiated_interaction_count"].tolist() == [2]


def test_daily_counts_not_summable(tmp_path):
    tables = load_records(tmp_path, [user("2026-11-01", 1, 1), user("2026-11-02", 1, 1), user("2026-11-02", 2, 1)])
    assert metrics.daily_series(tables)["daily_active_users"].sum() == 3
    assert metrics.kpis(tables).unique_active_users == 2


def test_legacy_stub_features(tmp_path):
    day = {
        "date": "2025-03-01",
        "total_active_users": 5,
        "copilot_ide_code_completions": None,
        "copilot_dotcom_chat": {"total_engaged_users": 0},
        "copilot_dotcom_pull_requests": {"total_engaged_users": 0},
    }
    (tmp_path / "metrics.json").write_text(json.dumps([day]))
    tables = load_legacy(tmp_path)
    assert tables["legacy_dotcom_chat"].empty
    assert tables["legacy_metrics_daily"]["dotcom_chat_engaged_users"].tolist() == [0]
    assert pd.isna(tables["legacy_metrics_daily"]["ide_code_completions_engaged_users"].iloc[0])


def test_legacy_custom_model_rows(tmp_path):
    models = [
        {
            "name": "default",
            "is_custom_model": False,
            "custom_model_training_date": None,
            "total_engaged_users": 3,
            "total_chats": 10,
        },
        {
            "name": "acme-tuned",
            "is_custom_model": True,
            "custom_model_training_date": "2025-01-10",
            "total_chats": 4,
        },
    ]
    day = {
        "date": "2025-03-01",
        "copilot_ide_chat": {"editors": [{"name": "vscode", "models": models}]},
    }
    (tmp_path / "metrics.json").write_text(json.dumps([day]))
    chat = load_legacy(tmp_path)["legacy_ide_chat"].set_index("model")
    assert chat.loc["acme-tuned", "total_chats"] == 4
    assert bool(chat.loc["acme-tuned", "is_custom_model"]) is True
    assert pd.isna(chat.loc["acme-tuned", "total_engaged_users"])


def test_chat_panel_top_level_fields_counted_once(tmp_path):
    listed = user(
        "2026-11-01",
        1,
        5,
        chat_panel_agent_mode=5,
        totals_by_feature=[_feature("chat_panel_agent_mode", 5, 2)],
    )
    top_level_only = user("2026-11-01", 2, 3, chat_panel_ask_mode=3, chat_panel_edit_mode=None)
    tables = load_records(tmp_path, [listed, top_level_only])
    features = tables["user_by_feature"]
    assert features.groupby("feature")["user_initiated_interaction_count"].sum().to_dict() == {
        "chat_panel_agent_mode": 5,
        "chat_panel_ask_mode": 3,
    }
    assert len(features) == 2


def test_unusable_ids_skip_the_record(tmp_path):
    tables = load_records(
        tmp_path,
        [
            user("2026-11-01", "not-a-number", 1),
            user("2026-11-01", 7, 1, org=4455667.0),
            {"user_id": 1, "day": "2026-11-01", "organization_id": "1", "team_id": "x", "slug": "a"},
        ],
    )
    assert tables.user_daily["user_id"].tolist() == [7]
    assert tables.user_daily["entity_id"].astype(str).tolist() == ["4455667"]
    assert tables["user_teams"].empty
    assert tables.records_skipped == 2


def test_days_outside_timestamp_range_skipped(tmp_path):
    (tmp_path / "seats.json").write_text(json.dumps({"seats": [_seat(1, created_at="0001-01-01T00:00:00Z")]}))
    (tmp_path / "usage.json").write_text(json.dumps([{"day": "0001-01-01", "total_suggestions_count": 1}]))
    tables = load_records(tmp_path, [user("0001-01-01", 1, 1), user("2026-11-01", 2, 1)])
    assert tables.user_daily["user_id"].tolist() == [2]
    assert pd.isna(tables["seats"]["created_at"].iloc[0])
    assert load_legacy(tmp_path)["legacy_usage_daily"].empty


def test_copilot_cli_feature_has_readable_label(tmp_path):
    from copilot_lib.views import Filters, features

    record = user("2026-11-01", 1, 2, totals_by_feature=[{"feature": "copilot_cli", **counters(2, 0, 0)}])
    tables = load_records(tmp_path, [record])

    labels = features(tables, Filters()).totals.set_index("feature")["label"]

    assert labels["copilot_cli"] == "Copilot CLI"
