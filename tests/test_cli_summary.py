"""The summary command: KPIs as text or JSON, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

from copilot_lib import demo
from copilot_lib.cli import main

KEYS = {
    "days_covered",
    "days_missing",
    "unique_active_users",
    "acceptance_rate",
    "interactions",
    "code_generations",
    "code_acceptances",
    "loc_added",
    "loc_deleted",
}


def _demo_folder(tmp_path):
    return demo.write(tmp_path / "data", demo.generate(users=12, days=10, seed=3))


def test_summary_json_has_every_kpi(tmp_path, capsys):
    folder = _demo_folder(tmp_path)
    assert main(["summary", "--data-dir", str(folder), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert KEYS <= set(result)
    assert result["days_covered"] == 10
    assert result["days_missing"] == 0


def test_summary_window_narrows_the_days(tmp_path, capsys):
    data = demo.generate(users=12, days=10, seed=3)
    folder = demo.write(tmp_path / "data", data)
    last = data.end.isoformat()
    assert main(["summary", "--data-dir", str(folder), "--since", last, "--until", last, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["days_covered"] == 1


def test_summary_text_output(tmp_path, capsys):
    folder = _demo_folder(tmp_path)
    assert main(["summary", "--data-dir", str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("acceptance_rate") for line in lines)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "copilot_lib.cli", *args], capture_output=True, text=True, check=False, timeout=120
    )


def test_missing_folder_exits_2_with_one_line(tmp_path):
    result = _run("summary", "--data-dir", str(tmp_path / "absent"))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "absent" in result.stderr


def test_bad_date_exits_2_with_one_line(tmp_path):
    result = _run("summary", "--data-dir", str(tmp_path), "--since", "2026-02-30")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "2026-02-30" in result.stderr


def test_reversed_range_exits_2(tmp_path):
    folder = _demo_folder(tmp_path)
    result = _run("summary", "--data-dir", str(folder), "--since", "2026-11-10", "--until", "2026-11-01")
    assert result.returncode == 2
    assert "after --until" in result.stderr


def test_malformed_file_exits_2_naming_file_and_line(tmp_path):
    (tmp_path / "bad.ndjson").write_text('{"day": "2026-11-01", "organization_id": "1"}\n{oops\n')
    result = _run("summary", "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert "bad.ndjson:2:" in result.stderr
