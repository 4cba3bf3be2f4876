"""The Voilà command line that `copilot-dashboard serve` and the browser tests start."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
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


def test_cli_serve_reports_missing_notebook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from copilot_lib import cli

    status = cli.main(["serve", "--port", "9", "--notebook", str(tmp_path / "absent.ipynb")])

    assert status == 1
    error = capsys.readouterr().err
    assert error.startswith("copilot-dashboard serve: notebook ")
    assert "absent.ipynb" in error
    assert "Traceback" not in error


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket() as client:
        return client.connect_ex(("127.0.0.1", port)) == 0


def _descendants(pid: int) -> set[int]:
    """Return the ids of every running process below ``pid``, read from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        children = {child for child, parent in parents.items() if parent in frontier}
        frontier = children - found
        found |= children
    return found


def _wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_sigterm_stops_voila_and_kernels(tmp_path: Path) -> None:
    notebook = tmp_path / "tiny.ipynb"
    cell = {"cell_type": "code", "metadata": {}, "source": "1 + 1", "outputs": [], "execution_count": None}
    notebook.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    port = _free_port()
    command = [sys.executable, "-m", "copilot_lib.cli", "serve", "--port", str(port), "--notebook", str(notebook)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children: set[int] = set()
    try:
        # Voilà, and the kernel it starts ahead of the first page load.
        assert _wait_until(lambda: _port_open(port), 120)
        assert _wait_until(lambda: len(_descendants(process.pid)) >= 2, 120)
        children = _descendants(process.pid)

        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=60)

        assert status == 0
        assert not _port_open(port)
        assert _wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in children), 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(("child", "expected"), [("import time; time.sleep(60)", 0), ("import sys; sys.exit(3)", 3)])
def test_stop_signal_exit_status(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, child: str, expected: int) -> None:
    # A child that SIGTERM kills, as it would a Voilà caught before its handlers are set.
    notebook = tmp_path / "tiny.ipynb"
    notebook.write_text("{}")
    monkeypatch.setattr(serve, "voila_command", lambda *args, **kwargs: [sys.executable, "-c", child])
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        status = serve.serve(port=_free_port(), notebook=notebook)
    finally:
        timer.cancel()

    assert status == expected


@pytest.mark.parametrize(
    ("environ", "text"),
    [
        ({"COPILOT_DATA_DIR": "/data/reports", "COPILOT_STORE": "/store"}, "report files in /data/reports"),
        ({"COPILOT_STORE": "s3://bucket/history"}, "the history store s3://bucket/history"),
        ({"GITHUB_ORG": "acme"}, "GitHub data for acme"),
        ({}, "demo data (60 users over 90 days)"),
        ({"COPILOT_DEMO_USERS": "10000", "COPILOT_DEMO_DAYS": "365"}, "demo data (10,000 users over 365 days)"),
    ],
)
def test_source_description_follows_dashboard_order(environ: dict[str, str], text: str) -> None:
    assert serve.source_description(environ).startswith(text)
