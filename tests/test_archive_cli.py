"""The archive, backfill and import-legacy commands, against the fake GitHub server and both stores."""

from __future__ import annotations

import functools
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from history_fixtures import *  # noqa: F403 - the fixtures these tests take as arguments
from history_fixtures import FaultProxy, store_contents

from copilot_lib import archive, github
from copilot_lib.cli import main
from copilot_lib.config import SETTLING_DAYS
from copilot_lib.fake_github import FakeGitHub, Fault
from copilot_lib.fake_github.samples import (
    make_org_day,
    make_seats,
    make_teams,
    make_user_days,
    recent_days,
    settled_days,
)
from copilot_lib.fake_github.server import env_for_app
from copilot_lib.history import Entity, History
from copilot_lib.history_tables import load_store
from copilot_lib.http import RetryPolicy
from copilot_lib.store import LocalStore, ObjectStore, S3Store

ORG_ID = 4455667
# Settled days served; the server also serves the SETTLING_DAYS newer days, which no run fetches.
DAYS = 8
ACME = Entity("org", "acme")


def _serve(server: FakeGitHub) -> None:
    org = server.add_org("acme", seats=make_seats(4), teams=make_teams("acme", ORG_ID, ["web"]))
    for day in recent_days(DAYS + SETTLING_DAYS, server.clock_today()):
        rows = make_user_days(ORG_ID, day, 4)
        server.set_report(org, "users-1-day", rows, day=day)
        server.set_report(org, "organization-1-day", [make_org_day(ORG_ID, day, rows)], day=day, parts=1)
        server.set_report(org, "user-teams-1-day", [], day=day, parts=1)
        server.set_report(org, "repos-1-day", [], day=day, parts=1)


