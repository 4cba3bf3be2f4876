"""Property tests: parsers survive missing, null, extra and mistyped fields.

The only error a report file may raise is ReportFormatError. The normal run draws over
2,000 examples in a few seconds; ``pytest -m slow`` runs ten times as many.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copilot_lib import schema
from copilot_lib.errors import ReportFormatError
from copilot_lib.flatten import Flattener
from copilot_lib.legacy import legacy_tables
from copilot_lib.reports import Provenance, Record, classify, decode_values
from copilot_lib.tables import build_tables


def fast(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["2026-11-01", "2026-11-01T10:00:00Z", "2026-02-30", "0001-01-01", "", "unknown", "12"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=3,
)


def _field_value(good: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly the right type, sometimes null or anything at all."""
    return st.one_of(good, good, st.none(), values)


counter_values = _field_value(st.integers(min_value=0, max_value=10**6))
element = st.fixed_dictionaries(
    {},
    optional={
        "ide": _field_value(st.sampled_from(["vscode", "jetbrains", ""])),
        "feature": _field_value(st.sampled_from(["code_completion", "agent_edit", "chat_panel_ask_mode"])),
        "language": _field_value(st.sampled_from(["python", "unknown", ""])),
        "model": _field_value(st.sampled_from(["gpt-5.1", "unknown"])),
        "agent_id": values,
        "comment_type": values,
        "last_known_ide_version": values,
        "last_known_plugin_version": values,
        **{name: counter_values for name in schema.COUNTERS[:3]},
    },
)
arrays = st.one_of(st.lists(st.one_of(element, element, values), max_size=3), values)
session_block = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "session_count": counter_values,
            "request_count": counter_values,
            "token_usage": values,
            "last_known_cli_version": values,
        },
    ),
    values,
)
base = {
    "day": _field_value(st.sampled_from(["2026-11-01", "2026-11-02"])),
    "organization_id": _field_value(st.sampled_from(["1", "2"])),
}
optional = {
    "enterprise_id": _field_value(st.sampled_from(["9"])),
    "user_login": values,
    "ai_credits_used": _field_value(st.floats(min_value=0, max_value=100)),
    "ai_adoption_phase": values,
    "used_copilot_coding_agent": _field_value(st.booleans()),
    "created_at": values,
    "report_start_day": values,
    "report_end_day": values,
    "pull_requests": st.one_of(
        values,
        st.fixed_dictionaries(
            {},
            optional={
                "total_created": counter_values,
                "copilot_suggestions_by_comment_type": arrays,
            },
        ),
    ),
    "totals_by_cli": session_block,
    "totals_by_copilot_app": session_block,
    "chat_panel_agent_mode": counter_values,
    "unexpected_field": values,
    **{name: counter_values for name in (*schema.COUNTERS[:3], *schema.ENTITY_USER_COUNTS[:2])},
    **{name: _field_value(st.booleans()) for name in schema.USER_FLAGS[:3]},
    **{
        f"totals_by_{name}": arrays
        for name in (
            "ide",
            "feature",
            "language_feature",
            "language_model",
            "model_feature",
            "3rd_party_agent",
            "ai_adoption_phase",
        )
    },
}
entity_records = st.fixed_dictionaries(base, optional=optional)
user_records = st.fixed_dictionaries({**base, "user_id": _field_value(st.integers(1, 5))}, optional=optional)
team_rows = st.fixed_dictionaries({**base, "user_id": values, "team_id": values}, optional={"slug": values})
repo_rows = st.fixed_dictionaries({**base, "repo_id": values}, optional={"pull_requests": values, "repo_name": values})
seat_listings = st.fixed_dictionaries(
    {
        "seats": st.one_of(
            values,
            st.lists(
                st.one_of(
                    values,
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "assignee": values,
                            "created_at": values,
                            "organization": values,
                            "assigning_team": values,
                            "last_activity_at": values,
                            "pending_cancellation_date": values,
                        },
                    ),
                )
            ),
        )
    },
    optional={"total_seats": values},
)
legacy_days = st.one_of(
    st.fixed_dictionaries(
        {"date": values},
        optional={
            "total_active_users": values,
            "copilot_ide_chat": values,
            "copilot_ide_code_completions": values,
            "copilot_dotcom_chat": values,
        },
    ),
    st.fixed_dictionaries({"day": values, "breakdown": st.one_of(values, st.lists(values))}),
    st.fixed_dictionaries({"team": values, "data": st.one_of(values, st.lists(values))}),
)
any_record = st.one_of(entity_records, user_records, team_rows, repo_rows, seat_listings, legacy_days, values)


def _records(objects: list) -> list[Record]:
    source = Provenance("generated.ndjson", 1, None, None)
    return [Record(classify(obj), obj, source) for obj in objects if isinstance(obj, dict)]


@fast(1500)
@given(any_record)
def test_flattener_accepts_any_record(obj):
    flattener = Flattener()
    for record in _records([obj]):
        flattener.add(record)
    try:
        tables = flattener.tables()
    except ReportFormatError as exc:
        # A user's counter beyond the 32-bit column it is stored in.
        assert "32-bit" in str(exc)
        return
    assert set(tables) >= {"entity_daily", "user_daily", "user_by_feature"}


@fast(400)
@given(
    st.binary(max_size=200)
    | st.lists(any_record, max_size=3).map(
        lambda objs: "\n".join(json.dumps(obj, default=str) for obj in objs).encode()
    )
)
def test_decode_raises_only_report_format_error(raw):
    try:
        list(decode_values(raw, "generated.ndjson"))
    except ReportFormatError:
        pass


@fast(70)
@given(
    st.lists(
        st.one_of(entity_records, user_records, seat_listings, legacy_days, team_rows),
        min_size=1,
        max_size=3,
    )
)
def test_build_tables_accepts_any_record(objects):
    records = _records(objects)
    tables = build_tables(records)
    assert tables.user_daily["user_id"].dtype == "Int64"
    assert str(tables.entity_daily["day"].dtype) == "datetime64[ns]"
    legacy_tables(tables.legacy_records)


@fast(40)
@given(st.lists(user_records, min_size=1, max_size=3))
def test_user_ids_always_integers(objects):
    frame = build_tables(_records(objects)).user_daily
    assert all(isinstance(value, int) for value in frame["user_id"].dropna().tolist())


@pytest.mark.slow
@settings(max_examples=20_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(any_record, min_size=1, max_size=6))
def test_flattener_accepts_any_record_long(objects):
    flattener = Flattener()
    for record in _records(objects):
        flattener.add(record)
    try:
        flattener.tables()
    except ReportFormatError as exc:
        # A user's counter beyond the 32-bit column it is stored in.
        assert "32-bit" in str(exc)


@pytest.mark.slow
@settings(max_examples=2_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(any_record, min_size=1, max_size=6))
def test_build_tables_accepts_any_record_long(objects):
    build_tables(_records(objects))
