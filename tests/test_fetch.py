"""``copilot-dashboard fetch`` and fetch_latest, against the fake GitHub server."""

from __future__ import annotations

import functools
import logging
import socket
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from copilot_lib import config, fetch, github
from copilot_lib.cli import main
from copilot_lib.config import github_settings
from copilot_lib.errors import GitHubError
from copilot_lib.fake_github import FakeAccount, FakeClock, FakeGitHub, Fault, NotReady
from copilot_lib.fake_github.samples import make_org_day, make_user_days
from copilot_lib.fetch import fetch_latest
from copilot_lib.http import RetryPolicy
from copilot_lib.reports import RecordKind, read_folder

pytest_plugins = ["fixtures_github"]

USERS = 6


def _serve_days(fake: FakeGitHub, org: FakeAccount, days: list[date]) -> None:
    for day in days:
        users = make_user_days(4455667, day, USERS)
        fake.set_report(org, "users-1-day", users, day=day)
        fake.set_report(org, "organization-1-day", [make_org_day(4455667, day, users)], day=day, parts=1)
        teams = [
            {
                "user_id": row["user_id"],
                "day": day.isoformat(),
                "organization_id": "4455667",
                "team_id": 902211,
                "slug": "payments",
            }
            for row in users
        ]
        fake.set_report(org, "user-teams-1-day", teams, day=day)
        fake.set_not_ready(org, "repos-1-day", NotReady.NO_CONTENT, day=day)
    window = (days[0], days[-1])
    latest_users = [row for day in days for row in make_user_days(4455667, day, USERS)]
    fake.set_report(org, "users-28-day/latest", latest_users, window=window, parts=3)
    fake.set_report(org, "organization-28-day/latest", [], window=window, parts=1)


