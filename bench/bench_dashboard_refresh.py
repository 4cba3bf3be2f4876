"""Time the dashboard's redraw after a control change, in process, on generated data.

Builds the dashboard widgets (no browser) on demo data for USERS users over DAYS days, then
times each step an admin takes: a new date range on the Overview tab, each other tab's first
draw, and a grain change. Each step is run REPEAT times and the median is reported.

    .venv/bin/python bench/bench_dashboard_refresh.py --users 1000 --days 365
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from datetime import timedelta

from copilot_lib import app


def timed(step: object, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()  # type: ignore[operator]
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    start = time.perf_counter()
    tables = app.demo_tables(users=args.users, days=args.days)
    rows = len(tables.user_daily)
    print(f"generated and loaded {rows:,} user-day rows in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    dashboard = app.Dashboard(app.Source(tables=tables, label="bench", demo=True))
    print(f"built the dashboard (Overview drawn) in {time.perf_counter() - start:.2f} s")

    last = dashboard.last
    ranges = [(last - timedelta(days=27), last), (dashboard.first, last)]
    flip = iter(ranges * args.repeat)
    overview = timed(lambda: dashboard.set_range(*next(flip)), args.repeat)
    print(f"Overview, new date range: {overview * 1000:.0f} ms")
    for index, view in enumerate(dashboard.views[1:], start=1):
        seconds = timed(lambda index=index: dashboard._refresh_view(index), args.repeat)
        print(f"{view.title}, draw: {seconds * 1000:.0f} ms")
    grains = iter(["week", "month", "day"] * args.repeat)
    dashboard.tab_widget.selected_index = 0

    def change_grain() -> None:
        dashboard.grain.value = next(grains)

    print(f"Overview, new grain: {timed(change_grain, args.repeat) * 1000:.0f} ms")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
