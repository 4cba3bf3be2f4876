"""`summary` over empty windows, other scopes and selections that match no data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot_lib.cli import main

COUNTERS = {
    "user_initiated_interaction_count": 5,
    "code_generation_activity_count": 10,
    "code_acceptance_activity_count": 5,
}


def _user_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    user = {"day": "2026-11-10", "organization_id": "100", "user_id": 1, "user_login": "a", **COUNTERS}
    (folder / "users.ndjson").write_text(json.dumps(user) + "\n")
    seat = {"assignee": {"login": "a", "id": 1, "type": "User"}, "created_at": "2026-01-01T00:00:00Z"}
    (folder / "seats.json").write_text(json.dumps({"total_seats": 1, "seats": [seat]}))
    return folder


def _entity_record(ide: str | None, **ids: str) -> dict[str, object]:
    return {
        "day": "2026-11-10",
        **ids,
        "daily_active_users": 1,
        **COUNTERS,
        "totals_by_ide": [{"ide": ide, **COUNTERS}],
    }


def _mixed_folder(tmp_path: Path) -> Path:
    (tmp_path / "enterprise.json").write_text(json.dumps(_entity_record(None, enterprise_id="900")))
    (tmp_path / "org.json").write_text(json.dumps(_entity_record("vscode", organization_id="100", enterprise_id="900")))
    return tmp_path


def _summary(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, dict[str, object], str]:
    code = main(["summary", *arguments])
    output = capsys.readouterr()
    return code, (json.loads(output.out) if code == 0 else {}), output.err


def test_empty_window_shows_users_as_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _user_folder(tmp_path)

    code, result, _ = _summary(
        capsys, "--data-dir", str(folder), "--since", "2026-10-01", "--until", "2026-10-05", "--json"
    )

    assert code == 0
    assert result["days_covered"] == 0
    assert result["unique_active_users"] is None
    assert result["server_side_only_users"] is None
    assert result["adoption_rate"] is None


def test_window_with_data_counts_users(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _user_folder(tmp_path)

    code, result, _ = _summary(capsys, "--data-dir", str(folder), "--json")

    assert code == 0
    assert result["unique_active_users"] == 1
    assert result["adoption_rate"] == 1.0


def test_since_after_last_day_is_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _user_folder(tmp_path)

    code, _, err = _summary(capsys, "--data-dir", str(folder), "--since", "2026-12-01", "--json")

    assert code == 2
    assert "2026-12-01" in err
    assert "2026-11-10" in err
    assert len(err.strip().splitlines()) == 1


def test_unknown_entity_id_is_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _mixed_folder(tmp_path)

    code, _, err = _summary(capsys, "--data-dir", str(folder), "--entity-id", "999", "--json")

    assert code == 2
    assert "999" in err
    assert "100, 900" in err


def test_entity_id_of_other_scope_is_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _mixed_folder(tmp_path)

    code, _, err = _summary(capsys, "--data-dir", str(folder), "--scope", "enterprise", "--entity-id", "100", "--json")

    assert code == 2
    assert "100" in err


def test_known_entity_id_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _mixed_folder(tmp_path)

    code, result, _ = _summary(
        capsys, "--data-dir", str(folder), "--scope", "organization", "--entity-id", "100", "--json"
    )

    assert code == 0
    assert result["interactions"] == 5


@pytest.mark.parametrize(("scope", "ide_unknown"), [("organization", 0.0), ("enterprise", 1.0)])
def test_health_follows_scope(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], scope: str, ide_unknown: float
) -> None:
    folder = _mixed_folder(tmp_path)

    code, result, _ = _summary(capsys, "--data-dir", str(folder), "--scope", scope, "--json")

    health = result["health"]
    assert code == 0
    assert isinstance(health, dict)
    assert health["unknown_share"]["ide"] == ide_unknown
    assert health["attributed_share"]["by_ide"] == 1.0
