"""Benchmark the archiver: a one-year backfill, then daily runs on short and long histories.

    .venv/bin/python bench/bench_archive.py [--days 365] [--users 20] [--latency 0.05]
        [--concurrency 8]

The fake GitHub server (copilot_lib.fake_github) serves every 1-day report for the last
``--days`` days, each response delayed by ``--latency`` seconds. The archive goes to a local
folder in a temporary directory. The script prints one Markdown table.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from copilot_lib.archive import archive
from copilot_lib.config import github_settings
from copilot_lib.fake_github import FakeGitHub
from copilot_lib.fake_github.samples import make_org_day, make_seats, make_teams, make_user_days, recent_days
from copilot_lib.fake_github.server import env_for_app
from copilot_lib.github import connect, scope_from_settings
from copilot_lib.history import History
from copilot_lib.history_tables import load_store
from copilot_lib.sources import GitHubSource, entity_for
from copilot_lib.store import LocalStore

ORG_ID = 4455667


def serve(server: FakeGitHub, days: int, users: int) -> None:
    org = server.add_org("acme", seats=make_seats(users), teams=make_teams("acme", ORG_ID, ["web", "data"]))
    for day in recent_days(days, server.clock_today()):
        rows = make_user_days(ORG_ID, day, users)
        server.set_report(org, "users-1-day", rows, day=day)
        server.set_report(org, "organization-1-day", [make_org_day(ORG_ID, day, rows)], day=day, parts=1)
        server.set_report(org, "user-teams-1-day", [], day=day, parts=1)
        server.set_report(org, "repos-1-day", [], day=day, parts=1)


def api_calls(server: FakeGitHub, since: int) -> int:
    """Count API requests after the first ``since``; signed downloads go to a storage host."""
    return sum(1 for call in server.calls()[since:] if "sig" not in call.query)


def timed_run(
    server: FakeGitHub, settings_env: dict[str, str], store: LocalStore, **options: Any
) -> tuple[float, int, int]:
    settings = github_settings(
        org="acme",
        api_url=settings_env["GITHUB_API_URL"],
        app_client_id=settings_env["GITHUB_APP_CLIENT_ID"],
        private_key_path=settings_env["GITHUB_APP_PRIVATE_KEY_PATH"],
    )
    scope = scope_from_settings(settings)
    before = len(server.calls())
    started = time.perf_counter()
    with connect(settings, max_in_flight=32) as client:
        summary = archive(GitHubSource(client, scope), History(store), entity_for(scope), **options)
    elapsed = time.perf_counter() - started
    days = len(summary.written) + len(summary.updated) + len(summary.unchanged)
    return elapsed, api_calls(server, before), days


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with FakeGitHub(latency=args.latency) as server, tempfile.TemporaryDirectory() as folder:
        serve(server, args.days, args.users)
        key = Path(folder) / "app.pem"
        key.write_text(server.app_private_key_pem)
        env = env_for_app(server, key, "acme")
        today = server.clock_today()
        rows = []

        year = LocalStore(Path(folder) / "year")
        elapsed, calls, days = timed_run(
            server, env, year, budget=None, refetch_days=0, snapshots=False, concurrency=args.concurrency, today=today
        )
        rows.append((f"Backfill, {args.concurrency} days in flight", elapsed, calls, days))
        elapsed, calls, days = timed_run(server, env, year, today=today)
        rows.append(("Daily run, store holding the backfill", elapsed, calls, days))

        started = time.perf_counter()
        loaded = load_store(year)
        load_seconds = time.perf_counter() - started
        user_days = len(loaded.frames["user_daily"])

        month = LocalStore(Path(folder) / "month")
        since = today - timedelta(days=30)
        timed_run(server, env, month, since=since, budget=None, refetch_days=0, snapshots=False, today=today)
        elapsed, calls, days = timed_run(server, env, month, since=since, today=today)
        rows.append(("Daily run, store holding 30 days", elapsed, calls, days))

    sys.stdout.write("| Run | Time | GitHub API calls | Days fetched |\n|---|---:|---:|---:|\n")
    for name, seconds, count, fetched in rows:
        sys.stdout.write(f"| {name} | {seconds:.2f} s | {count} | {fetched} |\n")
    sys.stdout.write(f"\nload_store of the backfilled store: {load_seconds:.2f} s, {user_days} user-day rows\n")


if __name__ == "__main__":
    main()
