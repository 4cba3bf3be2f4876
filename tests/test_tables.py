"""Tables built from the real-format samples and the demo generator, checked row by row."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from model_builders import SAMPLES, counters, load_records, user, write_ndjson

from copilot_lib import demo, ingest
from copilot_lib.errors import ReportFormatError
from copilot_lib.tables import load_folder

REPORTS = SAMPLES / "reports"
BREAKDOWNS = {
    "by_ide": "totals_by_ide",
    "by_feature": "totals_by_feature",
    "by_language_feature": "totals_by_language_feature",
    "by_language_model": "totals_by_language_model",
    "by_model_feature": "totals_by_model_feature",
}


def _expected_records(long_file: str, short_file: str, key: tuple[str, ...]) -> list[dict]:
    """Merge a 28-day and a 1-day sample the documented way, with plain loops.

    Both files share one created_at, so the 1-day report wins every key they share.
    """
    merged = {}
    for name in (long_file, short_file):
        wrapper = json.loads((REPORTS / name).read_text())
        for record in wrapper["day_totals"]:
            merged[tuple(record[field] for field in key)] = record
    return list(merged.values())


@pytest.fixture(scope="module")
def sample_tables():
    return load_folder(REPORTS)


@pytest.fixture(scope="module")
def entity_records():
    return _expected_records("organization-28-day-report.json", "organization-1-day-report.json", ("day",))


@pytest.fixture(scope="module")
def user_records():
    return _expected_records(
        "organization-users-28-day-report.json",
        "organization-users-1-day-report.json",
        ("day", "user_id"),
    )


def test_sample_entity_days_and_totals(sample_tables, entity_records):
    table = sample_tables.entity_daily
    assert len(table) == len(entity_records) == 28
    for field in (
        "code_generation_activity_count",
        "code_acceptance_activity_count",
        "daily_active_users",
    ):
        assert int(table[field].sum()) == sum(record.get(field, 0) for record in entity_records)
    assert sample_tables.duplicates_dropped["entity_daily"] == 1


@pytest.mark.parametrize("child", list(BREAKDOWNS))
def test_sample_entity_breakdown_rows_and_sums(sample_tables, entity_records, child):
    table = sample_tables[f"entity_{child}"]
    items = [item for record in entity_records for item in record.get(BREAKDOWNS[child], [])]
    assert len(table) == len(items)
    assert int(table["code_generation_activity_count"].sum()) == sum(
        item["code_generation_activity_count"] for item in items
    )


@pytest.mark.parametrize("child", list(BREAKDOWNS))
def test_sample_user_breakdown_rows_and_sums(sample_tables, user_records, child):
    table = sample_tables[f"user_{child}"]
    items = [item for record in user_records for item in record.get(BREAKDOWNS[child], [])]
    assert len(table) == len(items)
    assert int(table["code_acceptance_activity_count"].sum()) == sum(
        item["code_acceptance_activity_count"] for item in items
    )


def test_sample_user_rows_and_flags(sample_tables, user_records):
    table = sample_tables.user_daily
    assert len(table) == len(user_records)
    assert int(table["user_initiated_interaction_count"].sum()) == sum(
        record["user_initiated_interaction_count"] for record in user_records
    )
    cloud = sum(
        1
        for record in user_records
        if record.get("used_copilot_cloud_agent", record.get("used_copilot_coding_agent")) is True
    )
    assert int(table["used_copilot_cloud_agent"].sum()) == cloud
    credits = sum(record.get("ai_credits_used") or 0 for record in user_records)
    assert float(table["ai_credits_used"].sum()) == pytest.approx(credits)


def test_sample_cli_and_pull_requests(sample_tables, entity_records, user_records):
    cli = [record["totals_by_cli"] for record in entity_records if "totals_by_cli" in record]
    assert len(sample_tables["entity_cli"]) == len(cli)
    assert int(sample_tables["entity_cli"]["request_count"].sum()) == sum(
        block.get("request_count", 0) for block in cli
    )
    user_cli = [record["totals_by_cli"] for record in user_records if "totals_by_cli" in record]
    tokens = sum(block.get("token_usage", {}).get("output_tokens_sum", 0) for block in user_cli)
    assert int(sample_tables["user_cli"]["output_tokens_sum"].sum()) == tokens
    pulls = [record["pull_requests"] for record in entity_records if "pull_requests" in record]
    assert int(sample_tables["entity_pull_requests"]["total_merged"].sum()) == sum(p["total_merged"] for p in pulls)


def test_sample_user_ide_versions(sample_tables, user_records):
    versions = {
        item["last_known_ide_version"]["ide_version"]
        for record in user_records
        for item in record.get("totals_by_ide", [])
        if "last_known_ide_version" in item
    }
    assert set(sample_tables["user_by_ide"]["ide_version"].dropna()) == versions


def test_sample_seats():
    raw = json.loads((SAMPLES / "seats" / "organization_seats_response_sample.json").read_text())
    tables = load_folder(SAMPLES / "seats")
    seats = tables["seats"]
    assert len(seats) == len(raw["seats"])
    assert sorted(seats["assignee_id"].dropna().astype(int)) == sorted(
        seat["assignee"]["id"] for seat in raw["seats"] if seat.get("assignee")
    )
    assert tables.seat_totals == [raw["total_seats"]]


def test_identifier_types_whatever_payload(tmp_path):
    tables = load_records(
        tmp_path,
        [
            user("2026-11-01", 1, 1, org=4455667),  # numeric organisation id
            user("2026-11-01", "2", 1, org="4455667"),  # quoted user id
            {
                "user_id": "3",
                "day": "2026-11-01",
                "organization_id": 4455667,
                "team_id": "90",
                "slug": "a",
            },
            {"day": "2026-11-01", "organization_id": "4455667", "repo_id": "77", "repo_name": "x"},
        ],
    )
    assert tables.user_daily["entity_id"].astype(str).tolist() == ["4455667", "4455667"]
    assert tables.user_daily["user_id"].dtype == "Int64"
    assert tables.user_daily["user_id"].tolist() == [1, 2]
    assert tables["user_teams"]["team_id"].tolist() == [90]
    assert tables["user_teams"]["user_id"].dtype == "Int64"
    assert tables["repo_daily"]["repo_id"].tolist() == [77]


def test_every_breakdown_of_a_user_record(tmp_path):
    record = user(
        "2026-11-01",
        5,
        3,
        4,
        2,
        totals_by_3rd_party_agent=[{"agent_id": "22", "agent_name": "Claude", "user_initiated_interaction_count": 2}],
        totals_by_copilot_app={
            "session_count": 1,
            "request_count": 4,
            "prompt_count": 2,
            "token_usage": {
                "output_tokens_sum": 10,
                "prompt_tokens_sum": 90,
                "avg_tokens_per_request": 25.0,
            },
        },
        totals_by_cli={
            "session_count": 2,
            "request_count": 6,
            "prompt_count": 3,
            "token_usage": {
                "output_tokens_sum": 60,
                "prompt_tokens_sum": 600,
                "avg_tokens_per_request": 110.0,
            },
            "last_known_cli_version": {
                "cli_version": "1.2.3",
                "sampled_at": "2026-11-01T09:00:00Z",
            },
        },
        ai_adoption_phase={"phase": "Phase 2", "phase_number": 2, "version": "v1"},
    )
    tables = load_records(tmp_path, [record])
    agent = tables["user_by_3rd_party_agent"].iloc[0]
    assert (agent["agent_id"], agent["user_initiated_interaction_count"]) == ("22", 2)
    assert pd.isna(agent["session_count"])
    app = tables["user_copilot_app"].iloc[0]
    assert (app["request_count"], app["prompt_tokens_sum"], app["avg_tokens_per_request"]) == (
        4,
        90,
        25.0,
    )
    cli = tables["user_cli"].iloc[0]
    assert (cli["cli_version"], cli["output_tokens_sum"]) == ("1.2.3", 60)
    row = tables.user_daily.iloc[0]
    assert (row["ai_adoption_phase"], row["ai_adoption_phase_number"]) == ("Phase 2", 2)


def test_entity_pull_request_comment_types(tmp_path):
    pulls = {
        "total_created": 3,
        "median_minutes_to_merge": 12.5,
        "copilot_suggestions_by_comment_type": [
            {
                "comment_type": "security",
                "total_copilot_suggestions": 4,
                "total_copilot_applied_suggestions": 1,
            },
            {
                "comment_type": "bug_risk",
                "total_copilot_suggestions": 2,
                "total_copilot_applied_suggestions": 2,
            },
        ],
    }
    tables = load_records(tmp_path, [{"day": "2026-11-01", "organization_id": "1", "pull_requests": pulls}])
    assert tables["entity_pull_requests"]["median_minutes_to_merge"].tolist() == [12.5]
    types = tables["entity_pr_by_comment_type"].set_index("comment_type")["total_copilot_suggestions"]
    assert types.to_dict() == {"security": 4, "bug_risk": 2}


def test_demo_user_teams_and_repos(tmp_path):
    data = demo.generate(users=30, days=10, seed=3)
    demo.write(tmp_path, data)
    tables = load_folder(tmp_path)
    assert len(tables["user_teams"]) == len(data.reports["user-teams-1-day"])
    assert len(tables["repo_daily"]) == len(data.reports["repos-1-day"])
    assert int(tables["repo_daily"]["total_created"].sum()) == sum(
        row["pull_requests"]["total_created"] for row in data.reports["repos-1-day"]
    )
    assert len(tables["teams"]) == len(data.teams)
    assert len(tables["seats"]) == len(data.seats["seats"])
    assert tables["billing"]["total"].tolist() == [data.billing["seat_breakdown"]["total"]]


def test_parallel_ingest_matches_in_process(tmp_path, monkeypatch):
    data = demo.generate(users=40, days=20, seed=5)
    demo.write(tmp_path / "data", data)
    # One large NDJSON file as well, so the byte-range split is exercised.
    write_ndjson(tmp_path / "data" / "all-users.ndjson", data.reports["users-1-day"][:300])
    alone = load_folder(tmp_path / "data", workers=1)
    monkeypatch.setattr(ingest, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingest, "PART_BYTES", 64 * 1024)
    parallel = load_folder(tmp_path / "data", workers=2)
    assert parallel.duplicates_dropped == alone.duplicates_dropped
    for name, frame in alone.frames.items():
        other = parallel.frames[name]
        columns = [column for column in frame.columns if column not in ("source_line",)]
        ordered = [
            column
            for column in (
                "scope",
                "entity_id",
                "day",
                "user_id",
                "feature",
                "ide",
                "language",
                "model",
                "team_id",
                "repo_id",
                "assignee_id",
            )
            if column in frame
        ]
        left = frame[columns].sort_values(ordered or columns[:1], kind="stable").reset_index(drop=True)
        right = other[columns].sort_values(ordered or columns[:1], kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(left.astype(str), right.astype(str), obj=name)


def _split_records(path, target):
    """Read a file cut into parts of about ``target`` bytes, as the worker processes do."""
    parts = ingest._split(path, path.stat().st_size, target)
    chunks = [chunk for part, _ in reversed(parts) for chunk in ingest.read_parts([part])]
    frames, _, _, _ = ingest.assemble(ingest.number_lines(chunks))
    return parts, frames


@pytest.mark.parametrize("arrow_readable", [True, False])
def test_split_keeps_line_numbers(tmp_path, arrow_readable):
    records = [user("2026-11-01", number, 1) for number in range(1, 400)]
    if not arrow_readable:
        # A top-level chat panel field sends every part through the general path.
        records = [{**record, "chat_panel_ask_mode": 1} for record in records]
    path = write_ndjson(tmp_path / "users.ndjson", records)
    parts, frames = _split_records(path, 2048)
    assert len(parts) > 3
    assert all(part.first_line is None for part, _ in parts[1:])
    users = frames["user_daily"].sort_values("source_line")
    assert users["source_line"].tolist() == list(range(1, 400))
    assert users["user_id"].tolist() == list(range(1, 400))


def test_split_bad_line_names_file_line(tmp_path):
    lines = [json.dumps(user("2026-11-01", number, 1)) for number in range(1, 200)]
    lines[150] = "{not json"
    path = tmp_path / "users.ndjson"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ReportFormatError, match=r"users\.ndjson:151: invalid JSON"):
        _split_records(path, 2048)


def test_empty_counters_block_counts(tmp_path):
    tables = load_records(tmp_path, [user("2026-11-01", 9, totals_by_feature=[{"feature": "x", **counters(1, 2, 1)}])])
    assert tables["user_by_feature"]["code_generation_activity_count"].tolist() == [2]


def test_split_file_with_byte_order_mark(tmp_path):
    path = tmp_path / "users.ndjson"
    path.write_bytes(
        b"\xef\xbb\xbf" + b"".join(json.dumps(user("2026-11-01", n, 1)).encode() + b"\n" for n in range(1, 50))
    )
    _, frames = _split_records(path, 512)
    assert sorted(frames["user_daily"]["user_id"]) == list(range(1, 50))


@pytest.mark.parametrize(
    ("sent", "read"),
    [(12, 12), ("12", 12), (" 12 ", 12), (12.0, 12), (2.5, None), ("twelve", None), (True, None), ({"n": 1}, None)],
)
def test_counter_value_types(tmp_path, sent, read):
    record = user("2026-11-01", 7, 3)
    record["code_generation_activity_count"] = sent
    frame = load_records(tmp_path, [record])["user_daily"]
    assert len(frame) == 1
    value = frame["code_generation_activity_count"].iloc[0]
    assert pd.isna(value) if read is None else value == read, value


def test_user_counters_are_int32(tmp_path):
    record = user("2026-11-01", 7, 3, 5, 2, totals_by_cli={"session_count": 1, "token_usage": {"output_tokens_sum": 9}})
    tables = load_records(tmp_path, [record, {"day": "2026-11-01", "organization_id": "1", **counters(3, 5, 2)}])
    assert tables.user_daily["code_generation_activity_count"].dtype == "Int32"
    assert tables["user_cli"]["session_count"].dtype == "Int32"
    assert tables["user_cli"]["output_tokens_sum"].dtype == "Int64"
    assert tables.user_daily["user_id"].dtype == "Int64"
    assert tables.entity_daily["code_generation_activity_count"].dtype == "Int64"


@pytest.mark.parametrize("arrow", [True, False], ids=["arrow", "general"])
def test_user_counter_beyond_int32(tmp_path, arrow):
    record = user("2026-11-01", 7, 3, 3_000_000_000)
    if not arrow:
        record["team"] = None  # a key the NDJSON fast path leaves to the general path
    with pytest.raises(ReportFormatError, match="code_generation_activity_count is 3000000000"):
        load_records(tmp_path, [record])
