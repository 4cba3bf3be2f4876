"""`python -m copilot_lib.fake_github` rejects bad options with a message, not a traceback."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path

import pytest

from copilot_lib.config import github_settings
from copilot_lib.fake_github import FakeGitHub
from copilot_lib.fake_github.__main__ import ORG, build, main
from copilot_lib.fake_github.server import env_for_app
from copilot_lib.github import (
    NotReadyForm,
    Report,
    ReportNotAvailable,
    connect,
    daily_reports,
    fetch_report,
    scope_from_settings,
)


@pytest.mark.parametrize("option", ["--days", "--users"])
@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_fake_server_rejects_bad_counts(option: str, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([option, value])

    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert option in err
    assert "Traceback" not in err


def test_fake_server_reports_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        status = main(["--port", str(port)])

    err = capsys.readouterr().err
    assert status == 2
    assert f"port {port}" in err
    assert "--port" in err


def test_demo_server_serves_every_daily_report(tmp_path: Path) -> None:
    with FakeGitHub() as server:
        build(server, users=3, days=2)
        key = tmp_path / "app.pem"
        key.write_text(server.app_private_key_pem)
        settings = github_settings(environ=env_for_app(server, key, ORG))
        scope = scope_from_settings(settings)
        day = server.clock_today() - timedelta(days=1)
        with connect(settings) as client:
            results = {report: fetch_report(client, scope, report, day) for report in daily_reports(scope)}

    assert isinstance(results["user-teams-1-day"], Report)
    assert len(list(results["user-teams-1-day"].records())) == 3
    repos = results["repos-1-day"]
    assert isinstance(repos, ReportNotAvailable)
    assert repos.form is NotReadyForm.NO_CONTENT
