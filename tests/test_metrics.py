"""Metric definitions on small hand-made inputs whose right values are worked out by hand."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest
from model_builders import entity, load_records, membership, user, write_ndjson

from copilot_lib import metrics
from copilot_lib.tables import load_folder


def _seats(*ids):
    return {
        "total_seats": len(ids),
        "seats": [{"created_at": "2026-01-01T00:00:00Z", "assignee": {"id": i, "login": f"user-{i}"}} for i in ids],
    }


def test_distinct_users_over_any_window(tmp_path):
    tables = load_records(
        tmp_path,
        [
            user("2026-11-01", 1, 2),
            user("2026-11-02", 1, 3),
            user("2026-11-02", 2, 1),
            user("2026-11-03", 3, 0),
        ],
    )
    users = tables.user_daily
    assert metrics.distinct_active_users(users) == 2
    assert metrics.distinct_active_users(users, date(2026, 11, 2), date(2026, 11, 2)) == 2
    assert metrics.distinct_active_users(users, date(2026, 11, 3), date(2026, 11, 3)) == 0
    assert metrics.distinct_users(users) == 3


def test_server_side_users_counted_apart(tmp_path):
    tables = load_records(tmp_path, [user("2026-11-01", 1, 2), user("2026-11-01", 2, 0), user("2026-11-02", 2, 0)])
    result = metrics.kpis(tables)
    assert result.unique_active_users == 1
    assert result.server_side_only_users == 1


def test_adoption_is_active_users_per_seat(tmp_path):
    (tmp_path / "seats.json").write_text(json.dumps(_seats(1, 2, 3, 4)))
    tables = load_records(tmp_path, [user("2026-11-01", 1, 2), user("2026-11-02", 2, 1), user("2026-11-02", 3, 0)])
    assert metrics.assigned_seats(tables) == 4
    assert metrics.adoption_rate(tables) == pytest.approx(2 / 4)
    assert metrics.kpis(tables).adoption_rate == pytest.approx(0.5)


def test_adoption_without_seats_is_none(tmp_path):
    tables = load_records(tmp_path, [user("2026-11-01", 1, 2)])
    assert metrics.adoption_rate(tables) is None
    assert metrics.kpis(tables).adoption_rate is None


def test_surface_adoption_shares(tmp_path):
    tables = load_records(
        tmp_path,
        [
            user("2026-11-01", 1, 2, used_agent=True, used_chat=True, used_cli=False),
            user("2026-11-02", 1, 1, used_agent=False, used_chat=True, used_cli=True),
            user("2026-11-01", 2, 1, used_agent=False, used_chat=False, used_cli=False),
            user("2026-11-01", 3, 0, used_cli=True),  # CLI only: no IDE interaction, still engaged
            user("2026-11-01", 4, 0),  # neither active nor any surface
        ],
    )
    shares = metrics.surface_adoption(tables)
    assert shares["agent"] == pytest.approx(1 / 3)
    assert shares["chat"] == pytest.approx(1 / 3)
    assert shares["cli"] == pytest.approx(2 / 3)


def test_org_and_enterprise_never_summed(tmp_path):
    tables = load_records(
        tmp_path,
        [
            entity("2026-11-01", 10, 100, 30, org="1", daily_active_users=4),
            entity("2026-11-01", 10, 100, 30, org="2", daily_active_users=4),
            entity("2026-11-01", 15, 150, 45, org=None, enterprise="9", daily_active_users=6),
        ],
    )
    default = metrics.kpis(tables)
    assert (default.scope, default.code_generations, default.daily_active_users) == (
        "enterprise",
        150,
        6,
    )
    one_org = metrics.kpis(tables, scope="organization", entity_id="2")
    assert (one_org.code_generations, one_org.daily_active_users) == (100, 4)
    series = metrics.daily_series(tables)
    assert series["code_generation_activity_count"].tolist() == [150]


def test_user_in_two_orgs_counted_once(tmp_path):
    tables = load_records(
        tmp_path,
        [
            user("2026-11-01", 1, 5, 10, 4, org="1"),
            user("2026-11-01", 1, 5, 10, 4, org="2"),
            user("2026-11-01", 2, 1, 2, 1, org="2"),
        ],
    )
    result = metrics.kpis(tables, scope="organization")
    assert result.unique_active_users == 2
    assert result.interactions == 6
    assert result.acceptance_rate == pytest.approx(5 / 12)
    assert metrics.daily_series(tables)["daily_active_users"].tolist() == [2]


def test_missing_days_are_nan_not_zero(tmp_path):
    tables = load_records(tmp_path, [entity("2026-11-01", 1, 2, 1), entity("2026-11-03", 1, 2, 1)])
    series = metrics.daily_series(tables)
    assert series["day"].dt.day.tolist() == [1, 2, 3]
    assert pd.isna(series["code_generation_activity_count"].iloc[1])
    assert metrics.kpis(tables).days_missing == 1


def test_breakdown_totals_rate_is_ratio_of_sums(tmp_path):
    def feature(n, g, a):
        return {
            "feature": n,
            "user_initiated_interaction_count": 0,
            "code_generation_activity_count": g,
            "code_acceptance_activity_count": a,
        }

    tables = load_records(
        tmp_path,
        [
            entity("2026-11-01", 0, 100, 1, totals_by_feature=[feature("code_completion", 100, 1)]),
            entity("2026-11-02", 0, 1, 1, totals_by_feature=[feature("code_completion", 1, 1)]),
        ],
    )
    totals = metrics.breakdown_totals(tables["entity_by_feature"], "feature")
    assert totals["acceptance_rate"].tolist() == [pytest.approx(2 / 101)]


def _team_fixture(tmp_path):
    """Five users over two days. Teams: alpha (1, 2, 3), beta (3, 4); user 5 is in gamma,
    a team below five seated users that GitHub leaves out of user-teams, so 5 is unattributed.
    """
    users = [
        user("2026-11-01", 1, 10, 20, 5),
        user("2026-11-01", 2, 4, 8, 2),
        user("2026-11-01", 3, 6, 10, 4),
        user("2026-11-01", 4, 0, 0, 0),
        user("2026-11-01", 5, 7, 9, 3),
        user("2026-11-02", 1, 1, 2, 1),
        user("2026-11-02", 3, 2, 3, 1),
        user("2026-11-02", 5, 3, 3, 0),
    ]
    teams = []
    for day in ("2026-11-01", "2026-11-02"):
        teams += [
            membership(day, 1, 10, "alpha"),
            membership(day, 2, 10, "alpha"),
            membership(day, 3, 10, "alpha"),
            membership(day, 3, 20, "beta"),
            membership(day, 4, 20, "beta"),
        ]
    write_ndjson(tmp_path / "teams.ndjson", teams)
    return load_records(tmp_path, users, "users.ndjson")


def test_team_metrics_count_multi_team_users_in_each(tmp_path):
    tables = _team_fixture(tmp_path)
    teams = metrics.team_metrics(tables).set_index("slug")
    assert teams.loc["alpha", "user_initiated_interaction_count"] == 10 + 4 + 6 + 1 + 2
    assert teams.loc["beta", "user_initiated_interaction_count"] == 6 + 0 + 2
    assert teams.loc["unattributed", "user_initiated_interaction_count"] == 7 + 3
    assert teams.loc["beta", "members"] == 2
    assert teams.loc["beta", "active_users"] == 1  # user 4 is listed but idle


def test_team_sums_reconcile_with_entity_total(tmp_path):
    tables = _team_fixture(tmp_path)
    result = metrics.team_reconciliation(tables)
    total = sum(tables.user_daily["user_initiated_interaction_count"])
    assert result["entity_total"] == total == 33
    assert result["attributed"] + result["unattributed"] == total
    assert result["team_sum"] - result["overlap"] + result["unattributed"] == total
    assert result["overlap"] == 6 + 2  # user 3's activity, counted in alpha and in beta


def test_team_join_uses_same_day_membership(tmp_path):
    write_ndjson(tmp_path / "teams.ndjson", [membership("2026-11-01", 1, 10, "alpha")])
    tables = load_records(tmp_path, [user("2026-11-01", 1, 3), user("2026-11-02", 1, 5)], "users.ndjson")
    teams = metrics.team_metrics(tables).set_index("slug")
    assert teams.loc["alpha", "user_initiated_interaction_count"] == 3
    assert teams.loc["unattributed", "user_initiated_interaction_count"] == 5


def test_pull_request_medians_stay_per_day(tmp_path):
    tables = load_records(
        tmp_path,
        [
            entity("2026-11-01", pull_requests={"total_merged": 2, "median_minutes_to_merge": 10.0}),
            entity("2026-11-03", pull_requests={"total_merged": 5, "median_minutes_to_merge": 100.0}),
        ],
    )
    daily = metrics.pull_request_daily(tables)
    assert daily["median_minutes_to_merge"].tolist()[0] == 10.0
    assert pd.isna(daily["median_minutes_to_merge"].iloc[1])
    assert daily["median_minutes_to_merge"].tolist()[2] == 100.0
    totals = metrics.pull_request_totals(tables)
    assert totals["total_merged"] == 7
    assert "median_minutes_to_merge" not in totals


def test_weekly_and_monthly_from_user_rows(tmp_path):
    tables = load_records(tmp_path, [user("2026-11-28", 1, 1), user("2026-11-01", 2, 1), user("2026-10-31", 3, 1)])
    result = metrics.kpis(tables, until=date(2026, 11, 28))
    assert (result.daily_active_users, result.weekly_active_users, result.monthly_active_users) == (
        1,
        1,
        2,
    )


def test_samples_kpis_match_plain_sums():
    from model_builders import SAMPLES

    tables = load_folder(SAMPLES / "reports")
    wrapper = json.loads((SAMPLES / "reports" / "organization-28-day-report.json").read_text())
    generations = sum(day["code_generation_activity_count"] for day in wrapper["day_totals"])
    acceptances = sum(day["code_acceptance_activity_count"] for day in wrapper["day_totals"])
    result = metrics.kpis(tables)
    assert result.code_generations == generations
    assert result.acceptance_rate == pytest.approx(acceptances / generations)


def test_metrics_on_empty_tables():
    from copilot_lib.health import health_report
    from copilot_lib.tables import Tables

    tables = Tables()
    result = metrics.kpis(tables)
    assert result.unique_active_users is None
    assert result.acceptance_rate is None
    assert metrics.daily_series(tables).empty
    assert metrics.team_metrics(tables)["slug"].tolist() == ["unattributed"]
    assert health_report(tables)["days_missing"] == 0


def test_partial_tables_get_empty_frames(tmp_path):
    from copilot_lib.tables import Tables

    loaded = load_records(tmp_path, [user("2026-11-01", 1, 2)])
    partial = Tables(frames={"user_daily": loaded.user_daily})
    assert partial["user_teams"].empty
    assert "team_id" in partial["user_teams"].columns
    assert metrics.kpis(partial).unique_active_users == 1
