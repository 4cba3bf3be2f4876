"""Builders of small report records for the data-model tests, shaped like GitHub's."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from copilot_lib.schema import COUNTERS
from copilot_lib.tables import Tables, load_folder

# The shared sample folder sits beside the repository, in CI as on a developer's machine.
SHARED = Path(os.environ.get("COPILOT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
SAMPLES = SHARED / "cmv-samples"


def counters(interactions: int = 0, generations: int = 0, acceptances: int = 0, **extra: int) -> dict[str, int]:
    block = dict.fromkeys(COUNTERS, 0)
    block.update(
        user_initiated_interaction_count=interactions,
        code_generation_activity_count=generations,
        code_acceptance_activity_count=acceptances,
    )
    block.update(extra)
    return block


def user(
    day: str,
    user_id: int,
    interactions: int = 0,
    generations: int = 0,
    acceptances: int = 0,
    org: str | None = "1",
    enterprise: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    record: dict[str, Any] = {"day": day, "user_id": user_id, "user_login": f"user-{user_id}"}
    if org is not None:
        record["organization_id"] = org
    if enterprise is not None:
        record["enterprise_id"] = enterprise
    record.update(counters(interactions, generations, acceptances))
    record.update(extra)
    return record


def entity(
    day: str,
    interactions: int = 0,
    generations: int = 0,
    acceptances: int = 0,
    org: str | None = "1",
    enterprise: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    record: dict[str, Any] = {"day": day}
    if org is not None:
        record["organization_id"] = org
    if enterprise is not None:
        record["enterprise_id"] = enterprise
    record.update(counters(interactions, generations, acceptances))
    record.update(extra)
    return record


def membership(day: str, user_id: int, team_id: int, slug: str, org: str = "1") -> dict[str, Any]:
    return {
        "user_id": user_id,
        "user_login": f"user-{user_id}",
        "day": day,
        "organization_id": org,
        "team_id": team_id,
        "slug": slug,
    }


def write_ndjson(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def load_records(folder: Path, records: list[dict[str, Any]], name: str = "report.ndjson") -> Tables:
    write_ndjson(folder / name, records)
    return load_folder(folder)
