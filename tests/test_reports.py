"""Reading report files: every accepted form, and clear errors for malformed ones."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from copilot_lib.errors import DataDirError, ReportFormatError
from copilot_lib.reports import RecordKind, read_folder, read_report_file
from copilot_lib.tables import load_folder

ORG_DAY = {
    "day": "2026-11-02",
    "organization_id": "4455667",
    "daily_active_users": 3,
    "user_initiated_interaction_count": 10,
    "code_generation_activity_count": 20,
    "code_acceptance_activity_count": 5,
    "totals_by_feature": [{"feature": "code_completion", "code_generation_activity_count": 20}],
}
USER_DAY = {
    "day": "2026-11-02",
    "organization_id": "4455667",
    "user_id": 7301122,
    "user_login": "octocat-1",
    "user_initiated_interaction_count": 4,
    "code_generation_activity_count": 9,
    "code_acceptance_activity_count": 2,
}


def _kinds(path: Path) -> list[RecordKind]:
    return [record.kind for record in read_report_file(path)]


def test_ndjson_lines_are_records(tmp_path):
    path = tmp_path / "report.ndjson"
    path.write_text(json.dumps(ORG_DAY) + "\n" + json.dumps(USER_DAY) + "\n")
    assert _kinds(path) == [RecordKind.ENTITY_DAY, RecordKind.USER_DAY]


def test_json_array_of_records(tmp_path):
    path = tmp_path / "report.json"
    path.write_text(json.dumps([ORG_DAY, USER_DAY], indent=2))
    assert _kinds(path) == [RecordKind.ENTITY_DAY, RecordKind.USER_DAY]


def test_single_pretty_printed_object(tmp_path):
    path = tmp_path / "report.json"
    path.write_text(json.dumps(ORG_DAY, indent=2))
    assert _kinds(path) == [RecordKind.ENTITY_DAY]


def test_day_totals_wrapper_is_exploded_and_inherits_ids(tmp_path):
    second = {key: value for key, value in ORG_DAY.items() if key != "organization_id"}
    second["day"] = "2026-11-03"
    wrapper = {
        "organization_id": "4455667",
        "report_start_day": "2026-11-02",
        "report_end_day": "2026-11-03",
        "created_at": "2026-11-05T03:00:00Z",
        "day_totals": [ORG_DAY, second],
    }
    path = tmp_path / "export.json"
    path.write_text(json.dumps(wrapper))
    records = list(read_report_file(path))
    assert [record.kind for record in records] == [RecordKind.ENTITY_DAY, RecordKind.ENTITY_DAY]
    assert records[1].data["organization_id"] == "4455667"
    assert records[1].source.span_days == 2
    assert records[1].source.created_at == "2026-11-05T03:00:00Z"


def test_array_of_wrappers_one_per_entity(tmp_path):
    wrappers = [
        {"organization_id": "1", "day_totals": [{**ORG_DAY, "organization_id": "1"}]},
        {"organization_id": "2", "day_totals": [{**ORG_DAY, "organization_id": "2"}]},
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(wrappers))
    tables = load_folder(tmp_path)
    assert sorted(tables.entity_daily["entity_id"].astype(str)) == ["1", "2"]


def test_kind_comes_from_content_not_file_name(tmp_path):
    path = tmp_path / "organization-1-day.ndjson"
    path.write_text(json.dumps(USER_DAY))
    assert _kinds(path) == [RecordKind.USER_DAY]


def test_user_records_in_day_totals(tmp_path):
    path = tmp_path / "users.json"
    path.write_text(json.dumps({"organization_id": "4455667", "day_totals": [USER_DAY]}))
    assert _kinds(path) == [RecordKind.USER_DAY]


def test_blank_lines_and_missing_final_newline(tmp_path):
    path = tmp_path / "report.ndjson"
    path.write_text("\n\n" + json.dumps(ORG_DAY) + "\n   \n\n" + json.dumps(USER_DAY))
    assert _kinds(path) == [RecordKind.ENTITY_DAY, RecordKind.USER_DAY]


def test_empty_file_has_no_records(tmp_path):
    path = tmp_path / "empty.ndjson"
    path.write_text("")
    assert _kinds(path) == []


def test_unknown_fields_and_absent_blocks_are_tolerated(tmp_path):
    record = {"day": "2026-11-02", "organization_id": "1", "brand_new_field": {"x": [1, 2]}, "etl_id": "abc"}
    path = tmp_path / "report.ndjson"
    path.write_text(json.dumps(record))
    tables = load_folder(tmp_path)
    row = tables.entity_daily.iloc[0]
    assert row["entity_id"] == "1"
    assert pd.isna(row["daily_active_users"])
    assert tables["entity_by_feature"].empty


def test_gzip_compressed_file(tmp_path):
    path = tmp_path / "report.ndjson.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(json.dumps(ORG_DAY) + "\n")
    assert _kinds(path) == [RecordKind.ENTITY_DAY]


def test_bare_string_body_means_no_report(tmp_path):
    path = tmp_path / "report.json"
    path.write_text(json.dumps("No report available for this day"))
    assert _kinds(path) == []


def test_download_link_envelope_is_recognised(tmp_path):
    path = tmp_path / "links.json"
    path.write_text(json.dumps({"download_links": ["https://example.invalid/x"], "report_day": "2026-11-02"}))
    assert _kinds(path) == [RecordKind.ENVELOPE]


def test_malformed_ndjson_line_names_file_and_line(tmp_path):
    path = tmp_path / "report.ndjson"
    path.write_text(json.dumps(ORG_DAY) + "\n\n" + '{"day": "2026-11-03", "organization_id": \n' + json.dumps(USER_DAY))
    with pytest.raises(ReportFormatError) as caught:
        list(read_report_file(path))
    assert caught.value.line == 3
    assert str(path) in str(caught.value)
    assert ":3:" in str(caught.value)


def test_malformed_pretty_json_names_the_line(tmp_path):
    path = tmp_path / "report.json"
    path.write_text('{\n  "day_totals": [\n    {"day": "2026-11-02",}\n  ]\n}\n')
    with pytest.raises(ReportFormatError) as caught:
        list(read_report_file(path))
    assert caught.value.line == 3


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataDirError, match="does not exist"):
        list(read_folder(tmp_path / "absent"))


def test_folder_without_report_files(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataDirError, match="no report files"):
        list(read_folder(tmp_path))


def test_hidden_files_are_ignored(tmp_path):
    (tmp_path / ".partial.ndjson").write_text("{not json")
    (tmp_path / "report.ndjson").write_text(json.dumps(ORG_DAY))
    assert [record.kind for record in read_folder(tmp_path)] == [RecordKind.ENTITY_DAY]
