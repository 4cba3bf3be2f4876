"""The export command writes every table, in CSV or Parquet, with the values it loaded."""

from __future__ import annotations

import pandas as pd
import pytest
from model_builders import SAMPLES

from copilot_lib import demo
from copilot_lib.cli import main
from copilot_lib.legacy import add_legacy_tables
from copilot_lib.tables import load_folder


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    demo.write(folder, demo.generate(users=20, days=7, seed=2))
    legacy = SAMPLES / "legacy" / "organization_usage_response_sample.json"
    (folder / "legacy-usage.json").write_bytes(legacy.read_bytes())
    return folder


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_export_writes_every_table(data_dir, tmp_path, file_format, capsys):
    status = main(["export", "--data-dir", str(data_dir), "--out", str(tmp_path), "--format", file_format])
    assert status == 0
    tables = add_legacy_tables(load_folder(data_dir))
    written = {path.stem for path in tmp_path.iterdir()}
    assert written == set(tables.frames)
    assert "wrote" in capsys.readouterr().out


def test_export_csv_values(data_dir, tmp_path):
    main(["export", "--data-dir", str(data_dir), "--out", str(tmp_path)])
    tables = load_folder(data_dir)
    exported = pd.read_csv(tmp_path / "user_daily.csv")
    assert len(exported) == len(tables.user_daily)
    assert exported["code_generation_activity_count"].sum() == tables.user_daily["code_generation_activity_count"].sum()
    assert exported["day"].iloc[0] == tables.user_daily["day"].iloc[0].strftime("%Y-%m-%d")
    legacy = pd.read_csv(tmp_path / "legacy_usage_daily.csv")
    assert len(legacy) == 24


def test_export_parquet_keeps_types(data_dir, tmp_path):
    main(["export", "--data-dir", str(data_dir), "--out", str(tmp_path), "--format", "parquet"])
    frame = pd.read_parquet(tmp_path / "user_daily.parquet")
    assert frame["user_id"].dtype == "Int64"
    assert frame["day"].dtype.kind == "M"


def test_export_rejects_unknown_format(data_dir, tmp_path, capsys):
    with pytest.raises(SystemExit) as error:
        main(["export", "--data-dir", str(data_dir), "--out", str(tmp_path), "--format", "xlsx"])
    assert error.value.code == 2


def test_export_missing_folder(tmp_path, capsys):
    status = main(["export", "--data-dir", str(tmp_path / "absent"), "--out", str(tmp_path / "out")])
    assert status == 2
    assert "does not exist" in capsys.readouterr().err


def test_summary_has_health_and_adoption(data_dir, capsys):
    import json

    assert main(["summary", "--data-dir", str(data_dir), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert "adoption_rate" in result
    assert set(result["health"]) >= {
        "days_present",
        "days_missing",
        "days_settling",
        "unknown_share",
    }


def test_summary_without_seats_has_no_adoption(tmp_path, capsys):
    import json

    (tmp_path / "users.ndjson").write_text(
        json.dumps(
            {
                "day": "2026-11-01",
                "organization_id": "1",
                "user_id": 1,
                "user_initiated_interaction_count": 1,
            }
        )
    )
    assert main(["summary", "--data-dir", str(tmp_path), "--json"]) == 0
    assert "adoption_rate" not in json.loads(capsys.readouterr().out)


def test_export_out_is_a_file(data_dir, tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("")
    status = main(["export", "--data-dir", str(data_dir), "--out", str(target)])
    err = capsys.readouterr().err
    assert status == 2
    assert f"cannot export to {target}: it is a file" in err
    assert "Traceback" not in err


def test_export_out_cannot_be_created(data_dir, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    status = main(["export", "--data-dir", str(data_dir), "--out", str(blocker / "out")])
    err = capsys.readouterr().err
    assert status == 2
    assert f"cannot create the export folder {blocker / 'out'}" in err
