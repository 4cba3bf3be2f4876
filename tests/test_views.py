"""Tests of the dashboard's view functions on demo data, real samples and hand-made tables."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from copilot_lib import demo, demo_scale, metrics
from copilot_lib.demo_scale import generate_tables_fast
from copilot_lib.tables import Tables, load_folder
from copilot_lib.views import (
    VIEWS,
    Filters,
    features,
    health,
    ides,
    languages,
    lines_reported,
    models,
    overview,
    pseudonym,
    pull_requests,
    seats_view,
    teams,
    users,
)
from copilot_lib.views.result import NO_DATA, NO_SEATS, NO_TEAMS, NO_USER_ROWS
from copilot_lib.views.teams import BELOW_FLOOR

# Pseudonyms use a fixed key in these tests, so that aliases are the same in every run.
pytestmark = pytest.mark.usefixtures("fixed_salt")

SAMPLES = Path(__file__).resolve().parents[2] / "shared/data/cmv-samples"
END = date(2026, 11, 30)
ORG = "111"
COUNTERS = (
    metrics.INTERACTIONS,
    metrics.GENERATIONS,
    metrics.ACCEPTANCES,
    "loc_suggested_to_add_sum",
    metrics.LOC_ADDED,
    metrics.LOC_DELETED,
)


@pytest.fixture(scope="module")
def demo_tables(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    folder = tmp_path_factory.mktemp("demo")
    demo.write(folder, demo.generate(users=40, days=60, seed=5, end=END))
    return load_folder(folder)


@pytest.fixture(scope="module")
def demo_logins(demo_tables: Tables) -> set[str]:
    logins = set(demo_tables.user_daily["user_login"].dropna().astype(str))
    return logins | set(demo_tables["seats"]["assignee_login"].dropna().astype(str))


@pytest.fixture(scope="module")
def sample_tables() -> Tables:
    if not SAMPLES.is_dir():
        pytest.skip(f"shared samples not found at {SAMPLES}")
    return load_folder(SAMPLES)


# Hand-made tables --------------------------------------------------------------------


def day(offset: int) -> pd.Timestamp:
    """Return a day of the hand-made data: offset 0 is Monday 2026-11-02."""
    return pd.Timestamp("2026-11-02") + pd.Timedelta(days=offset)


def keyed(rows: list[dict[str, Any]], int_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame.insert(0, "scope", pd.Categorical(["organization"] * len(frame)))
    frame.insert(1, "entity_id", pd.Categorical([ORG] * len(frame)))
    frame["day"] = pd.to_datetime(frame["day"]).astype("datetime64[ns]")
    for name in int_columns:
        if name in frame:
            frame[name] = frame[name].astype("Int64")
    return frame


def user_row(offset: int, user: int, interactions: int = 1, generations: int = 0, acceptances: int = 0, **extra: Any):
    row = {
        "day": day(offset),
        "user_id": user,
        "user_login": f"login-{user}",
        metrics.INTERACTIONS: interactions,
        metrics.GENERATIONS: generations,
        metrics.ACCEPTANCES: acceptances,
        "loc_suggested_to_add_sum": 0,
        metrics.LOC_ADDED: 0,
        metrics.LOC_DELETED: 0,
        "used_agent": False,
        "used_chat": False,
    }
    row.update(extra)
    return row


def make_tables(user_rows: list[dict[str, Any]], **frames: pd.DataFrame) -> Tables:
    tables = Tables()
    tables.frames["user_daily"] = keyed(user_rows, ("user_id", *COUNTERS))
    tables.frames.setdefault("entity_daily", pd.DataFrame())
    tables.frames.update(frames)
    return tables


# Demo data and samples -----------------------------------------------------------------


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_every_view_on_demo_data(demo_tables: Tables, grain: str) -> None:
    for name, view in VIEWS.items():
        result = view(demo_tables, Filters(grain=grain))
        assert result.missing is None, f"{name}: {result.missing}"


def test_every_view_on_samples(sample_tables: Tables) -> None:
    expected_missing = {"teams": NO_TEAMS}
    for name, view in VIEWS.items():
        result = view(sample_tables, Filters(grain="week"))
        assert result.missing == expected_missing.get(name), f"{name}: {result.missing}"


def test_overview_matches_metrics_kpis(demo_tables: Tables) -> None:
    result = overview(demo_tables, Filters())
    expected = metrics.kpis(demo_tables)
    assert result.source == "entity"
    assert result.kpi("interactions").value == expected.interactions
    assert result.kpi("code_generations").value == expected.code_generations
    assert result.kpi("acceptance_rate").value == pytest.approx(expected.acceptance_rate)
    assert result.kpi("active_users").value == expected.unique_active_users
    assert result.kpi("daily_active_users").value == expected.daily_active_users
    assert result.kpi("monthly_active_users").value == expected.monthly_active_users


def test_overview_on_samples_matches_metrics(sample_tables: Tables) -> None:
    result = overview(sample_tables, Filters())
    expected = metrics.kpis(sample_tables)
    assert result.kpi("interactions").value == expected.interactions
    assert result.kpi("loc_added").value == expected.loc_added
    assert result.kpi("active_users").value == expected.unique_active_users


def test_teams_match_metrics_team_metrics(demo_tables: Tables) -> None:
    result = teams(demo_tables, Filters())
    expected = metrics.team_metrics(demo_tables).set_index("slug")
    for _, row in result.totals.iterrows():
        reference = expected.loc[row["slug"]]
        assert row[metrics.INTERACTIONS] == reference[metrics.INTERACTIONS], row["slug"]
        assert row[metrics.GENERATIONS] == reference[metrics.GENERATIONS], row["slug"]
        assert row["active_users"] == reference["active_users"], row["slug"]


def test_teams_reconcile_on_demo_data(demo_tables: Tables) -> None:
    reconciliation = teams(demo_tables, Filters()).reconciliation.set_index("counter")
    expected = metrics.team_reconciliation(demo_tables)
    row = reconciliation.loc[metrics.INTERACTIONS]
    assert row["entity_total"] == expected["entity_total"]
    assert row["unattributed"] == expected["unattributed"]
    assert row["team_sum"] == expected["team_sum"]
    assert row["attributed"] + row["unattributed"] == row["entity_total"]


def test_features_lists_modes_and_surfaces(demo_tables: Tables) -> None:
    result = features(demo_tables, Filters(grain="week"))
    assert {"code_completion", "chat_panel_ask_mode", "agent_edit"} <= set(result.totals["feature"])
    assert "Chat: ask mode" in set(result.totals["label"])
    assert {"Chat", "Agent", "Copilot CLI", "Cloud agent"} <= set(result.surfaces.columns)
    assert not result.cli.empty
    assert (result.cli["request_count"] > 0).all()


def test_models_are_labelled_chat_and_agent_only(demo_tables: Tables) -> None:
    result = models(demo_tables, Filters())
    assert "Chat and agent" in result.label
    assert not result.totals.empty
    assert not (result.by_feature["feature"] == "code_completion").any()


def test_ides_lists_client_versions(demo_tables: Tables) -> None:
    result = ides(demo_tables, Filters())
    assert {"vscode", "jetbrains"} <= set(result.totals["ide"])
    assert set(result.versions["lines_reported"]) <= {"all", "some", "none", "unknown"}
    assert result.versions["users"].sum() >= demo_tables["user_by_ide"]["user_id"].nunique() - 1


@pytest.mark.parametrize(
    ("ide", "ide_version", "plugin_version", "expected"),
    [
        ("vscode", "1.101.0", "0.28.0", "none"),
        ("vscode", "1.103.0", "0.30.0", "some"),
        ("vscode", "1.104.0", "0.31.0", "all"),
        ("vscode", "1.131.2", "0.28.0", "none"),
        ("jetbrains", "2026.2", "1.5.52-241", "all"),
        ("neovim", "0.11.2", "1.52.0", "unknown"),
        ("vscode", None, "0.31.0", "unknown"),
    ],
)
def test_lines_reported_by_client_version(ide: str, ide_version: Any, plugin_version: str, expected: str) -> None:
    assert lines_reported(ide, ide_version, plugin_version) == expected


def test_pull_requests_keep_medians_daily(demo_tables: Tables) -> None:
    result = pull_requests(demo_tables, Filters(grain="month"))
    assert "median_minutes_to_merge" not in result.series.columns
    assert "median_minutes_to_merge" in result.daily_medians.columns
    assert len(result.daily_medians) == 60
    assert result.series["total_created"].sum() == demo_tables["entity_pull_requests"]["total_created"].sum()
    assert "median_minutes_to_merge" not in result.by_repository.columns
    assert result.by_repository["total_created"].sum() == demo_tables["repo_daily"]["total_created"].sum()


def test_health_counts_every_day(demo_tables: Tables) -> None:
    result = health(demo_tables, Filters(), today=END + timedelta(days=10))
    assert len(result.days) == 60
    assert set(result.days["status"]) == {"present"}
    assert set(result.unknown_shares["dimension"]) >= {"language", "model"}
    model_share = result.unknown_shares.set_index("dimension").loc["model", "unknown_share"]
    assert 0 < model_share < 1


def test_health_marks_settling_days(demo_tables: Tables) -> None:
    result = health(demo_tables, Filters(), today=END + timedelta(days=1))
    settling = result.days.loc[result.days["status"] == "settling", "day"]
    assert list(settling) == [pd.Timestamp(END - timedelta(days=offset)) for offset in (2, 1, 0)]


def test_users_table_on_demo_data(demo_tables: Tables) -> None:
    table = users(demo_tables, Filters()).table
    active = metrics.active_user_rows(demo_tables.user_daily)
    assert (table["active_days"] > 0).sum() == active["user_id"].nunique()
    assert table[metrics.INTERACTIONS].sum() == demo_tables.user_daily[metrics.INTERACTIONS].sum()
    assert table["top_ide"].notna().any()
    assert table["top_model"].notna().any()
    assert table["ai_adoption_phase"].str.startswith("Phase").any()


# Hand-computed expectations -----------------------------------------------------------------


def test_distinct_users_per_week_are_not_summed() -> None:
    rows = [user_row(0, 1), user_row(1, 1), user_row(1, 2), user_row(7, 1)]
    tables = make_tables(rows)
    week = overview(tables, Filters(grain="week")).series.set_index("period")["active_users"]
    assert list(week) == [2, 1]
    month = overview(tables, Filters(grain="month")).series["active_users"]
    assert list(month) == [2]
    daily = overview(tables, Filters(grain="day")).series["active_users"]
    assert daily.sum(min_count=1) == 4


def test_acceptance_rate_is_ratio_of_sums_per_period() -> None:
    rows = [user_row(0, 1, generations=10, acceptances=1), user_row(1, 1, generations=90, acceptances=45)]
    series = overview(make_tables(rows), Filters(grain="week")).series
    assert series["acceptance_rate"].tolist() == [pytest.approx(0.46)]


def test_missing_day_stays_missing() -> None:
    rows = [user_row(0, 1, interactions=3), user_row(2, 1, interactions=4)]
    series = overview(make_tables(rows), Filters(grain="day")).series
    assert series[metrics.INTERACTIONS].isna().tolist() == [False, True, False]
    assert np.isnan(series["active_users"].iloc[1])


def test_change_against_previous_period() -> None:
    rows = [user_row(0, 1, interactions=10), user_row(2, 1, interactions=30), user_row(3, 2, interactions=0)]
    tables = make_tables(rows)
    card = overview(tables, Filters(since=day(2).date(), until=day(3).date())).kpi("interactions")
    assert card.value == 30
    assert card.previous == 10
    assert card.delta == 20
    assert card.delta_ratio == pytest.approx(2.0)


def test_change_is_none_without_previous_data() -> None:
    tables = make_tables([user_row(0, 1, interactions=10), user_row(1, 1, interactions=5)])
    card = overview(tables, Filters()).kpi("interactions")
    assert card.value == 15
    assert card.previous is None
    assert card.delta is None
    assert card.delta_ratio is None


def test_exclude_weekends_drops_saturday_rows() -> None:
    rows = [user_row(4, 1, interactions=2), user_row(5, 2, interactions=100), user_row(6, 1, interactions=7)]
    tables = make_tables(rows)
    with_weekends = overview(tables, Filters())
    weekdays = overview(tables, Filters(exclude_weekends=True))
    assert with_weekends.kpi("interactions").value == 109
    assert weekdays.kpi("interactions").value == 2
    assert with_weekends.kpi("active_users").value == 2
    assert weekdays.kpi("active_users").value == 1
    assert list(weekdays.series["period"]) == [day(4)]


def test_hide_unknown_drops_breakdown_values_not_totals() -> None:
    languages_rows = keyed(
        [
            {"day": day(0), "user_id": 1, "language": "python", "feature": "code_completion", metrics.GENERATIONS: 8},
            {"day": day(0), "user_id": 1, "language": "unknown", "feature": "agent_edit", metrics.GENERATIONS: 2},
        ],
        ("user_id", metrics.GENERATIONS),
    )
    tables = make_tables([user_row(0, 1, generations=10)], user_by_language_feature=languages_rows)
    shown = languages(tables, Filters()).totals
    hidden = languages(tables, Filters(hide_unknown=True)).totals
    assert set(shown["language"]) == {"python", "unknown"}
    assert list(hidden["language"]) == ["python"]
    assert overview(tables, Filters(hide_unknown=True)).kpi("code_generations").value == 10


def team_tables(with_teams_table: bool = True) -> Tables:
    """Three users over two days: user 1 in teams a and b, user 2 moves from a to b, user 3 in none."""
    rows = [
        user_row(0, 1, interactions=10),
        user_row(0, 2, interactions=20),
        user_row(0, 3, interactions=40),
        user_row(1, 1, interactions=1),
        user_row(1, 2, interactions=2),
    ]
    membership = [
        (0, 1, "a"),
        (0, 1, "b"),
        (0, 2, "a"),
        (1, 1, "a"),
        (1, 1, "b"),
        (1, 2, "b"),
    ]
    user_teams = keyed(
        [
            {"day": day(offset), "user_id": user, "team_id": 500 + ord(slug), "slug": slug}
            for offset, user, slug in membership
        ],
        ("user_id", "team_id"),
    )
    frames = {"user_teams": user_teams}
    if with_teams_table:
        frames["teams"] = pd.DataFrame(
            {
                "team_id": pd.array([597, 598, 599], dtype="Int64"),
                "name": ["A", "B", "Tiny"],
                "slug": ["a", "b", "tiny"],
            }
        )
    return make_tables(rows, **frames)


def test_team_join_is_day_accurate() -> None:
    totals = teams(team_tables(), Filters()).totals.set_index("slug")
    assert totals.loc["a", metrics.INTERACTIONS] == 10 + 20 + 1
    assert totals.loc["b", metrics.INTERACTIONS] == 10 + 1 + 2
    assert totals.loc["unattributed", metrics.INTERACTIONS] == 40
    assert totals.loc["a", "active_users"] == 2
    assert totals.loc["b", "active_users"] == 2
    assert totals.loc["unattributed", "active_users"] == 1


def test_team_reconciliation_adds_up() -> None:
    row = teams(team_tables(), Filters()).reconciliation.set_index("counter").loc[metrics.INTERACTIONS]
    assert row["entity_total"] == 73
    assert row["attributed"] == 33
    assert row["unattributed"] == 40
    assert row["team_sum"] == 31 + 13
    assert row["overlap"] == 11


def test_team_series_side_by_side() -> None:
    series = teams(team_tables(), Filters(teams=("a", "b"))).series
    by_team = series.groupby("slug")[metrics.INTERACTIONS].sum()
    assert by_team.to_dict() == {"a": 31, "b": 13}
    assert set(series["period"]) == {day(0), day(1)}


def test_team_below_floor_is_named() -> None:
    result = teams(team_tables(), Filters(teams=("tiny",)))
    listing = result.teams.set_index("slug")
    assert listing.loc["tiny", "status"] == BELOW_FLOOR
    assert not listing.loc["tiny", "reported"]
    assert any("fewer than 5 seated users" in note for note in result.notes)


def test_team_filter_restricts_other_views() -> None:
    tables = team_tables()
    card = overview(tables, Filters(teams=("b",))).kpi("interactions")
    assert card.value == 10 + 1 + 2
    assert overview(tables, Filters(teams=("b",))).source == "users"


def test_team_filter_ignored_without_report() -> None:
    tables = make_tables([user_row(0, 1, interactions=5)])
    result = overview(tables, Filters(teams=("a",)))
    assert result.kpi("interactions").value == 5
    assert any("team filter was ignored" in note for note in result.notes)


def seat_tables() -> Tables:
    until = day(30)
    seats = pd.DataFrame(
        {
            "assignee_id": pd.array([1, 2, 3], dtype="Int64"),
            "assignee_login": pd.array(["login-1", "login-2", "login-3"], dtype="string"),
            "plan_type": pd.array(["business", "business", "enterprise"], dtype="string"),
            "last_activity_at": pd.to_datetime(
                [until - pd.Timedelta(days=10), until - pd.Timedelta(days=40), None], utc=True
            ),
            "last_activity_editor": pd.array(["vscode/1.1", "jetbrains/2", None], dtype="string"),
            "pending_cancellation_date": pd.to_datetime([None, "2026-12-31", None]),
            "assigning_team_slug": pd.array(["a", "b", None], dtype="string"),
        }
    )
    return make_tables([user_row(0, 1), user_row(30, 2)], seats=seats)


def test_seat_threshold_changes_idle_count() -> None:
    tables = seat_tables()
    month = seats_view(tables, Filters())
    two_months = seats_view(tables, Filters(seat_threshold_days=60))
    assert (month.assigned, month.active, month.idle, month.never_used) == (3, 1, 2, 1)
    assert (two_months.active, two_months.idle) == (2, 1)
    assert month.pending_cancellation == 1
    assert month.idle_monthly_cost == 19 + 39
    assert two_months.idle_monthly_cost == 39


def test_seat_price_override_and_search() -> None:
    result = seats_view(seat_tables(), Filters(price_per_seat=25.0, search="JETBRAINS"))
    assert result.idle_monthly_cost == 50
    assert list(result.table["user_login"]) == ["login-2"]


def test_seat_adoption_uses_assigned_seats() -> None:
    card = overview(seat_tables(), Filters()).kpi("seat_adoption")
    assert card.value == pytest.approx(2 / 3)


def test_pseudonymise_removes_every_login(demo_tables: Tables, demo_logins: set[str]) -> None:
    filters = Filters(pseudonymise=True)
    tables_shown = [users(demo_tables, filters).table, seats_view(demo_tables, filters).table]
    for table in tables_shown:
        text = table.to_csv(index=False)
        leaked = {login for login in demo_logins if login in text}
        assert not leaked
        assert table["user_login"].str.fullmatch(r"user-[0-9a-f]{8}|user-unknown").all()


def test_pseudonyms_are_stable_and_shared(demo_tables: Tables) -> None:
    filters = Filters(pseudonymise=True)
    first = users(demo_tables, filters).table.set_index("user_id")["user_login"]
    second = users(demo_tables, filters).table.set_index("user_id")["user_login"]
    seats = seats_view(demo_tables, filters).table.dropna(subset=["user_id"]).set_index("user_id")["user_login"]
    assert first.equals(second)
    shared = first.index.intersection(seats.index)
    assert len(shared) > 0
    assert first.loc[shared].tolist() == seats.loc[shared].tolist()
    assert first.is_unique


def test_pseudonyms_depend_on_salt(monkeypatch: pytest.MonkeyPatch) -> None:
    before = pseudonym.alias(7300000)
    monkeypatch.setenv(pseudonym.ENV_PSEUDONYM_SALT, "another-salt")
    monkeypatch.setattr(pseudonym, "_salt", None)
    assert pseudonym.alias(7300000) != before
    assert re.fullmatch(r"user-[0-9a-f]{8}", before)


def test_salt_file_is_created_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pseudonym.ENV_PSEUDONYM_SALT)
    monkeypatch.setattr(pseudonym, "DEFAULT_SALT_FILE", tmp_path / "salt")
    first = pseudonym.salt()
    monkeypatch.setattr(pseudonym, "_salt", None)
    assert pseudonym.salt() == first
    assert (tmp_path / "salt").stat().st_mode & 0o777 == 0o600


# Empty and edge states -----------------------------------------------------------------------


def test_no_data_in_range_is_a_sentence(demo_tables: Tables) -> None:
    far = Filters(since=date(2020, 1, 1), until=date(2020, 1, 31))
    for name, view in VIEWS.items():
        result = view(demo_tables, far)
        if name in ("seats", "health"):
            continue  # seats are a snapshot and health lists the missing days
        assert result.missing is not None, name
        assert "2020-01-01" in result.missing, name


def test_health_lists_missing_days_outside_data(demo_tables: Tables) -> None:
    result = health(
        demo_tables,
        Filters(since=END - timedelta(days=2), until=END + timedelta(days=2)),
        today=END + timedelta(days=30),
    )
    assert result.days["status"].tolist() == ["present"] * 3 + ["missing"] * 2


def test_empty_tables_return_sentences() -> None:
    for name, view in VIEWS.items():
        result = view(Tables(), Filters())
        assert result.missing in (NO_DATA, NO_SEATS), name


def test_single_day_range(demo_tables: Tables) -> None:
    result = overview(demo_tables, Filters(since=END, until=END))
    assert result.missing is None
    assert result.kpi("active_users").value == result.kpi("daily_active_users").value
    assert len(result.series) == 1


def test_all_zero_day_has_no_rate() -> None:
    tables = make_tables([user_row(0, 1, interactions=0), user_row(0, 2, interactions=0)])
    result = overview(tables, Filters())
    assert result.missing is None
    assert result.kpi("active_users").value == 0
    assert result.kpi("acceptance_rate").value is None
    assert result.kpi("agent_adoption").value is None
    assert result.series["active_users"].tolist() == [0]


def test_no_seats_and_no_teams() -> None:
    tables = make_tables([user_row(0, 1)])
    assert seats_view(tables, Filters()).missing == NO_SEATS
    assert teams(tables, Filters()).missing == NO_TEAMS
    assert overview(tables, Filters()).kpi("seat_adoption").value is None


def test_entity_only_data_has_no_user_views(sample_tables: Tables) -> None:
    tables = Tables(frames={name: frame for name, frame in sample_tables.frames.items() if not name.startswith("user")})
    assert overview(tables, Filters()).missing is None
    assert users(tables, Filters()).missing == NO_USER_ROWS
    assert teams(tables, Filters()).missing == NO_USER_ROWS


def test_invalid_filters_raise_config_error() -> None:
    from copilot_lib.errors import ConfigError

    with pytest.raises(ConfigError, match="grain"):
        Filters(grain="year")
    with pytest.raises(ConfigError, match="swap"):
        Filters(since=date(2026, 2, 1), until=date(2026, 1, 1))


def test_fast_generator_matches_table_schema(demo_tables: Tables) -> None:
    fast = generate_tables_fast(users=30, days=20, seed=1, end=END)
    for name in ("user_daily", "user_by_feature", "user_by_ide", "user_teams", "entity_daily"):
        missing = set(fast[name].columns) - set(demo_tables[name].columns)
        assert not missing, f"{name}: {missing}"
        assert fast[name]["day"].dtype == demo_tables[name]["day"].dtype
        for column, dtype in demo_tables[name].dtypes.items():
            if pd.api.types.is_integer_dtype(dtype) and column in fast[name]:
                assert fast[name][column].dtype == dtype, f"{name}.{column}"
    for name, view in VIEWS.items():
        assert view(fast, Filters(grain="week")).missing is None, name


def test_health_agrees_with_health_module(demo_tables: Tables) -> None:
    from copilot_lib import health as health_module

    today = END + timedelta(days=2)
    report = health_module.health_report(demo_tables, today=today)
    result = health(demo_tables, Filters(), today=today)
    counts = result.status_counts.set_index("status")["days"]
    assert counts.get("present", 0) == report["days_present"]
    assert counts.get("settling", 0) == report["days_settling"]
    shares = result.unknown_shares.set_index("dimension")["unknown_share"]
    for dimension, expected in report["unknown_share"].items():
        assert shares[dimension] == pytest.approx(expected), dimension
    attributed = result.attribution.set_index("breakdown")["attributed_share"]
    for child, expected in report["attributed_share"].items():
        assert attributed[f"totals_{child}"] == pytest.approx(expected), child


def test_users_table_follows_team_filter() -> None:
    ide_rows = keyed(
        [
            {"day": day(0), "user_id": 1, "ide": "vscode", metrics.INTERACTIONS: 10},
            {"day": day(0), "user_id": 3, "ide": "unknown", metrics.INTERACTIONS: 40},
            {"day": day(0), "user_id": 3, "ide": "jetbrains", metrics.INTERACTIONS: 1},
        ],
        ("user_id", metrics.INTERACTIONS),
    )
    tables = team_tables()
    tables.frames["user_by_ide"] = ide_rows
    everyone = users(tables, Filters()).table.set_index("user_id")
    assert set(everyone.index) == {1, 2, 3}
    assert everyone.loc[3, "top_ide"] == "unknown"
    assert users(tables, Filters(hide_unknown=True)).table.set_index("user_id").loc[3, "top_ide"] == "jetbrains"
    team_b = users(tables, Filters(teams=("b",))).table.set_index("user_id")
    assert set(team_b.index) == {1, 2}
    assert team_b.loc[2, metrics.INTERACTIONS] == 2
    assert team_b.loc[1, "top_ide"] == "vscode"


def test_control_options(demo_tables: Tables) -> None:
    from copilot_lib.views import date_bounds, entity_options, team_options

    assert date_bounds(demo_tables) == (END - timedelta(days=59), END)
    assert date_bounds(Tables()) == (None, None)
    assert entity_options(demo_tables) == [("organization", demo.DEMO_ORG_ID)]
    assert team_options(demo_tables) == ["data", "mobile", "payments", "platform", "web"]


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(since=END - timedelta(days=100), until=END - timedelta(days=3)),
        Filters(since=END - timedelta(days=77), exclude_weekends=True, hide_unknown=True),
        Filters(entity=demo_scale.ORG_ID, grain="month"),
    ],
)
def test_users_block_sums_match_rows(filters: Filters, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    users_module = importlib.import_module("copilot_lib.views.users")

    tables = generate_tables_fast(users=120, days=130, seed=3, end=END)
    from_blocks = users(tables, filters).table
    monkeypatch.setattr(users_module, "BLOCK_DAYS", 10_000)
    from_rows = users(generate_tables_fast(users=120, days=130, seed=3, end=END), filters).table
    assert len(from_blocks) > 50
    pd.testing.assert_frame_equal(from_blocks, from_rows, check_exact=False, rtol=1e-9)


def test_old_client_users_lists_clients_without_lines(demo_tables: Tables, demo_logins: set[str]) -> None:
    from copilot_lib.views import old_client_users

    table = old_client_users(demo_tables, Filters())
    assert len(table) > 0
    assert set(table.columns) == {"user_id", "user_login", "ide", "ide_version", "plugin_version"}
    for row in table.itertuples():
        assert lines_reported(row.ide, row.ide_version, row.plugin_version) == "none"
    aliased = old_client_users(demo_tables, Filters(pseudonymise=True))
    assert not set(aliased["user_login"]) & demo_logins


def test_last_day_counts_skip_weekend_and_dedupe_entities() -> None:
    rows = [user_row(4, 1, interactions=3), user_row(4, 2, interactions=1), user_row(5, 1, interactions=2)]
    second_org = keyed([user_row(4, 1, interactions=5)])
    second_org["entity_id"] = pd.Categorical(["222"])
    tables = make_tables(rows)
    tables.frames["user_daily"] = pd.concat([tables.user_daily, second_org], ignore_index=True)
    entity = keyed(
        [
            {"day": day(offset), "daily_active_users": 2, "weekly_active_users": 2, "monthly_active_users": 2}
            for offset in (4, 5)
        ],
        ("daily_active_users", "weekly_active_users", "monthly_active_users"),
    )
    other = entity.copy()
    other["entity_id"] = pd.Categorical(["222"] * len(other))
    tables.frames["entity_daily"] = pd.concat([entity, other], ignore_index=True)
    both = overview(tables, Filters(exclude_weekends=True))
    assert both.kpi("daily_active_users").value == 2
    assert both.kpi("weekly_active_users").value == 2
    one = overview(tables, Filters(entity=ORG, exclude_weekends=True))
    assert one.kpi("daily_active_users").value == 2
    saturday = overview(tables, Filters(entity=ORG))
    assert saturday.until == day(5).date()
    assert saturday.kpi("daily_active_users").value == 2


def test_user_rows_only_match_metrics(demo_tables: Tables) -> None:
    frames = {
        name: frame.iloc[0:0] if name.startswith("entity") else frame for name, frame in demo_tables.frames.items()
    }
    tables = Tables(frames=frames)
    result = overview(tables, Filters())
    expected = metrics.kpis(tables)
    assert result.source == "users"
    assert result.kpi("interactions").value == expected.interactions
    assert result.kpi("daily_active_users").value == expected.daily_active_users
    assert result.kpi("weekly_active_users").value == expected.weekly_active_users
    assert result.kpi("monthly_active_users").value == expected.monthly_active_users
    assert result.kpi("acceptance_rate").value == pytest.approx(expected.acceptance_rate)
    shown = languages(tables, Filters()).totals.set_index("language")[metrics.GENERATIONS].sort_index()
    reference = metrics.breakdown_totals(tables["user_by_language_feature"], "language")
    assert shown.tolist() == reference.set_index("language")[metrics.GENERATIONS].sort_index().astype(float).tolist()


def test_pull_requests_by_repository_follow_controls(demo_tables: Tables) -> None:
    since = END - timedelta(days=20)
    result = pull_requests(demo_tables, Filters(since=since, exclude_weekends=True))
    rows = demo_tables["repo_daily"]
    chosen = rows.loc[(rows["day"] >= pd.Timestamp(since)) & (rows["day"].dt.day_of_week < 5)]
    assert result.by_repository["total_created"].sum() == chosen["total_created"].sum()
    assert len(result.repository_daily) == len(chosen)
    assert result.series["total_created"].sum() < demo_tables["entity_pull_requests"]["total_created"].sum()


def _without(tables: Tables, table: str, column: str) -> Tables:
    frames = dict(tables.frames)
    frame = frames[table].copy()
    frame[column] = pd.array([pd.NA] * len(frame), dtype=frame[column].dtype)
    frames[table] = frame
    return Tables(frames=frames)


def test_counter_no_record_carries_is_missing(demo_tables: Tables) -> None:
    tables = _without(demo_tables, "entity_daily", metrics.LOC_ADDED)

    result = overview(tables, Filters())

    assert result.source == "entity"
    assert result.kpi("loc_added").value is None
    assert result.kpi("interactions").value is not None
    assert result.series[metrics.LOC_ADDED].isna().all()


def test_team_counter_no_row_carries_is_missing(demo_tables: Tables) -> None:
    from copilot_lib.views import team_options

    team = team_options(demo_tables)[0]
    tables = _without(demo_tables, "user_daily", metrics.LOC_ADDED)

    result = overview(tables, Filters(teams=(team,)))

    assert result.kpi("loc_added").value is None
    assert result.kpi("interactions").value is not None


def test_date_bounds_cover_report_days_only(demo_tables: Tables) -> None:
    from copilot_lib.views import date_bounds

    first, last = date_bounds(demo_tables)
    frames = dict(demo_tables.frames)
    frames["seats"] = frames["seats"].assign(day=pd.Timestamp(last + timedelta(days=3)))
    frames["legacy_metrics_daily"] = pd.DataFrame({"day": [pd.Timestamp("2024-03-18")], "total_active_users": [3]})

    assert date_bounds(Tables(frames=frames)) == (first, last)


def test_pull_requests_absent_says_so(demo_tables: Tables) -> None:
    frames = dict(demo_tables.frames)
    for name in ("entity_pull_requests", "repo_daily", "repo_pr_by_comment_type"):
        frames[name] = frames[name].iloc[0:0]

    result = pull_requests(Tables(frames=frames), Filters())

    assert result.missing is not None
    assert "widen" not in result.missing
