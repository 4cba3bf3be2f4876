"""The JupyterLab exploration notebook runs top to bottom on demo data and on real samples."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = Path(os.environ.get("COPILOT_SHARED_DATA", ROOT.parent / "shared" / "data")) / "cmv-samples" / "reports"


def _execute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_dir: Path | None) -> nbformat.NotebookNode:
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    if data_dir is None:
        monkeypatch.delenv("COPILOT_DATA_DIR", raising=False)
    else:
        monkeypatch.setenv("COPILOT_DATA_DIR", str(data_dir))
    notebook = nbformat.read(ROOT / "notebooks" / "explore.ipynb", as_version=4)
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    return notebook


def _errors(notebook: nbformat.NotebookNode) -> list[str]:
    return [
        output.get("ename", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]


def test_explore_runs_on_demo_data(tmp_path, monkeypatch):
    notebook = _execute(tmp_path, monkeypatch, None)
    assert _errors(notebook) == []


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"sample reports not found at {SAMPLES}")
def test_explore_runs_on_sample_reports(tmp_path, monkeypatch):
    notebook = _execute(tmp_path, monkeypatch, SAMPLES)
    assert _errors(notebook) == []
