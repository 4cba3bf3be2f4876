"""Serve sample Copilot data from a fake GitHub on 127.0.0.1 until interrupted.

    python -m copilot_lib.fake_github [--port 8899] [--users 40] [--days 28]

It prints the environment variables that point copilot-dashboard at the server, including
the path of a freshly generated App private key (a throwaway key for this server only).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

from copilot_lib.fake_github import FakeGitHub, NotReady
from copilot_lib.fake_github.samples import (
    make_org_day,
    make_seats,
    make_teams,
    make_user_days,
    recent_days,
)
from copilot_lib.fake_github.server import env_for_app

ORG = "acme"
ORG_ID = 4455667


def build(server: FakeGitHub, users: int, days: int) -> None:
    """Add organisation ``acme`` with ``users`` seats and ``days`` days of reports.

    Every daily report is served, so ``fetch`` and ``archive`` store each day: users are
    spread over two teams, and the repository report has no data (HTTP 204).
    """
    teams = make_teams(ORG, ORG_ID, ["payments", "platform"])
    org = server.add_org(ORG, seats=make_seats(users), teams=teams)
    calendar = recent_days(days, server.clock_today())
    everyone = []
    for day in calendar:
        rows = make_user_days(ORG_ID, day, users)
        everyone += rows
        server.set_report(org, "users-1-day", rows, day=day)
        server.set_report(org, "organization-1-day", [make_org_day(ORG_ID, day, rows)], day=day, parts=1)
        memberships = [
            {
                "user_id": row["user_id"],
                "day": day.isoformat(),
                "organization_id": str(ORG_ID),
                "team_id": teams[index % len(teams)]["id"],
                "slug": teams[index % len(teams)]["slug"],
            }
            for index, row in enumerate(rows)
        ]
        server.set_report(org, "user-teams-1-day", memberships, day=day)
        server.set_not_ready(org, "repos-1-day", NotReady.NO_CONTENT, day=day)
    window = (calendar[0], calendar[-1])
    server.set_report(org, "users-28-day/latest", everyone, window=window)
    org_days = [make_org_day(ORG_ID, day, [r for r in everyone if r["day"] == day.isoformat()]) for day in calendar]
    server.set_report(org, "organization-28-day/latest", org_days, window=window, parts=1)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}: use a whole number of at least 1") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is too small: use at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    """Run the server until interrupted; return 2 when the port cannot be used."""
    parser = argparse.ArgumentParser(description="Serve a fake GitHub with sample Copilot data.")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--users", type=_positive, default=40, help="seats and users (default 40)")
    parser.add_argument("--days", type=_positive, default=28, help="days of reports ending yesterday (default 28)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    server = FakeGitHub(port=args.port)
    try:
        server.start()
    except OSError as exc:
        sys.stderr.write(
            f"cannot listen on 127.0.0.1 port {args.port} ({exc.strerror or exc}): "
            "choose another --port, or 0 for a free one\n"
        )
        return 2
    try:
        with tempfile.TemporaryDirectory() as folder:
            build(server, args.users, args.days)
            key_path = Path(folder) / "fake-app.pem"
            key_path.write_text(server.app_private_key_pem)
            lines = [f"export {name}={value}" for name, value in env_for_app(server, key_path, ORG).items()]
            sys.stdout.write("\n".join(lines) + "\n# press Ctrl-C to stop\n")
            sys.stdout.flush()
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
