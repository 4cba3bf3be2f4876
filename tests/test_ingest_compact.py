"""Key columns taken for child rows keep only the dictionary values they use."""

from __future__ import annotations

import pyarrow as pa
import pytest

from copilot_lib.ingest import _compact


@pytest.mark.parametrize(
    ("codes", "values"),
    [
        ([2, 0, 2, 2], ["b", "a", "c"]),
        ([1, 1], ["b", "a", "c"]),
        ([0, 1, 2], ["b", "a", "c"]),
        ([1, None, 1], ["b", "a", "c"]),
        ([], ["b", "a"]),
    ],
)
def test_compact_keeps_used_values(codes, values):
    column = pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int32()), pa.array(values))
    compacted = _compact(column)
    assert compacted.to_pylist() == column.to_pylist()
    used = {value for value in column.to_pylist() if value is not None}
    assert len(compacted.dictionary.drop_null()) == len(used)
    remaining = {value for value in compacted.dictionary.to_pylist() if value is not None}
    assert remaining == used


def test_compact_leaves_plain_arrays():
    column = pa.array([3, 1, 2])
    assert _compact(column) is column
