"""`python -m copilot_lib.fake_github` rejects bad options with a message, not a traceback."""

from __future__ import annotations

import socket

import pytest

from copilot_lib.fake_github.__main__ import main


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
