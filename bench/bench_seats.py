"""Time listing 100,000 Copilot seats from the fake GitHub server: sequential vs concurrent.

The fake server sleeps ``--latency`` seconds before every response, standing in for the
round trip to api.github.com. Sequential paging follows ``Link: rel="next"`` one page at a
time; the project's client reads the page count from ``rel="last"`` on page 1 and fetches
the remaining pages with at most ``--max-in-flight`` requests at a time.

    .venv/bin/python bench/bench_seats.py
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import time

from copilot_lib.auth import TokenAuth
from copilot_lib.fake_github import FakeGitHub
from copilot_lib.fake_github.samples import make_seats
from copilot_lib.github import Scope, fetch_seats
from copilot_lib.http import GitHubClient
from copilot_lib.secrets import Secret

TOKEN = "ghp_benchmarkBenchmarkBenchmark000000000"


def time_listing(server: FakeGitHub, *, concurrent: bool, max_in_flight: int) -> tuple[float, int]:
    with GitHubClient(server.url, TokenAuth(Secret(TOKEN)), max_in_flight=max_in_flight) as client:
        started = time.perf_counter()
        count = sum(1 for _ in fetch_seats(client, Scope.org("acme"), concurrent=concurrent))
        return time.perf_counter() - started, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seats", type=int, default=100_000, help="seats to list (default 100000)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per response (default 0.05)")
    parser.add_argument("--max-in-flight", type=int, default=10, help="concurrent requests (default 10)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with FakeGitHub(latency=args.latency) as server:
        server.add_personal_token(TOKEN)
        server.add_org("acme", seats=make_seats(args.seats))
        pages = -(-args.seats // 100)
        print(
            f"{args.seats} seats, {pages} pages of 100, {args.latency * 1000:.0f} ms per response, "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
        )
        sequential, count_a = time_listing(server, concurrent=False, max_in_flight=1)
        print(f"sequential paging (rel=next):            {sequential:7.2f} s  ({count_a} seats)")
        concurrent, count_b = time_listing(server, concurrent=True, max_in_flight=args.max_in_flight)
        print(f"project client ({args.max_in_flight} in flight, rel=last): {concurrent:7.2f} s  ({count_b} seats)")
        print(f"speed-up: {sequential / concurrent:.1f}x")
        if count_a != args.seats or count_b != args.seats:
            raise SystemExit(f"expected {args.seats} seats from both runs")


if __name__ == "__main__":
    main()
