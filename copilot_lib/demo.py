"""Generate demo Copilot usage data shaped exactly like GitHub's reports.

The generator writes the files GitHub's usage metrics reports serve (NDJSON, one record per
line) plus the seats, billing and teams responses, for N users over D days. The output is
deterministic for a given seed and end day, and contains what real data contains: users
whose counters are all zero (GitHub detects them from server-side telemetry), ``unknown``
languages and models, IDE breakdowns that sum to less than the totals, ``agent_edit`` lines
added with nothing suggested, teams below GitHub's five-user floor, and seats never used.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

logger = logging.getLogger(__name__)

DEMO_ORG_ID = "4455667"
DEMO_ENTERPRISE_ID = "88001"
DEMO_ORG_LOGIN = "demo-org"

IDES = (("vscode", 0.62), ("jetbrains", 0.2), ("visualstudio", 0.09), ("neovim", 0.05), ("xcode", 0.04))
IDE_VERSIONS = {
    "vscode": ("1.129.0", "1.131.2", "1.133.1"),
    "jetbrains": ("2025.3.2", "2026.1.1", "2026.2"),
    "visualstudio": ("17.14.8", "18.0.2"),
    "neovim": ("0.10.4", "0.11.2"),
    "xcode": ("16.4", "26.1"),
}
PLUGINS = {
    "vscode": ("copilot-chat", ("0.31.0", "0.56.2", "0.58.1")),
    "jetbrains": ("copilot-intellij", ("1.5.40", "1.7.2")),
    "visualstudio": ("copilot-vs", ("17.14.540", "18.0.310")),
    "neovim": ("copilot.vim", ("1.41.0", "1.52.0")),
    "xcode": ("copilot-xcode", ("0.38.0", "0.44.1")),
}
LANGUAGES = ("python", "typescript", "java", "go", "csharp", "javascript", "rust", "kotlin", "sql", "yaml")
CHAT_MODELS = ("claude-sonnet-4.5", "gpt-5.1", "gemini-2.5-pro", "gpt-4.1", "unknown")
CHAT_FEATURES = (
    ("chat_panel_ask_mode", 0.45),
    ("chat_panel_agent_mode", 0.3),
    ("chat_panel_edit_mode", 0.1),
    ("chat_inline", 0.1),
    ("chat_panel_plan_mode", 0.03),
    ("chat_panel_custom_mode", 0.02),
)
TEAMS = (
    ("Payments", "payments", 14),
    ("Platform", "platform", 12),
    ("Mobile", "mobile", 9),
    ("Data", "data", 8),
    ("Web", "web", 11),
    ("Security", "security", 3),  # below GitHub's five-user floor: absent from user-teams
)
REPOSITORIES = ("payments-api", "web-frontend", "mobile-app", "data-pipeline", "platform-infra", "docs")
ADJECTIVES = ("brisk", "calm", "eager", "gentle", "lucky", "quiet", "rapid", "sunny", "witty", "bold", "keen", "merry")
ANIMALS = ("otter", "heron", "lynx", "panda", "falcon", "badger", "koala", "marten", "ibis", "gecko", "orca", "wren")


@dataclass(frozen=True)
class DemoUser:
    """A generated Copilot user and the habits that drive their daily activity."""

    user_id: int
    login: str
    activity: float
    ide: str
    languages: tuple[str, ...]
    chat: float
    agent: float
    cli: bool
    start: int
    teams: tuple[int, ...]
    phase: int


@dataclass
class DemoData:
    """Generated report records, by report name, and the seats, billing and teams bodies."""

    start: date
    end: date
    reports: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    seats: dict[str, Any] = field(default_factory=dict)
    billing: dict[str, Any] = field(default_factory=dict)
    teams: list[dict[str, Any]] = field(default_factory=list)


def default_end_day(today: date | None = None) -> date:
    """Return the newest day GitHub would serve a report for: two UTC days ago.

    That day is still settling (see :func:`copilot_lib.health.is_settling`), as the newest
    days of a real report are, so the demo shows settling days too.
    """
    today = today or datetime.now(UTC).date()
    return today - timedelta(days=2)


def _weighted(rng: random.Random, choices: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([name for name, _ in choices], weights=[weight for _, weight in choices])[0]


def _make_users(rng: random.Random, count: int, days: int) -> list[DemoUser]:
    team_members: list[list[int]] = [[] for _ in TEAMS]
    users = []
    for index in range(count):
        login = f"{rng.choice(ADJECTIVES)}-{rng.choice(ANIMALS)}-{index + 1:03d}"
        roll = rng.random()
        # About one user in ten never uses Copilot; others range from daily to occasional.
        activity = 0.0 if roll < 0.1 else rng.uniform(0.15, 0.95)
        teams = tuple(sorted(rng.sample(range(len(TEAMS) - 1), k=1 if rng.random() < 0.8 else 2)))
        users.append(
            DemoUser(
                user_id=7_300_000 + index * 17,
                login=login,
                activity=activity,
                ide=_weighted(rng, IDES),
                languages=tuple(rng.sample(LANGUAGES, k=rng.randint(1, 3))),
                chat=rng.uniform(0.2, 1.0),
                agent=rng.uniform(0.0, 0.8),
                cli=rng.random() < 0.25,
                # Adoption grows: later users join part-way through the period.
                start=0 if rng.random() < 0.7 else rng.randint(0, max(days - 1, 0)),
                teams=teams,
                phase=rng.randint(1, 4),
            )
        )
        for team in teams:
            team_members[team].append(index)
    # Give the small team its members, so it exists in the teams list but stays under five.
    small = len(TEAMS) - 1
    for index in rng.sample(range(count), k=min(TEAMS[small][2], count)):
        users[index] = replace(users[index], teams=(*users[index].teams, small))
    return users


def _counters(
    generations: int, acceptances: int, interactions: int, suggested: int, added: int, deleted: int
) -> dict[str, int]:
    return {
        "user_initiated_interaction_count": interactions,
        "code_generation_activity_count": generations,
        "code_acceptance_activity_count": acceptances,
        "loc_suggested_to_add_sum": suggested,
        "loc_suggested_to_delete_sum": 0,
        "loc_added_sum": added,
        "loc_deleted_sum": deleted,
    }


def _add(total: dict[str, int], part: dict[str, int]) -> None:
    for key, value in part.items():
        total[key] = total.get(key, 0) + value


def _feature_activity(rng: random.Random, user: DemoUser, intensity: float) -> dict[str, dict[str, int]]:
    """Return the counter block of each feature a user touched on one day."""
    features: dict[str, dict[str, int]] = {}
    generations = int(rng.gammavariate(2.0, 12.0) * intensity)
    if generations:
        acceptances = sum(rng.random() < 0.3 for _ in range(generations))
        suggested = generations * rng.randint(2, 5)
        features["code_completion"] = _counters(
            generations, acceptances, 0, suggested, acceptances * rng.randint(1, 4), 0
        )
    if rng.random() < user.chat:
        for _ in range(rng.randint(1, 2)):
            feature = _weighted(rng, CHAT_FEATURES)
            prompts = rng.randint(1, 12)
            blocks = rng.randint(0, prompts * 2)
            accepted = sum(rng.random() < 0.35 for _ in range(blocks))
            suggested = blocks * rng.randint(3, 12)
            block = _counters(blocks, accepted, prompts, suggested, accepted * rng.randint(2, 8), rng.randint(0, 3))
            _add(features.setdefault(feature, dict.fromkeys(block, 0)), block)
    agent_prompts = features.get("chat_panel_agent_mode", {}).get("user_initiated_interaction_count", 0)
    if agent_prompts and rng.random() < user.agent + 0.2:
        # Agent edits write lines that were never offered as suggestions.
        edits = rng.randint(1, 6)
        features["agent_edit"] = _counters(edits, 0, 0, 0, rng.randint(20, 400), rng.randint(0, 120))
    return features


def _split(rng: random.Random, block: dict[str, int], parts: int) -> list[dict[str, int]]:
    """Split a counter block into ``parts`` blocks that sum exactly to it."""
    shares = [rng.random() + 0.1 for _ in range(parts)]
    scale = sum(shares)
    pieces = [dict.fromkeys(block, 0) for _ in range(parts)]
    for key, value in block.items():
        remaining = value
        for index in range(parts - 1):
            piece = min(remaining, int(value * shares[index] / scale))
            pieces[index][key] = piece
            remaining -= piece
        pieces[-1][key] = remaining
    return pieces


def _user_day(rng: random.Random, user: DemoUser, day: date, org_id: str) -> dict[str, Any] | None:
    record: dict[str, Any] = {
        "day": day.isoformat(),
        "organization_id": org_id,
        "enterprise_id": DEMO_ENTERPRISE_ID,
        "user_id": user.user_id,
        "user_login": user.login,
    }
    weekend = day.weekday() >= 5
    chance = user.activity * (0.25 if weekend else 1.0)
    if rng.random() >= chance:
        # Some seated users show up with every counter at zero: GitHub saw them server-side.
        if user.activity > 0 and rng.random() < 0.08:
            record.update(_counters(0, 0, 0, 0, 0, 0))
            record.update(
                {
                    f"totals_by_{name}": []
                    for name in ("ide", "feature", "language_feature", "language_model", "model_feature")
                }
            )
            record.update({"used_agent": False, "used_chat": False, "used_cli": False})
            return record
        return None

    features = _feature_activity(rng, user, rng.uniform(0.4, 1.6))
    totals: dict[str, int] = dict.fromkeys(_counters(0, 0, 0, 0, 0, 0), 0)
    for block in features.values():
        _add(totals, block)
    record.update(totals)

    by_language_feature = []
    for feature, block in features.items():
        languages = list(user.languages) if feature != "agent_edit" else ["unknown"]
        if feature != "agent_edit" and rng.random() < 0.05:
            languages.append("unknown")
        for language, part in zip(languages, _split(rng, block, len(languages)), strict=True):
            item = {"language": language, "feature": feature, **part}
            del item["user_initiated_interaction_count"]
            by_language_feature.append(item)

    by_model_feature = []
    by_language_model: dict[tuple[str, str], dict[str, int]] = {}
    for feature, block in features.items():
        if not feature.startswith(("chat", "agent")):
            continue  # model breakdowns cover chat and agent only, never completions
        model = rng.choice(CHAT_MODELS)
        by_model_feature.append({"model": model, "feature": feature, **block})
        part = dict(block)
        del part["user_initiated_interaction_count"]
        _add(by_language_model.setdefault((rng.choice(user.languages), model), dict.fromkeys(part, 0)), part)

    # IDE telemetry misses some activity, so the IDE breakdown can sum to less than the totals.
    ide_block = dict(totals)
    if rng.random() < 0.15:
        for key in ide_block:
            ide_block[key] = int(ide_block[key] * rng.uniform(0.6, 0.95))
    ide_version = rng.choice(IDE_VERSIONS[user.ide])
    plugin, plugin_versions = PLUGINS[user.ide]
    sampled_at = f"{day.isoformat()}T{rng.randint(8, 18):02d}:{rng.randint(0, 59):02d}:11.000Z"
    record["totals_by_ide"] = [
        {
            "ide": user.ide,
            **ide_block,
            "last_known_ide_version": {"ide_version": ide_version, "sampled_at": sampled_at},
            "last_known_plugin_version": {
                "plugin": plugin,
                "plugin_version": rng.choice(plugin_versions),
                "sampled_at": sampled_at,
            },
        }
    ]
    record["totals_by_feature"] = [{"feature": name, **block} for name, block in features.items()]
    record["totals_by_language_feature"] = by_language_feature
    record["totals_by_language_model"] = [
        {"language": language, "model": model, **block} for (language, model), block in by_language_model.items()
    ]
    record["totals_by_model_feature"] = by_model_feature
    used_cli = user.cli and rng.random() < 0.5
    if used_cli:
        requests = rng.randint(3, 40)
        output_tokens = requests * rng.randint(300, 900)
        prompt_tokens = requests * rng.randint(2000, 5000)
        record["totals_by_cli"] = {
            "session_count": rng.randint(1, 4),
            "request_count": requests,
            "prompt_count": rng.randint(1, requests),
            "token_usage": {
                "output_tokens_sum": output_tokens,
                "prompt_tokens_sum": prompt_tokens,
                "avg_tokens_per_request": round((output_tokens + prompt_tokens) / requests, 1),
            },
            "last_known_cli_version": {"cli_version": "1.2.3", "sampled_at": sampled_at},
        }
    record["used_agent"] = "chat_panel_agent_mode" in features or "agent_edit" in features
    record["used_chat"] = any(name.startswith("chat") for name in features)
    record["used_cli"] = used_cli
    record["used_copilot_cloud_agent"] = rng.random() < user.agent * 0.1
    record["used_copilot_code_review_active"] = rng.random() < 0.1
    record["used_copilot_code_review_passive"] = rng.random() < 0.2
    record["ai_credits_used"] = round(rng.uniform(0.5, 30.0) * (1 + len(features)), 2)
    record["ai_adoption_phase"] = {"phase": f"Phase {user.phase}", "phase_number": user.phase, "version": "v1"}
    return record


def _entity_day(
    day: date, org_id: str, rows: list[dict[str, Any]], history: dict[date, set[int]], rng: random.Random
) -> dict[str, Any]:
    """Aggregate one day's user rows into the organisation's day record, as GitHub does."""
    active_today = {row["user_id"] for row in rows if row.get("user_initiated_interaction_count", 0) > 0}
    history[day] = active_today

    def trailing(days: int) -> int:
        users: set[int] = set()
        for offset in range(days):
            users |= history.get(day - timedelta(days=offset), set())
        return len(users)

    record: dict[str, Any] = {
        "day": day.isoformat(),
        "organization_id": org_id,
        "enterprise_id": DEMO_ENTERPRISE_ID,
        "daily_active_users": len(active_today),
        "weekly_active_users": trailing(7),
        "monthly_active_users": trailing(28),
        "monthly_active_chat_users": int(trailing(28) * 0.8),
        "monthly_active_agent_users": int(trailing(28) * 0.5),
    }
    cli_users = sum(1 for row in rows if row.get("used_cli"))
    if cli_users:
        record["daily_active_cli_users"] = cli_users
    totals: dict[str, int] = dict.fromkeys(_counters(0, 0, 0, 0, 0, 0), 0)
    breakdowns: dict[str, dict[tuple[str, ...], dict[str, int]]] = {
        "totals_by_ide": {},
        "totals_by_feature": {},
        "totals_by_language_feature": {},
        "totals_by_language_model": {},
        "totals_by_model_feature": {},
    }
    keys = {
        "totals_by_ide": ("ide",),
        "totals_by_feature": ("feature",),
        "totals_by_language_feature": ("language", "feature"),
        "totals_by_language_model": ("language", "model"),
        "totals_by_model_feature": ("model", "feature"),
    }
    cli: dict[str, int] = {}
    for row in rows:
        _add(totals, {key: row.get(key, 0) for key in totals})
        for array, key_names in keys.items():
            for item in row.get(array, []):
                key = tuple(item[name] for name in key_names)
                counters = {
                    name: value for name, value in item.items() if isinstance(value, int) and name not in key_names
                }
                _add(breakdowns[array].setdefault(key, dict.fromkeys(counters, 0)), counters)
        if "totals_by_cli" in row:
            block = row["totals_by_cli"]
            _add(
                cli,
                {
                    "session_count": block["session_count"],
                    "request_count": block["request_count"],
                    "prompt_count": block["prompt_count"],
                    "output_tokens_sum": block["token_usage"]["output_tokens_sum"],
                    "prompt_tokens_sum": block["token_usage"]["prompt_tokens_sum"],
                },
            )
    record.update(totals)
    for array, items in breakdowns.items():
        record[array] = [
            {**dict(zip(keys[array], key, strict=True)), **counters} for key, counters in sorted(items.items())
        ]
    if cli:
        record["totals_by_cli"] = {
            "session_count": cli["session_count"],
            "request_count": cli["request_count"],
            "prompt_count": cli["prompt_count"],
            "token_usage": {
                "output_tokens_sum": cli["output_tokens_sum"],
                "prompt_tokens_sum": cli["prompt_tokens_sum"],
                "avg_tokens_per_request": round(
                    (cli["output_tokens_sum"] + cli["prompt_tokens_sum"]) / max(cli["request_count"], 1), 1
                ),
            },
        }
    created = rng.randint(20, 60)
    merged = int(created * rng.uniform(0.6, 0.9))
    record["pull_requests"] = {
        "total_created": created,
        "total_reviewed": int(created * rng.uniform(1.0, 1.5)),
        "total_merged": merged,
        "median_minutes_to_merge": round(rng.uniform(90, 400), 1),
        "total_suggestions": rng.randint(40, 120),
        "total_applied_suggestions": rng.randint(10, 40),
        "total_created_by_copilot": rng.randint(0, 8),
        "total_reviewed_by_copilot": rng.randint(5, 30),
        "total_merged_created_by_copilot": rng.randint(0, 5),
        "total_merged_reviewed_by_copilot": rng.randint(3, 20),
        "median_minutes_to_merge_copilot_authored": round(rng.uniform(60, 200), 1),
        "median_minutes_to_merge_copilot_reviewed": round(rng.uniform(80, 300), 1),
        "total_copilot_suggestions": rng.randint(20, 60),
        "total_copilot_applied_suggestions": rng.randint(5, 20),
    }
    return record


def generate(users: int = 60, days: int = 90, seed: int = 7, end: date | None = None) -> DemoData:
    """Generate ``days`` days of reports for ``users`` users, ending on ``end``.

    ``end`` defaults to :func:`default_end_day` (two UTC days ago). The same arguments
    always produce the same records.
    """
    if users < 1 or days < 1:
        raise ValueError(f"demo data needs at least one user and one day, not users={users}, days={days}")
    end = end or default_end_day()
    start = end - timedelta(days=days - 1)
    rng = random.Random(seed)
    people = _make_users(rng, users, days)
    data = DemoData(start=start, end=end)
    history: dict[date, set[int]] = {}
    org_days: list[dict[str, Any]] = []
    user_rows: list[dict[str, Any]] = []
    team_rows: list[dict[str, Any]] = []
    repo_rows: list[dict[str, Any]] = []
    last_seen: dict[int, tuple[date, str]] = {}
    for offset in range(days):
        day = start + timedelta(days=offset)
        rows = []
        for user in people:
            if offset < user.start:
                continue
            row = _user_day(rng, user, day, DEMO_ORG_ID)
            if row is None:
                continue
            rows.append(row)
            if row.get("totals_by_ide"):
                ide = row["totals_by_ide"][0]
                last_seen[user.user_id] = (day, f"{ide['ide']}/{ide['last_known_ide_version']['ide_version']}")
        user_rows.extend(rows)
        org_days.append(_entity_day(day, DEMO_ORG_ID, rows, history, rng))
        team_rows.extend(_user_team_rows(people, day, offset))
        repo_rows.extend(_repo_rows(rng, day))
    data.reports["organization-1-day"] = org_days
    data.reports["users-1-day"] = user_rows
    data.reports["user-teams-1-day"] = team_rows
    data.reports["repos-1-day"] = repo_rows
    data.teams = _teams()
    data.seats = _seats(rng, people, last_seen, end)
    data.billing = _billing(data.seats)
    return data


def _user_team_rows(people: list[DemoUser], day: date, offset: int) -> Iterator[dict[str, Any]]:
    counts = [0] * len(TEAMS)
    for user in people:
        if offset >= user.start:
            for team in user.teams:
                counts[team] += 1
    for user in people:
        if offset < user.start:
            continue
        for team in user.teams:
            if counts[team] < 5:
                continue  # GitHub omits teams with fewer than five seated users that day
            yield {
                "user_id": user.user_id,
                "user_login": user.login,
                "day": day.isoformat(),
                "organization_id": DEMO_ORG_ID,
                "team_id": 902_200 + team,
                "slug": TEAMS[team][1],
            }


def _repo_rows(rng: random.Random, day: date) -> Iterator[dict[str, Any]]:
    for index, name in enumerate(REPOSITORIES):
        if rng.random() < 0.35:
            continue  # only repositories with activity that day have a row
        created = rng.randint(0, 9)
        yield {
            "day": day.isoformat(),
            "organization_id": DEMO_ORG_ID,
            "repo_id": 550_112_000 + index,
            "repo_owner_name": DEMO_ORG_LOGIN,
            "repo_name": name,
            "repo_visibility": "INTERNAL" if index % 3 else "PRIVATE",
            "pull_requests": {
                "total_created": created,
                "total_reviewed": rng.randint(0, 12),
                "total_merged": rng.randint(0, created),
                "median_minutes_to_merge": round(rng.uniform(30, 600), 1),
                "total_suggestions": rng.randint(0, 20),
                "total_applied_suggestions": rng.randint(0, 8),
                "total_created_by_copilot": rng.randint(0, 2),
                "total_reviewed_by_copilot": rng.randint(0, 6),
                "total_merged_created_by_copilot": rng.randint(0, 1),
                "total_merged_reviewed_by_copilot": rng.randint(0, 4),
                "total_copilot_suggestions": rng.randint(0, 10),
                "total_copilot_applied_suggestions": rng.randint(0, 4),
            },
        }


def _teams() -> list[dict[str, Any]]:
    return [
        {
            "id": 902_200 + index,
            "node_id": f"T_demo{index}",
            "name": name,
            "slug": slug,
            "description": f"{name} team",
            "privacy": "closed",
            "type": "organization",
            "organization_id": int(DEMO_ORG_ID),
            "parent": None,
        }
        for index, (name, slug, _) in enumerate(TEAMS)
    ]


def _seats(
    rng: random.Random, people: list[DemoUser], last_seen: dict[int, tuple[date, str]], end: date
) -> dict[str, Any]:
    seats = []
    for user in people:
        seen = last_seen.get(user.user_id)
        granted = datetime.combine(end - timedelta(days=rng.randint(100, 400)), datetime.min.time(), UTC)
        team = user.teams[0]
        seats.append(
            {
                "created_at": granted.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "pending_cancellation_date": (end + timedelta(days=20)).isoformat() if rng.random() < 0.04 else None,
                "last_activity_at": f"{seen[0].isoformat()}T17:55:02Z" if seen else None,
                "last_activity_editor": f"{seen[1]}/copilot-chat/0.58.1" if seen else None,
                "last_authenticated_at": f"{seen[0].isoformat()}T08:01:13Z" if seen else None,
                "plan_type": "business",
                "assignee": {"login": user.login, "id": user.user_id, "type": "User", "site_admin": False},
                "assigning_team": {"id": 902_200 + team, "name": TEAMS[team][0], "slug": TEAMS[team][1]},
            }
        )
    # A seat whose user account was deleted: GitHub returns it with a null assignee.
    seats.append(
        {
            "created_at": "2025-09-01T10:00:00Z",
            "pending_cancellation_date": None,
            "last_activity_at": None,
            "last_activity_editor": None,
            "last_authenticated_at": None,
            "plan_type": "business",
            "assignee": None,
            "assigning_team": None,
        }
    )
    return {"total_seats": len(seats), "seats": seats}


def _billing(seats: dict[str, Any]) -> dict[str, Any]:
    entries = seats["seats"]
    pending = sum(1 for seat in entries if seat["pending_cancellation_date"])
    active = sum(1 for seat in entries if seat["last_activity_at"])
    return {
        "seat_breakdown": {
            "total": len(entries),
            "added_this_cycle": 3,
            "pending_invitation": 0,
            "pending_cancellation": pending,
            "active_this_cycle": active,
            "inactive_this_cycle": len(entries) - active,
        },
        "seat_management_setting": "assign_selected",
        "ide_chat": "enabled",
        "platform_chat": "enabled",
        "cli": "enabled",
        "public_code_suggestions": "block",
        "plan_type": "business",
    }


def _write(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(payload)
    os.replace(temporary, path)


def ndjson(records: list[dict[str, Any]]) -> bytes:
    """Encode records as NDJSON, one compact object per line, as GitHub serves them."""
    return b"".join(orjson.dumps(record) + b"\n" for record in records)


def write(folder: str | os.PathLike[str], data: DemoData) -> Path:
    """Write demo data as report files: one NDJSON file per report and day.

    The layout is ``reports/<report>/<day>.ndjson`` plus ``seats.json``, ``billing.json``
    and ``teams.json``, the same layout ``copilot-dashboard fetch`` writes.
    """
    root = Path(folder)
    for report, records in data.reports.items():
        by_day: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            by_day.setdefault(record["day"], []).append(record)
        for day, rows in by_day.items():
            _write(root / "reports" / report / f"{day}.ndjson", ndjson(rows))
    _write(root / "seats.json", orjson.dumps(data.seats))
    _write(root / "billing.json", orjson.dumps(data.billing))
    _write(root / "teams.json", orjson.dumps(data.teams))
    logger.info("wrote demo data for %s to %s into %s", data.start, data.end, root)
    return root