@pytest.fixture
def app_env(fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (config.ENV_ENTERPRISE, config.ENV_TOKEN, config.ENV_APP_ID, config.ENV_APP_INSTALLATION_ID):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(config.ENV_API_URL, fake.url)
    monkeypatch.setenv(config.ENV_APP_CLIENT_ID, fake.client_id)
    monkeypatch.setenv(config.ENV_APP_PRIVATE_KEY, fake.app_private_key_pem)
    # Retries back off for seconds; the command's client records the delays instead.
    monkeypatch.setattr(fetch, "connect", functools.partial(github.connect, sleep=lambda _: None))


def _fetch(out: Path, *extra: str) -> int:
    return main(["fetch", "--org", "acme", "--out", str(out), "--no-progress", *extra])


def test_fetch_writes_readable_folder(
    fake: FakeGitHub,
    org: FakeAccount,
    clock: FakeClock,
    app_env: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    days = [clock.today() - timedelta(days=n) for n in (3, 2)]
    _serve_days(fake, org, days)
    status = _fetch(tmp_path, "--since", days[0].isoformat(), "--until", days[1].isoformat())
    out = capsys.readouterr().out
    assert status == 0
    names = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    window = f"{days[0].isoformat()}_{days[1].isoformat()}"
    assert names == sorted(
        [
            f"{report}/{day.isoformat()}.ndjson"
            for day in days
            for report in ("organization-1-day", "users-1-day", "user-teams-1-day")
        ]
        + [
            f"users-28-day/{window}.ndjson",
            f"organization-28-day/{window}.ndjson",
            "seats.json",
            "billing.json",
            "teams.json",
        ]
    )
    assert "wrote 11 files" in out
    assert f"repos-1-day {days[0].isoformat()}" in out
    seats = orjson.loads((tmp_path / "seats.json").read_bytes())
    assert seats["total_seats"] == 250
    assert len(seats["seats"]) == 250
    kinds: dict[RecordKind, int] = {}
    for record in read_folder(tmp_path):
        kinds[record.kind] = kinds.get(record.kind, 0) + 1
    assert kinds[RecordKind.USER_DAY] == USERS * 2 * 2
    assert kinds[RecordKind.ENTITY_DAY] == 2
    assert kinds[RecordKind.USER_TEAM] == USERS * 2
    assert kinds[RecordKind.SEATS] == 1


def test_fetch_failure_keeps_files_and_names_missing(
    fake: FakeGitHub,
    org: FakeAccount,
    clock: FakeClock,
    app_env: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    day = clock.today() - timedelta(days=2)
    _serve_days(fake, org, [day])
    fake.add_faults("/orgs/acme/copilot/metrics/reports/users-1-day", *[Fault(status=502)] * 5)
    fake.add_faults("/orgs/acme/teams", Fault(status=403, body={"message": "Resource not accessible"}))
    status = _fetch(tmp_path, "--since", day.isoformat(), "--until", day.isoformat())
    captured = capsys.readouterr()
    assert status == 1
    assert f"missing: users-1-day {day.isoformat()}, teams" in captured.out
    assert "Members" in captured.err
    assert (tmp_path / "organization-1-day" / f"{day.isoformat()}.ndjson").exists()
    assert (tmp_path / "seats.json").exists()
    assert not (tmp_path / "users-1-day").exists()
    assert not list(tmp_path.rglob(".*"))


def test_fetch_stops_after_rate_limit(
    fake: FakeGitHub,
    org: FakeAccount,
    clock: FakeClock,
    app_env: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    day = clock.today() - timedelta(days=2)
    _serve_days(fake, org, [day])
    fake.add_faults("/orgs/acme/copilot/metrics/reports/users-1-day", Fault.rate_limited(reset_at=clock() + 7200))
    status = _fetch(tmp_path, "--since", day.isoformat(), "--until", day.isoformat())
    captured = capsys.readouterr()
    assert status == 1
    assert "retry after" in captured.err
    assert "not attempted" in captured.out
    assert fake.calls("/orgs/acme/copilot/billing/seats") == []


def test_fetch_with_bad_token_prints_one_error(
    fake: FakeGitHub,
    org: FakeAccount,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in (config.ENV_ENTERPRISE, config.ENV_APP_ID, config.ENV_APP_CLIENT_ID, config.ENV_APP_PRIVATE_KEY):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(config.ENV_API_URL, fake.url)
    monkeypatch.setenv(config.ENV_TOKEN, "ghp_not_a_valid_token_0123456789")
    since = clock.today() - timedelta(days=20)

    status = _fetch(tmp_path / "out", "--since", since.isoformat())

    captured = capsys.readouterr()
    assert status == 1
    assert len(captured.err.strip().splitlines()) == 1
    assert len(captured.out.strip().splitlines()) == 1
    assert "stopped after the first error" in captured.out


def test_fetch_into_uncreatable_folder_fails_cleanly(
    app_env: None, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    day = (clock.today() - timedelta(days=2)).isoformat()

    status = _fetch(Path("/dev/null/out"), "--since", day, "--until", day)

    captured = capsys.readouterr()
    assert status == 1
    assert "/dev/null/out" in captured.err
    assert "Traceback" not in captured.err


def test_fetch_unreachable_github_stops(
    app_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    delays: list[float] = []
    monkeypatch.setattr(fetch, "connect", functools.partial(github.connect, sleep=delays.append))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(config.ENV_API_URL, f"http://127.0.0.1:{port}")

    status = _fetch(tmp_path / "out")

    captured = capsys.readouterr()
    assert status == 1
    assert len(captured.err.strip().splitlines()) == 1
    assert f"cannot connect to http://127.0.0.1:{port}" in captured.err
    assert "stopped after the first error" in captured.out
    assert len(delays) == RetryPolicy().max_retries


def test_fetch_failure_logged_at_info(
    app_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(fetch, "connect", functools.partial(github.connect, sleep=lambda _: None))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(config.ENV_API_URL, f"http://127.0.0.1:{port}")

    with caplog.at_level(logging.INFO, logger="copilot_lib.fetch"):
        status = _fetch(tmp_path / "out")

    assert status == 1
    failures = [record for record in caplog.records if record.name == "copilot_lib.fetch"]
    assert [record.levelno for record in failures] == [logging.INFO]


def test_fetch_invalid_api_url_is_one_line(
    app_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(config.ENV_API_URL, "ftp://x")

    status = _fetch(tmp_path / "out")

    err = capsys.readouterr().err
    assert status == 1
    assert err == (
        "copilot-dashboard fetch: invalid GitHub API URL 'ftp://x' (from GITHUB_API_URL): use an http:// or "
        "https:// URL with a host, such as https://api.github.com\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "2025-12-11"), "before 2025-12-12"),
        (("--until", "2099-01-01"), "after yesterday"),
        (("--until", "2099-01-03"), "2099-01-03 is after yesterday"),
        (("--until", "2025-01-05"), "2025-01-05 is before 2025-12-12"),
    ],
)
def test_fetch_rejects_days_before_any_call(
    args: tuple[str, ...],
    message: str,
    fake: FakeGitHub,
    org: FakeAccount,
    app_env: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = _fetch(tmp_path, *args)
    assert status != 0
    assert message in capsys.readouterr().err
    assert fake.calls() == []


def test_fetch_enterprise_rejects_day_before_floor(
    fake: FakeGitHub, app_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["fetch", "--enterprise", "octo-ent", "--since", "2025-10-09", "--out", str(tmp_path)])
    assert status != 0
    assert "before 2025-10-10" in capsys.readouterr().err
    assert fake.calls() == []


def test_fetch_latest_for_dashboard(fake: FakeGitHub, org: FakeAccount, clock: FakeClock, tmp_path: Path) -> None:
    days = [clock.today() - timedelta(days=n) for n in (3, 2)]
    _serve_days(fake, org, days)
    settings = github_settings(
        org="acme",
        api_url=fake.url,
        app_client_id=fake.client_id,
        private_key=fake.app_private_key_pem,
        environ={},
    )
    progress: list[Any] = []
    folder = fetch_latest(settings, tmp_path, on_progress=lambda *args: progress.append(args))
    assert folder == tmp_path
    assert [entry[:2] for entry in progress] == [(1, 3), (2, 3), (3, 3)]
    assert (tmp_path / "seats.json").exists()
    assert len(list((tmp_path / "users-28-day").iterdir())) == 1
    fake.add_faults("/orgs/acme/copilot/billing/seats", *[Fault(status=503)] * 5)
    with pytest.raises(GitHubError, match="could not download seats"):
        fetch_latest(settings, tmp_path, sleep=lambda _: None)
