"""Messages for skipped records, unreadable files and interrupted commands say what happened and what to do."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import NoReturn

import pytest

from copilot_lib import fetch
from copilot_lib.cli import main
from copilot_lib.errors import ReportFormatError
from copilot_lib.tables import load_folder


def test_skipped_record_warning_reads_well(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    good = {"day": "2026-11-10", "organization_id": "100", "user_initiated_interaction_count": 1}
    bad = {"organization_id": "100", "user_initiated_interaction_count": 1, "day": "not a day"}
    (tmp_path / "org.ndjson").write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")

    with caplog.at_level(logging.WARNING, logger="copilot_lib"):
        load_folder(tmp_path)

    assert "skipped one entity day record without" in caplog.text
    assert "skipped a entity" not in caplog.text


def test_corrupt_gzip_message_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "users.ndjson.gz").write_bytes(b"no")

    with pytest.raises(ReportFormatError) as error:
        load_folder(tmp_path)

    assert "users.ndjson.gz" in str(error.value)
    assert "gzip-compressed" in str(error.value)
    assert "move it out of the folder" in str(error.value)


def test_interrupted_fetch_says_files_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupt(*_: object, **__: object) -> NoReturn:
        raise KeyboardInterrupt

    for name in ("GITHUB_ENTERPRISE", "GITHUB_APP_ID", "GITHUB_APP_CLIENT_ID", "GITHUB_APP_PRIVATE_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_unused_token_for_this_test_000")
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9")
    monkeypatch.setattr(fetch, "fetch_to_folder", interrupt)

    status = main(["fetch", "--org", "acme", "--out", str(tmp_path / "out"), "--no-progress"])

    assert status == 130
    assert "interrupted; the files written so far are complete and kept" in capsys.readouterr().err
