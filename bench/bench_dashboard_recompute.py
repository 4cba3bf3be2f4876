"""Time how long the dashboard's views take to recompute after each control change.

Generates a year of tables for 10,000 users (and 50,000 with --large) with the fast numpy
generator, saves them, then in a fresh process loads them, builds the per-load structures
and times every view function after each control change: date range, grain, weekends,
unknown values, team, seat threshold and pseudonymisation. As the dashboard does, it
releases the user tables once their per-load structures exist (``views.compact``) and
warms the rest (``views.warm``); ``--keep-tables`` skips the release. Each size runs in
its own process, so the peak memory (ru_maxrss) covers loading the tables, the per-load
structures and the views, but not the generator.

    .venv/bin/python bench/bench_dashboard_recompute.py            # 10,000 users x 365 days
    .venv/bin/python bench/bench_dashboard_recompute.py --large    # and 50,000 users
    .venv/bin/python bench/bench_dashboard_recompute.py --users 2000 --days 90   # quick run

Targets: at most 250 ms per control change at 10,000 users and 1 s at 50,000, with peak
memory at most 1.5 GB at 10,000 users.
"""

from __future__ import annotations

import argparse
import gc
import json
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

END = date(2026, 11, 30)
# The view a tab shows, and the cheap KPIs every tab header shows with it.
TARGETS_MS = {10_000: 250, 50_000: 1000}


