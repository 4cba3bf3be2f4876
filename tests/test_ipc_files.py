"""Worker tables reach the parent through Arrow IPC files that are removed afterwards."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from model_builders import user, write_ndjson

from copilot_lib import ingest, ipc_files
from copilot_lib.errors import ReportFormatError
from copilot_lib.tables import load_folder


def test_table_round_trip_deletes_file(tmp_path):
    table = pa.table({"user_id": [1, 2, None], "feature": ["chat", None, "agent"]})
    path = ipc_files.write_table(table, str(tmp_path))
    assert Path(path).exists()
    read = ipc_files.read_table(path)
    assert not Path(path).exists()
    assert read.equals(table)


def test_chunks_with_own_dictionaries_round_trip(tmp_path):
    first = pa.array(["chat", "agent"]).dictionary_encode()
    second = pa.array(["review", "chat"]).dictionary_encode()
    table = pa.table({"feature": pa.chunked_array([first, second])})
    read = ipc_files.read_table(ipc_files.write_table(table, str(tmp_path)))
    assert read.column("feature").to_pylist() == ["chat", "agent", "review", "chat"]


def test_folder_without_shared_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(ipc_files, "SHARED_MEMORY", str(tmp_path / "missing"))
    with ipc_files.temporary_folder(1024) as folder:
        assert Path(folder).parent == Path(tempfile.gettempdir())
    assert not Path(folder).exists()


def test_folder_in_shared_memory_with_room(tmp_path, monkeypatch):
    monkeypatch.setattr(ipc_files, "SHARED_MEMORY", str(tmp_path))
    with ipc_files.temporary_folder(1024) as folder:
        assert Path(folder).parent == tmp_path
    assert not Path(folder).exists()


def test_unwritable_folder_keeps_tables_in_chunk(tmp_path):
    records = [user("2026-11-01", number, 2, 4, 1) for number in range(1, 50)]
    path = write_ndjson(tmp_path / "users.ndjson", records)
    chunks = ingest.read_parts_to_files([ingest.Part(str(path))], str(tmp_path / "missing"), 0)
    assert chunks[0].files == {}
    assert chunks[0].tables["user_daily"].num_rows == 49


@pytest.fixture
def spill_folder(tmp_path, monkeypatch):
    """Send every worker table through a file under a folder the test can inspect."""
    shared = tmp_path / "shm"
    shared.mkdir()
    monkeypatch.setattr(ipc_files, "SHARED_MEMORY", str(shared))
    monkeypatch.setattr(ingest, "FILE_MIN_BYTES", 0)
    monkeypatch.setattr(ingest, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingest, "PART_BYTES", 16 * 1024)
    return shared


def test_parallel_load_removes_its_files(tmp_path, spill_folder):
    records = [user("2026-11-01", number, 2, 4, 1) for number in range(1, 300)]
    write_ndjson(tmp_path / "data" / "users.ndjson", records)
    alone = load_folder(tmp_path / "data", workers=1)
    parallel = load_folder(tmp_path / "data", workers=2)
    for name, frame in alone.frames.items():
        pd.testing.assert_frame_equal(parallel.frames[name], frame, obj=name)
    assert list(spill_folder.iterdir()) == []


def test_parallel_error_removes_its_files(tmp_path, spill_folder):
    lines = [json.dumps(user("2026-11-01", number, 1)) for number in range(1, 300)]
    lines[250] = "{not json"
    path = tmp_path / "data" / "users.ndjson"
    path.parent.mkdir()
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ReportFormatError) as caught:
        load_folder(tmp_path / "data", workers=2)
    assert caught.value.line == 251
    assert list(spill_folder.iterdir()) == []
