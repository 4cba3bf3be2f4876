"""An unknown account or an App that is not installed stops fetch and archive, and records no gap."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from copilot_lib.cli import main
from copilot_lib.fake_github import FakeGitHub
from copilot_lib.fake_github.samples import make_seats
from copilot_lib.fake_github.server import env_for_app

CREDENTIAL_VARIABLES = (
    "GITHUB_ORG",
    "GITHUB_ENTERPRISE",
    "GITHUB_TOKEN",
    "GITHUB_APP_ID",
    "GITHUB_APP_CLIENT_ID",
    "GITHUB_APP_PRIVATE_KEY",
    "GITHUB_APP_PRIVATE_KEY_PATH",
    "GITHUB_APP_PRIVATE_KEY_SECRET",
    "COPILOT_INSTALLATION_ID",
)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with FakeGitHub() as fake:
        fake.add_org("acme", seats=make_seats(2))  # the App is installed on this organisation only
        yield fake


@pytest.fixture
def app_env(server: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeGitHub:
    key = tmp_path / "app.pem"
    key.write_text(server.app_private_key_pem)
    for name, value in env_for_app(server, key, "acme").items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GITHUB_ORG")
    return server


@pytest.fixture
def token_env(server: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> FakeGitHub:
    server.add_personal_token("ghp_test_token", ("read:org", "manage_billing:copilot"))
    monkeypatch.setenv("GITHUB_API_URL", server.url)
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_test_token")
    return server


def _fetch(server: FakeGitHub, out: Path, *target: str) -> int:
    since = (server.clock_today() - timedelta(days=3)).isoformat()
    return main(["fetch", *target, "--since", since, "--out", str(out), "--no-progress"])


def test_fetch_enterprise_without_app_fails(
    app_env: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _fetch(app_env, tmp_path / "out", "--enterprise", "acme-typo")

    err = capsys.readouterr().err
    assert code != 0
    assert "acme-typo" in err
    assert "not installed" in err
    assert "not available" not in err


def test_fetch_unknown_org_with_token_fails(
    token_env: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _fetch(token_env, tmp_path / "out", "--org", "nosuchorg")

    output = capsys.readouterr()
    assert code != 0
    assert "'nosuchorg'" in output.err
    assert "does not know" in output.err
    assert "not available from GitHub yet" not in output.out


def test_fetch_unknown_enterprise_with_token_fails(
    token_env: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _fetch(token_env, tmp_path / "out", "--enterprise", "nosuchent")

    output = capsys.readouterr()
    assert code != 0
    assert "'nosuchent'" in output.err
    assert "not available from GitHub yet" not in output.out


def test_fetch_known_org_with_token_reports_not_ready_days(
    token_env: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _fetch(token_env, tmp_path / "out", "--org", "acme")

    output = capsys.readouterr()
    assert code == 0
    assert "not available from GitHub yet" in output.out


def test_archive_enterprise_without_app_records_no_gap(
    app_env: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    code = main(["archive", "--enterprise", "acme-typo", "--store", str(store), "--budget", "20"])

    assert code != 0
    assert "acme-typo" in capsys.readouterr().err
    assert not list(store.glob("gaps/**/*.json"))


def test_archive_unknown_org_with_token_records_no_gap(token_env: FakeGitHub, tmp_path: Path) -> None:
    store = tmp_path / "store"
    code = main(["archive", "--org", "nosuchorg", "--store", str(store), "--budget", "20"])

    assert code != 0
    assert not list(store.glob("gaps/**/*.json"))


def test_archive_app_not_installed_stops_at_once(
    app_env: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["archive", "--org", "other", "--store", str(tmp_path / "store"), "--budget", "20"])

    err_lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith(("failed", "stopped"))]
    assert code == 1
    assert len(err_lines) == 1
    assert err_lines[0].startswith("stopped: ")
    assert "'other'" in err_lines[0]
    assert len(app_env.calls("/orgs/other/installation")) == 1


def test_archive_known_org_records_gaps(app_env: FakeGitHub, tmp_path: Path) -> None:
    store = tmp_path / "store"
    main(["archive", "--org", "acme", "--store", str(store), "--budget", "20"])

    assert list(store.glob("gaps/org=acme/*.json"))


def test_fetch_enterprise_with_app_treats_404_as_not_ready(
    app_env: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app_env.add_enterprise("acme-ent")

    code = _fetch(app_env, tmp_path / "out", "--enterprise", "acme-ent")

    output = capsys.readouterr()
    assert code == 0
    assert "not available from GitHub yet" in output.out
    assert app_env.calls("/enterprises/acme-ent/copilot/billing/seats") == []