def rss_mb() -> float:
    """Return the current resident set size in MB, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def generate(users: int, days: int, path: Path) -> None:
    from copilot_lib.demo_scale import generate_tables_fast

    started = time.perf_counter()
    tables = generate_tables_fast(users=users, days=days, seed=11, end=END)
    with path.open("wb") as handle:
        pickle.dump(tables, handle, protocol=pickle.HIGHEST_PROTOCOL)
    rows = {name: len(frame) for name, frame in tables.frames.items()}
    print(json.dumps({"generate_s": round(time.perf_counter() - started, 1), "rows": rows}))


def controls(first_team: str, second_team: str) -> list[tuple[str, dict[str, object]]]:
    """Return the control changes to time, each applied on top of the previous ones."""
    return [
        ("initial (whole year, day grain)", {}),
        ("date range: last 90 days", {"since": END - timedelta(days=89)}),
        ("grain: ISO week", {"grain": "week"}),
        ("grain: month", {"grain": "month"}),
        ("exclude weekends", {"exclude_weekends": True}),
        ("hide unknown", {"hide_unknown": True}),
        ("one team", {"teams": (first_team,)}),
        ("two teams", {"teams": (first_team, second_team)}),
        ("no team", {"teams": ()}),
        ("seat threshold 60 days", {"seat_threshold_days": 60}),
        ("pseudonymise", {"pseudonymise": True}),
        ("date range: whole year", {"since": None}),
    ]


def time_views(tables: object, filters: object, repeat: int) -> dict[str, dict[str, float]]:
    """Return the median wall-clock and CPU milliseconds of each view, by view name.

    CPU time (``time.process_time``, all threads of this process) is reported next to the
    wall-clock time because other work on a shared machine inflates the wall-clock time.
    """
    from copilot_lib import views

    timings: dict[str, dict[str, float]] = {"wall": {}, "cpu": {}}
    for name, function in views.VIEWS.items():
        wall, cpu = [], []
        for _ in range(repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            function(tables, filters)  # type: ignore[arg-type]
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        timings["wall"][name] = statistics.median(wall)
        timings["cpu"][name] = statistics.median(cpu)
    return timings


def measure(source: str, repeat: int, keep_tables: bool = False) -> None:
    """Load saved tables (a path) or generate them here ("USERS:DAYS"), then time the views."""
    from copilot_lib import views
    from copilot_lib.demo_scale import generate_tables_fast

    started = time.perf_counter()
    if ":" in source:
        users, days = (int(part) for part in source.split(":"))
        tables = generate_tables_fast(users=users, days=days, seed=11, end=END)
    else:
        with Path(source).open("rb") as handle:
            tables = pickle.load(handle)  # noqa: S301 (a file this script wrote)
    gc.collect()
    load_s = time.perf_counter() - started
    tables_mb = rss_mb()

    rows = {name: len(frame) for name, frame in tables.frames.items()}

    started = time.perf_counter()
    views.prepare(tables)
    prepare_s = time.perf_counter() - started
    started = time.perf_counter()
    if not keep_tables:
        views.compact(tables)
    views.warm(tables)
    warm_s = time.perf_counter() - started
    warm_mb = rss_mb()
    started = time.perf_counter()
    for function in views.VIEWS.values():
        function(tables, views.Filters())
    first_s = time.perf_counter() - started
    teams = views.team_options(tables)

    filters = views.Filters()
    results = []
    for label, change in controls(teams[0], teams[1]):
        filters = replace(filters, **change)  # type: ignore[arg-type]
        # The first run after a change builds what the change needs (a team's rows);
        # the median of the repeats is the steady cost.
        first = time_views(tables, filters, 1)
        steady = time_views(tables, filters, repeat)
        results.append({"change": label, "first": first, "steady": steady})
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "rows": rows,
                "load_s": round(load_s, 2),
                "tables_mb": round(tables_mb),
                "prepare_s": round(prepare_s, 2),
                "warm_s": round(warm_s, 2),
                "warm_mb": round(warm_mb),
                "first_all_views_s": round(first_s, 2),
                "after_mb": round(rss_mb()),
                "peak_mb": round(peak_mb),
                "results": results,
            }
        )
    )


def run_child(*args: str) -> dict[str, object]:
    output = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def report(users: int, days: int, repeat: int, in_process: bool, keep_tables: bool) -> None:
    keep = ("--keep-tables",) if keep_tables else ()
    if in_process:
        measured = run_child("--measure", f"{users}:{days}", str(repeat), *keep)
        rows = measured["rows"]
        where = "generated in the measuring process, so the peak includes the generator"
    else:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "tables.pickle"
            generated = run_child("--generate", str(users), str(days), str(path))
            measured = run_child("--measure", str(path), str(repeat), *keep)
        rows = generated["rows"]
        where = f"generated in {generated['generate_s']} s in another process, loaded from a pickle"
    assert isinstance(rows, dict)
    print(
        f"\n{users:,} users x {days} days: {rows['user_daily']:,} user-day rows, "
        f"{sum(rows.values()):,} rows in all tables ({where})"
    )
    print(
        f"load {measured['load_s']} s, tables {measured['tables_mb']} MB RSS, prepare {measured['prepare_s']} s, "
        f"{'warm' if keep_tables else 'compact and warm'} {measured['warm_s']} s "
        f"(RSS {measured['warm_mb']} MB), first open of every view {measured['first_all_views_s']} s, "
        f"RSS after {measured['after_mb']} MB, peak {measured['peak_mb']} MB"
    )
    results = measured["results"]
    assert isinstance(results, list)
    for clock in ("cpu", "wall"):
        print_table(results, clock, TARGETS_MS.get(users))
    print(f"load average after the run: {Path('/proc/loadavg').read_text().split()[:3]}")


def print_table(results: list[dict[str, object]], clock: str, target: int | None) -> None:
    """Print one row per control change with each view's median milliseconds on ``clock``."""
    steady_of = [result["steady"][clock] for result in results]  # type: ignore[index]
    first_of = [result["first"][clock] for result in results]  # type: ignore[index]
    names = list(steady_of[0])
    print(f"\n{clock} ms per view after each control change (median of the repeats)")
    header = f"{'control change':34} {'all views':>9} {'slowest view':>20} {'first run':>9} "
    print(header + " ".join(f"{name[:8]:>8}" for name in names))
    for result, steady, first in zip(results, steady_of, first_of, strict=True):
        slowest = max(steady, key=steady.get)
        print(
            f"{result['change']:34} {sum(steady.values()):9.0f} {steady[slowest]:8.0f} {slowest[:11]:>11} "
            f"{sum(first.values()):9.0f} " + " ".join(f"{steady[name]:8.0f}" for name in names)
        )
    totals = [sum(steady.values()) for steady in steady_of[1:]]
    slowest_views = [max(steady.values()) for steady in steady_of[1:]]
    print(f"all views per change: median {statistics.median(totals):.0f} ms, max {max(totals):.0f} ms")
    print(
        f"slowest single view per change: median {statistics.median(slowest_views):.0f} ms, "
        f"max {max(slowest_views):.0f} ms"
    )
    if target:
        print(
            f"target {target} ms: all views max / target = {max(totals) / target:.2f}, "
            f"slowest view max / target = {max(slowest_views) / target:.2f}"
        )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--generate":
        generate(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        measure(sys.argv[2], int(sys.argv[3]), keep_tables="--keep-tables" in sys.argv[4:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000, help="users to generate (default 10,000)")
    parser.add_argument("--days", type=int, default=365, help="days to generate (default 365)")
    parser.add_argument(
        "--large",
        action="store_true",
        help="also run 50,000 users, generated in the measuring process to avoid a pickle of ~10 GB",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="generate the --users tables in the measuring process (no pickle; the peak includes the generator)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per view and change (median kept)")
    parser.add_argument(
        "--keep-tables",
        action="store_true",
        help="keep the user tables after warm-up instead of releasing them as the dashboard does",
    )
    options = parser.parse_args()
    report(options.users, options.days, options.repeat, in_process=options.in_process, keep_tables=options.keep_tables)
    if options.large:
        report(50_000, options.days, options.repeat, in_process=True, keep_tables=options.keep_tables)


if __name__ == "__main__":
    main()
