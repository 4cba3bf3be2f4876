"""Repeated records: the newest report wins, 1-day beats 28-day, file order never matters."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from copilot_lib.reports import read_files
from copilot_lib.tables import build_tables


def _user(day: str, interactions: int, **extra) -> dict:
    return {
        "day": day,
        "organization_id": "4455667",
        "user_id": 7301122,
        "user_login": "octocat-1",
        "user_initiated_interaction_count": interactions,
        **extra,
    }


def _wrapper(path: Path, created_at: str | None, start: str, end: str, records: list[dict]) -> Path:
    body: dict = {"organization_id": "4455667", "report_start_day": start, "report_end_day": end, "day_totals": records}
    if created_at:
        body["created_at"] = created_at
    path.write_text(json.dumps(body))
    return path


def _interactions(paths: list[Path]) -> dict[str, int]:
    tables = build_tables(read_files(paths))
    frame = tables.user_daily
    pairs = zip(frame["day"], frame["user_initiated_interaction_count"], strict=True)
    return {str(day.date()): int(value) for day, value in pairs}


def test_newest_created_at_wins(tmp_path):
    old = _wrapper(tmp_path / "a.json", "2026-11-05T03:00:00Z", "2026-11-02", "2026-11-02", [_user("2026-11-02", 1)])
    new = _wrapper(tmp_path / "b.json", "2026-11-06T03:00:00Z", "2026-11-02", "2026-11-02", [_user("2026-11-02", 7)])
    assert _interactions([old, new]) == {"2026-11-02": 7}


def test_newest_wins_even_when_its_file_sorts_first(tmp_path):
    new = _wrapper(tmp_path / "a.json", "2026-11-06T03:00:00Z", "2026-11-02", "2026-11-02", [_user("2026-11-02", 7)])
    old = _wrapper(tmp_path / "z.json", "2026-11-05T03:00:00Z", "2026-11-02", "2026-11-02", [_user("2026-11-02", 1)])
    assert _interactions([old, new]) == {"2026-11-02": 7}


def test_one_day_report_wins_tie_with_28_day(tmp_path):
    created = "2026-11-06T03:00:00Z"
    days = [f"2026-10-{day:02d}" for day in range(9, 32)] + [f"2026-11-{day:02d}" for day in range(1, 6)]
    monthly = [_user(day, 1) for day in days]
    one_day = _wrapper(tmp_path / "z-1day.json", created, "2026-11-05", "2026-11-05", [_user("2026-11-05", 9)])
    rolling = _wrapper(tmp_path / "a-28day.json", created, days[0], days[-1], monthly)
    result = _interactions([rolling, one_day])
    assert len(result) == 28
    assert result["2026-11-05"] == 9
    assert result["2026-11-04"] == 1


def test_result_independent_of_file_order(tmp_path):
    paths = [
        _wrapper(
            tmp_path / "a.json",
            "2026-11-05T03:00:00Z",
            "2026-11-02",
            "2026-11-03",
            [_user("2026-11-02", 1), _user("2026-11-03", 2)],
        ),
        _wrapper(tmp_path / "b.json", "2026-11-06T03:00:00Z", "2026-11-03", "2026-11-03", [_user("2026-11-03", 3)]),
        _wrapper(tmp_path / "c.json", None, "2026-11-02", "2026-11-02", [_user("2026-11-02", 4)]),
    ]
    outcomes = {json.dumps(_interactions(list(order)), sort_keys=True) for order in itertools.permutations(paths)}
    assert outcomes == {json.dumps({"2026-11-02": 1, "2026-11-03": 3}, sort_keys=True)}


def test_repeated_lines_across_parts_are_dropped(tmp_path):
    line = json.dumps(_user("2026-11-02", 5))
    (tmp_path / "part-0.ndjson").write_text(line + "\n")
    (tmp_path / "part-1.ndjson").write_text(line + "\n")
    tables = build_tables(read_files(sorted(tmp_path.iterdir())))
    assert len(tables.user_daily) == 1
    assert tables.duplicates_dropped["user_daily"] == 1


def test_breakdowns_follow_the_winning_record(tmp_path):
    old = {
        **_user("2026-11-02", 1),
        "totals_by_feature": [{"feature": "chat_inline", "user_initiated_interaction_count": 1}],
    }
    new = {
        **_user("2026-11-02", 2),
        "totals_by_feature": [{"feature": "code_completion", "user_initiated_interaction_count": 2}],
    }
    a = _wrapper(tmp_path / "a.json", "2026-11-05T03:00:00Z", "2026-11-02", "2026-11-02", [old])
    b = _wrapper(tmp_path / "b.json", "2026-11-06T03:00:00Z", "2026-11-02", "2026-11-02", [new])
    tables = build_tables(read_files([a, b]))
    assert list(tables["user_by_feature"]["feature"]) == ["code_completion"]


def test_numeric_string_ids_share_one_key(tmp_path):
    first = {**_user("2026-11-02", 1), "user_id": "7301122"}
    second = _user("2026-11-02", 2)
    a = _wrapper(tmp_path / "a.json", "2026-11-05T03:00:00Z", "2026-11-02", "2026-11-02", [first])
    b = _wrapper(tmp_path / "b.json", "2026-11-06T03:00:00Z", "2026-11-02", "2026-11-02", [second])
    tables = build_tables(read_files([a, b]))
    assert list(tables.user_daily["user_id"]) == [7301122]
    assert list(tables.user_daily["user_initiated_interaction_count"]) == [2]
