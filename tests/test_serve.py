"""The Voilà command line that `copilot-dashboard serve` and the browser tests start."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from copilot_lib import serve
from copilot_lib.errors import ConfigError


def test_default_notebook_is_found() -> None:
    path = serve.notebook_path()

    assert path.name == "dashboard.ipynb"
    assert path.is_file()


def test_missing_notebook_is_reported(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.ipynb"

    with pytest.raises(ConfigError, match="nowhere.ipynb.*not found"):
        serve.notebook_path(missing)


def test_command_binds_loopback_and_hides_tracebacks() -> None:
    command = serve.voila_command(Path("/x/dashboard.ipynb"), port=9123)

    assert "--port=9123" in command
    assert "--Voila.ip=127.0.0.1" in command
    assert "--show_tracebacks=False" in command
    assert "--no-browser" in command
    assert "--template=copilot" in command
    assert any(part.startswith("--MappingKernelManager.cull_idle_timeout=") for part in command)
    assert "--preheat_kernel=True" in command


def test_command_without_preheat() -> None:
    command = serve.voila_command(Path("/x/dashboard.ipynb"), port=9123, preheat=False)

    assert not any("preheat" in part for part in command)


def test_environment_adds_template_folder() -> None:
    env = serve.voila_environment({"JUPYTER_PATH": "/elsewhere"})

    assert env["JUPYTER_PATH"].split(os.pathsep) == [str(serve.SHARE_DIR), "/elsewhere"]
    template = serve.SHARE_DIR / "voila" / "templates" / serve.TEMPLATE / "index.html.j2"
    assert template.is_file()
    assert "cdn." not in template.read_text().split("-#}", 1)[1]


def test_cli_serve_reports_missing_notebook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from copilot_lib import cli

    status = cli.main(["serve", "--port", "9", "--notebook", str(tmp_path / "absent.ipynb")])

    assert status == 1
    error = capsys.readouterr().err
    assert error.startswith("copilot-dashboard serve: notebook ")
    assert "absent.ipynb" in error
    assert "Traceback" not in error
