"""Importing organisation and team legacy archives into one store merges their rows by (team_slug, day)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from copilot_lib.cli import main

METRICS_DAY = {
    "date": "2024-11-04",
    "total_active_users": 29,
    "total_engaged_users": 20,
    "copilot_ide_code_completions": {"total_engaged_users": 15},
}


def _metrics_rows(store: Path) -> list[tuple[str, int]]:
    files = sorted((store / "tables" / "legacy_metrics_daily" / "org=acme").glob("day=2024-11-04/*.parquet"))
    rows = [row for path in files for row in pq.read_table(path).to_pylist()]
    return sorted((row["team_slug"] or "", row["total_active_users"]) for row in rows)


@pytest.fixture
def archives(tmp_path: Path) -> dict[str, Path]:
    org_file = tmp_path / "historic_usage_data.json"
    org_file.write_text(json.dumps([METRICS_DAY]))
    team_file = tmp_path / "teams_history.json"
    team_file.write_text(
        json.dumps(
            [
                {"team": {"name": "Web", "slug": "web"}, "data": [dict(METRICS_DAY, total_active_users=4)]},
                {"team": {"name": "Ops", "slug": "ops"}, "data": [dict(METRICS_DAY, total_active_users=2)]},
            ]
        )
    )
    return {"org": org_file, "teams": team_file}


def _import(path: Path, store: Path) -> None:
    assert main(["import-legacy", str(path), "--org", "acme", "--store", str(store)]) == 0


@pytest.mark.parametrize(
    "order",
    [("org", "teams"), ("teams", "org"), ("org", "teams", "org"), ("teams", "org", "teams"), ("org", "org", "teams")],
)
def test_imports_in_any_order_give_the_union(archives: dict[str, Path], tmp_path: Path, order: tuple[str, ...]) -> None:
    store = tmp_path / "store"
    for name in order:
        _import(archives[name], store)

    assert _metrics_rows(store) == [("", 29), ("ops", 2), ("web", 4)]


def test_import_order_gives_identical_files(archives: dict[str, Path], tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    _import(archives["org"], first)
    _import(archives["teams"], first)
    _import(archives["teams"], second)
    _import(archives["org"], second)

    name = "tables/legacy_metrics_daily/org=acme/day=2024-11-04/part-0.parquet"
    assert (first / name).read_bytes() == (second / name).read_bytes()


def test_reimport_reports_unchanged(
    archives: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    _import(archives["org"], store)
    _import(archives["teams"], store)
    capsys.readouterr()

    _import(archives["org"], store)

    output = capsys.readouterr()
    counts = json.loads(output.out)
    assert "kept the stored" not in output.err
    assert counts["updated"] == 0
    assert counts["kept"] == 0
    assert counts["unchanged"] == 1


def test_team_import_keeps_a_team_day_with_more_rows(tmp_path: Path) -> None:
    store = tmp_path / "store"
    usage = {
        "day": "2024-11-04",
        "total_suggestions_count": 10,
        "total_acceptances_count": 5,
        "breakdown": [
            {"language": "python", "editor": "vscode", "suggestions_count": 6, "acceptances_count": 3},
            {"language": "go", "editor": "vscode", "suggestions_count": 4, "acceptances_count": 2},
        ],
    }
    full = tmp_path / "full.json"
    full.write_text(json.dumps([{"team": {"slug": "web"}, "data": [usage]}]))
    short = tmp_path / "short.json"
    short.write_text(json.dumps([{"team": {"slug": "web"}, "data": [dict(usage, breakdown=usage["breakdown"][:1])]}]))
    _import(full, store)
    _import(short, store)

    files = list((store / "tables" / "legacy_usage_breakdown" / "org=acme").glob("day=2024-11-04/*.parquet"))
    assert len(files) == 1
    assert pq.read_table(files[0]).num_rows == 2