@pytest.fixture
def github_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        _serve(server)
        key = tmp_path / "app.pem"
        key.write_text(server.app_private_key_pem)
        for name in ("GITHUB_ENTERPRISE", "GITHUB_TOKEN", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_PRIVATE_KEY_SECRET"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env_for_app(server, key, "acme").items():
            monkeypatch.setenv(name, value)
        yield server


def store_args(store: ObjectStore, request: pytest.FixtureRequest) -> list[str]:
    if isinstance(store, S3Store):
        proxy: FaultProxy = request.getfixturevalue("s3_proxy")
        return ["--store", store.url, "--endpoint-url", proxy.url]
    assert isinstance(store, LocalStore)
    return ["--store", str(store.root)]


def _range() -> tuple[str, str]:
    days = settled_days(DAYS)
    return days[0].isoformat(), days[-1].isoformat()


def test_archive_command(
    github_env: FakeGitHub, store: ObjectStore, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    since, _ = _range()
    assert main(["archive", "--since", since, *store_args(store, request)]) == 0

    output = capsys.readouterr().out
    assert f"org=acme: {DAYS} days written" in output
    assert len(History(store).stored_days(ACME)) == DAYS
    assert len(load_store(store).frames["seats"]) == 4


def test_backfill_resumes_after_github_failure(
    github_env: FakeGitHub, store: ObjectStore, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    since, until = _range()
    arguments = ["backfill", "--since", since, "--until", until, "--no-progress", "--concurrency", "1"]
    github_env.add_faults("/orgs/acme/copilot/metrics/reports/users-1-day", Fault(status=403, body={"message": "no"}))

    assert main([*arguments, *store_args(store, request)]) == 1
    captured = capsys.readouterr()
    # Missing days are fetched newest first, so the fault hits the last day.
    assert f"failed {until}" in captured.err
    assert len(History(store).stored_days(ACME)) == DAYS - 1

    assert main([*arguments, *store_args(store, request)]) == 0
    assert "1 day written" in capsys.readouterr().out
    assert len(History(store).stored_days(ACME)) == DAYS
    assert load_store(store).frames["seats"].empty


def test_backfill_stops_at_newest_settled_day(
    github_env: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    since, newest_settled = _range()
    yesterday = recent_days(1)[0].isoformat()
    store = LocalStore(tmp_path / "store")
    arguments = ["backfill", "--since", since, "--until", yesterday, "--no-progress", "--store", str(store.root)]

    assert main(arguments) == 0

    captured = capsys.readouterr()
    assert f"backfill stops at {newest_settled}, the newest settled day, not at --until {yesterday}" in captured.err
    assert f"org=acme: {DAYS} days written" in captured.out
    assert max(History(store).stored_days(ACME)).isoformat() == newest_settled


def test_backfill_rerun_counts_stored_days(
    github_env: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    since, until = _range()
    arguments = ["backfill", "--since", since, "--until", until, "--no-progress", "--store", str(tmp_path / "s")]
    assert main(arguments) == 0
    capsys.readouterr()

    assert main(arguments) == 0

    output = capsys.readouterr().out
    assert "org=acme: 0 days written" in output
    assert f"{DAYS} already stored" in output


def test_backfill_killed_then_rerun_converges(github_env: FakeGitHub, tmp_path: Path) -> None:
    since, until = _range()
    arguments = ["backfill", "--since", since, "--until", until, "--no-progress", "--concurrency", "1"]
    reference = LocalStore(tmp_path / "reference")
    assert main([*arguments, "--store", str(reference.root)]) == 0

    github_env.latency = 0.15
    killed = LocalStore(tmp_path / "killed")
    process = subprocess.Popen(
        [sys.executable, "-m", "copilot_lib.cli", *arguments, "--store", str(killed.root)],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while len(History(killed).stored_days(ACME)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    github_env.latency = 0.0

    stored = History(killed).stored_days(ACME)
    assert 2 <= len(stored) < DAYS
    assert main([*arguments, "--store", str(killed.root)]) == 0
    assert store_contents(killed) == store_contents(reference)


def test_two_backfill_processes_at_once(github_env: FakeGitHub, tmp_path: Path) -> None:
    since, until = _range()
    arguments = ["backfill", "--since", since, "--until", until, "--no-progress"]
    reference = LocalStore(tmp_path / "reference")
    assert main([*arguments, "--store", str(reference.root)]) == 0

    shared = LocalStore(tmp_path / "shared")
    command = [sys.executable, "-m", "copilot_lib.cli", *arguments, "--store", str(shared.root)]
    processes = [subprocess.Popen(command, env=dict(os.environ), stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=120)[0] for process in processes]

    assert [process.returncode for process in processes] == [0, 0]
    assert sorted(f"{DAYS} days written" in output for output in outputs) == [False, True]
    assert store_contents(shared) == store_contents(reference)


def _usage_day(day: str, suggestions: int) -> dict[str, Any]:
    return {
        "day": day,
        "total_suggestions_count": suggestions,
        "total_acceptances_count": suggestions // 4,
        "total_lines_suggested": suggestions * 2,
        "total_lines_accepted": suggestions // 2,
        "total_active_users": 7,
        "total_chat_acceptances": 3,
        "total_chat_turns": 20,
        "total_active_chat_users": 4,
        "breakdown": [
            {
                "language": "python",
                "editor": "vscode",
                "suggestions_count": suggestions,
                "acceptances_count": suggestions // 4,
                "lines_suggested": suggestions * 2,
                "lines_accepted": suggestions // 2,
                "active_users": 7,
            },
        ],
    }


def _metrics_day(day: str, engaged: int) -> dict[str, Any]:
    return {
        "date": day,
        "total_active_users": engaged + 2,
        "total_engaged_users": engaged,
        "copilot_ide_code_completions": {
            "total_engaged_users": engaged,
            "editors": [
                {
                    "name": "vscode",
                    "total_engaged_users": engaged,
                    "models": [
                        {
                            "name": "default",
                            "is_custom_model": False,
                            "custom_model_training_date": None,
                            "total_engaged_users": engaged,
                            "languages": [
                                {
                                    "name": "python",
                                    "total_engaged_users": engaged,
                                    "total_code_suggestions": 40,
                                    "total_code_acceptances": 10,
                                    "total_code_lines_suggested": 80,
                                    "total_code_lines_accepted": 20,
                                }
                            ],
                        }
                    ],
                }
            ],
        },
        "copilot_ide_chat": {"total_engaged_users": 2},
        "copilot_dotcom_chat": {"total_engaged_users": 0},
        "copilot_dotcom_pull_requests": {"total_engaged_users": 0},
    }


@pytest.fixture
def legacy_files(tmp_path: Path) -> list[Path]:
    """Hand-made archives of the original tool: a mixed file and a team history, with repeats."""
    historic = [
        _usage_day("2024-11-01", 100),
        _usage_day("2024-11-02", 120),
        _usage_day("2024-11-02", 125),  # fetched again a week later: the copy read last wins
        _metrics_day("2025-03-01", 9),
        _metrics_day("2025-03-02", 11),
        _metrics_day("2025-03-02", 12),
    ]
    teams = [
        {
            "team": {"slug": "web", "name": "Web"},
            "data": [_metrics_day("2025-03-01", 3), _metrics_day("2025-03-01", 3)],
        },
        {"team": {"slug": "data", "name": "Data"}, "data": [_metrics_day("2025-03-01", 2)]},
    ]
    historic_path = tmp_path / "historic_usage_data.json"
    historic_path.write_text(json.dumps(historic))
    teams_path = tmp_path / "teams_history.json"
    teams_path.write_text(json.dumps(teams))
    return [historic_path, teams_path]


def test_import_legacy(
    store: ObjectStore, request: pytest.FixtureRequest, legacy_files: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["import-legacy", *map(str, legacy_files), "--org", "acme", *store_args(store, request)]

    assert main(arguments) == 0
    first = json.loads(capsys.readouterr().out)
    tables = load_store(store)

    usage = tables.frames["legacy_usage_daily"]
    assert list(usage["day"].dt.strftime("%Y-%m-%d")) == ["2024-11-01", "2024-11-02"]
    assert list(usage["total_suggestions_count"]) == [100, 125]
    metrics = tables.frames["legacy_metrics_daily"].sort_values(["team_slug", "day"])
    keys = list(zip(metrics["team_slug"], metrics["day"].dt.strftime("%Y-%m-%d"), strict=True))
    assert keys == [("", "2025-03-01"), ("", "2025-03-02"), ("data", "2025-03-01"), ("web", "2025-03-01")]
    assert (
        int(
            metrics[(metrics["team_slug"] == "") & (metrics["day"] == pd.Timestamp("2025-03-02"))][
                "total_engaged_users"
            ].iloc[0]
        )
        == 12
    )
    assert first["written"] > 0
    assert len(store.list("legacy/org=acme/")) == 2

    assert main(arguments) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["written"] == 0
    assert second["updated"] == 0
    assert second["unchanged"] == first["written"]


def test_import_legacy_needs_an_entity(
    legacy_files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_ORG", raising=False)
    monkeypatch.delenv("GITHUB_ENTERPRISE", raising=False)
    assert main(["import-legacy", str(legacy_files[0]), "--store", str(tmp_path / "s")]) == 1
    assert "--org or --enterprise" in capsys.readouterr().err


def test_archive_fails_on_unreadable_store(
    github_env: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["archive", "--store", str(blocker / "store")]) == 1
    err = capsys.readouterr().err
    assert f"cannot use the store folder {blocker / 'store'} ({blocker} is a file, not a folder)" in err
    assert "lock file" not in err


def test_archive_fails_on_store_in_proc(github_env: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["archive", "--store", "/proc/copilot-dashboard-store"]) == 1
    err = capsys.readouterr().err
    assert "cannot use the store folder /proc/copilot-dashboard-store" in err
    assert "choose a folder you can write to with --store or COPILOT_STORE" in err


def test_rebuild_tables_command(github_env: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    since, _ = _range()
    store = LocalStore(tmp_path / "store")
    assert main(["archive", "--since", since, "--store", str(store.root)]) == 0
    before = store_contents(store)
    day = settled_days(DAYS)[3]
    store.put(f"tables/user_daily/org=acme/day={day}/part-0.parquet", b"stale")
    capsys.readouterr()

    assert main(["rebuild-tables", "--org", "acme", "--no-progress", "--store", str(store.root)]) == 0

    assert f"rebuilt the tables of {DAYS} days" in capsys.readouterr().out
    assert store_contents(store) == before


def _delete_legacy_tables(store: ObjectStore) -> list[str]:
    keys = [key for key in store.list("tables/") if key.split("/")[1].startswith("legacy_")]
    for key in keys:
        if isinstance(store, S3Store):
            store.delete(key)
        else:
            assert isinstance(store, LocalStore)
            (store.root / key).unlink()
    return keys


def test_rebuild_tables_restores_legacy_tables(
    store: ObjectStore, request: pytest.FixtureRequest, legacy_files: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import-legacy", *map(str, legacy_files), "--org", "acme", *store_args(store, request)]) == 0
    imported = store_contents(store)
    deleted = _delete_legacy_tables(store)
    assert deleted
    assert all(key not in store.list("tables/") for key in deleted)
    capsys.readouterr()

    assert main(["rebuild-tables", "--org", "acme", "--no-progress", *store_args(store, request)]) == 0

    output = capsys.readouterr().out
    assert f"rebuilt the tables of 0 days and {len(deleted)} legacy table days ({len(deleted)} written" in output
    assert store_contents(store) == imported


def test_rebuild_legacy_from_gzipped_file(legacy_files: list[Path], tmp_path: Path) -> None:
    historic, teams = legacy_files
    packed = tmp_path / "teams_history.json.gz"
    packed.write_bytes(gzip.compress(teams.read_bytes()))
    store = LocalStore(tmp_path / "store")
    assert main(["import-legacy", str(historic), str(packed), "--org", "acme", "--store", str(store.root)]) == 0
    imported = store_contents(store)
    _delete_legacy_tables(store)

    outcomes = History(store).rebuild_legacy(ACME)

    assert outcomes["written"] > 0
    assert store_contents(store) == imported
    teams_rows = load_store(store).frames["legacy_metrics_daily"]
    assert set(teams_rows["team_slug"]) == {"", "data", "web"}


def test_rebuild_legacy_of_intact_store(legacy_files: list[Path], tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    assert main(["import-legacy", *map(str, legacy_files), "--org", "acme", "--store", str(store.root)]) == 0
    imported = store_contents(store)

    outcomes = History(store).rebuild_legacy(ACME)

    assert outcomes["written"] == 0
    assert outcomes["updated"] == 0
    assert outcomes["unchanged"] > 0
    assert store_contents(store) == imported


@pytest.mark.parametrize(
    "arguments",
    [
        ["archive", "--since", "{future}"],
        ["backfill", "--since", "{future}"],
        ["backfill", "--since", "2026-01-01", "--until", "{future}"],
    ],
)
def test_future_days_are_rejected(arguments: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    future = (datetime.now(UTC).date() + timedelta(days=5)).isoformat()
    store = tmp_path / "store"

    code = main([*(part.format(future=future) for part in arguments), "--org", "acme", "--store", str(store)])

    err = capsys.readouterr().err
    assert code == 1
    assert f"{future} is in the future" in err
    assert not store.exists()


@pytest.mark.parametrize("command", ["archive", "backfill"])
def test_invalid_api_url_is_one_line(
    command: str, github_env: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    since, until = _range()
    arguments = [command, "--since", since, "--store", str(tmp_path / "store"), "--api-url", "not-a-url"]

    code = main([*arguments, "--until", until] if command == "backfill" else arguments)

    err = capsys.readouterr().err
    assert code == 1
    assert f"copilot-dashboard {command}: invalid GitHub API URL 'not-a-url' (from --api-url)" in err
    assert "Traceback" not in err
    assert github_env.calls() == []


def _closed_port() -> int:
    """Return a loopback port that nothing listens on, so connections to it are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("command", ["archive", "backfill"])
def test_unreachable_github_stops_the_run(
    command: str,
    github_env: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    delays: list[float] = []
    monkeypatch.setattr(archive, "connect", functools.partial(github.connect, sleep=delays.append))
    api_url = f"http://127.0.0.1:{_closed_port()}"
    since, until = _range()
    arguments = [command, "--since", since, "--store", str(tmp_path / "store"), "--api-url", api_url]

    code = main([*arguments, "--until", until] if command == "backfill" else arguments)

    err_lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith(("failed", "stopped"))]
    assert code == 1
    assert len(err_lines) == 1
    assert err_lines[0].startswith(f"stopped: cannot connect to {api_url}: GET {api_url}/orgs/acme/installation")
    # One request's retries, not one set per day.
    assert len(delays) == RetryPolicy().max_retries


def test_backfill_rejects_mistyped_s3_store(
    github_env: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    since, until = _range()

    code = main(["backfill", "--since", since, "--until", until, "--store", "s3:/bucket", "--no-progress"])

    assert code == 1
    assert "invalid store 's3:/bucket': write s3://BUCKET or s3://BUCKET/PREFIX" in capsys.readouterr().err
    assert list(work.iterdir()) == []
    assert github_env.calls() == []


def test_backfill_before_first_report_day(
    github_env: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"

    code = main(["backfill", "--since", "2025-01-01", "--until", "2025-01-05", "--store", str(store)])

    err = capsys.readouterr().err
    assert code == 2
    assert "--since 2025-01-01 is before 2025-12-12, the first day GitHub has usage metrics reports" in err
    assert not store.exists()
    assert github_env.calls() == []


def test_import_legacy_rejects_current_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    day = settled_days(1)[0]
    report = tmp_path / "users-1-day.ndjson"
    report.write_text("".join(json.dumps(row) + "\n" for row in make_user_days(ORG_ID, day, 3)))
    store = tmp_path / "store"

    code = main(["import-legacy", str(report), "--org", "acme", "--store", str(store)])

    err = capsys.readouterr().err
    assert code == 2
    assert f"{report}: contains no days of the retired /copilot/usage or /copilot/metrics APIs" in err
    assert "(it contains 3 user_day)" in err
    assert not store.exists()


def test_import_legacy_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.json"

    code = main(["import-legacy", str(missing), "--org", "acme", "--store", str(tmp_path / "store")])

    err = capsys.readouterr().err
    assert code == 2
    assert f"{missing}: not found: give the path of a legacy archive file" in err
    assert "move it out of the folder" not in err


def test_rebuild_tables_of_missing_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "absent"

    code = main(["rebuild-tables", "--org", "acme", "--store", str(store)])

    assert code == 1
    assert f"the store {store} has no days or legacy files of org=acme" in capsys.readouterr().err
    assert not store.exists()
