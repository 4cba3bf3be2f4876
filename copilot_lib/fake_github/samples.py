"""Small, plain sample records for the fake GitHub server: seats, teams, report rows.

They carry GitHub's field names and types but only the fields a client needs to handle; a
richer demo data set can be passed to the server as plain dicts instead.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from copilot_lib.config import SETTLING_DAYS


def make_seats(count: int, *, seed: int = 1, first_user_id: int = 7_300_000) -> list[dict[str, Any]]:
    """Return ``count`` seat objects; every tenth has ``assignee: null`` or no activity."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not security
    seats = []
    for index in range(count):
        user_id = first_user_id + index
        login = f"octocat-{index + 1}"
        active = index % 10 != 3
        seats.append(
            {
                "created_at": "2026-02-03T09:12:44Z",
                "updated_at": "2026-02-03T09:12:44Z",
                "pending_cancellation_date": "2026-09-01" if index % 25 == 7 else None,
                "last_activity_at": (f"2026-08-{rng.randint(1, 26):02d}T17:55:02Z" if active else None),
                "last_activity_editor": "vscode/1.131.2/copilot-chat/0.58.1" if active else None,
                "last_authenticated_at": "2026-08-26T08:01:13Z" if active else None,
                "plan_type": "business",
                "assignee": None
                if index % 10 == 9
                else {
                    "login": login,
                    "id": user_id,
                    "node_id": f"U_{user_id}",
                    "type": "User",
                    "site_admin": False,
                    "html_url": f"https://github.com/{login}",
                },
                "assigning_team": None,
            }
        )
    return seats


def make_teams(org_login: str, org_id: int, slugs: list[str]) -> list[dict[str, Any]]:
    """Return team objects with the given slugs."""
    return [
        {
            "id": 900_000 + index,
            "node_id": f"T_{900_000 + index}",
            "name": slug.replace("-", " ").title(),
            "slug": slug,
            "description": None,
            "privacy": "closed",
            "notification_setting": "notifications_enabled",
            "permission": "pull",
            "html_url": f"https://github.com/orgs/{org_login}/teams/{slug}",
            "type": "organization",
            "organization_id": org_id,
            "parent": None,
        }
        for index, slug in enumerate(slugs)
    ]


def make_user_days(org_id: int, day: date, user_count: int, *, seed: int = 1) -> list[dict[str, Any]]:
    """Return one users-1-day row per user for ``day``, with a few counters filled in."""
    rng = random.Random(f"{seed}-{day.isoformat()}")  # noqa: S311
    rows = []
    for index in range(user_count):
        generations = rng.randint(0, 60)
        rows.append(
            {
                "day": day.isoformat(),
                "organization_id": str(org_id),
                "user_id": 7_300_000 + index,
                "user_login": f"octocat-{index + 1}",
                "user_initiated_interaction_count": rng.randint(0, 40),
                "code_generation_activity_count": generations,
                "code_acceptance_activity_count": rng.randint(0, generations),
                "loc_suggested_to_add_sum": generations * 3,
                "loc_added_sum": generations * 2,
                "used_agent": rng.random() < 0.3,
                "used_chat": rng.random() < 0.6,
                "totals_by_ide": [{"ide": "vscode", "user_initiated_interaction_count": 1}],
            }
        )
    return rows


def make_org_day(org_id: int, day: date, user_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the organization-1-day row that sums ``user_rows``."""
    active = [row for row in user_rows if row["user_initiated_interaction_count"] > 0]
    return {
        "day": day.isoformat(),
        "organization_id": str(org_id),
        "daily_active_users": len(active),
        "user_initiated_interaction_count": sum(row["user_initiated_interaction_count"] for row in user_rows),
        "code_generation_activity_count": sum(row["code_generation_activity_count"] for row in user_rows),
        "code_acceptance_activity_count": sum(row["code_acceptance_activity_count"] for row in user_rows),
    }


def recent_days(count: int, today: date | None = None) -> list[date]:
    """Return the ``count`` days that end yesterday (UTC), oldest first."""
    end = (today or datetime.now(UTC).date()) - timedelta(days=1)
    return [end - timedelta(days=offset) for offset in range(count - 1, -1, -1)]


def settled_days(count: int, today: date | None = None) -> list[date]:
    """Return the ``count`` days that end at the newest settled day (UTC), oldest first.

    These are the days an archive run fetches; the ``SETTLING_DAYS`` days after them are not.
    """
    end = (today or datetime.now(UTC).date()) - timedelta(days=SETTLING_DAYS + 1)
    return [end - timedelta(days=offset) for offset in range(count - 1, -1, -1)]
