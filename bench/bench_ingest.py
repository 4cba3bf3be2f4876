"""Measure how fast report files become tables, against a naive baseline and the parse limit.

Usage: .venv/bin/python bench/bench_ingest.py [--rows 1000000] [--baseline-rows 200000]

The script writes user-day NDJSON made by the demo generator (every breakdown filled), then
times, each in a fresh process so that peak memory is its own:

  a) naive baseline: json.loads per line, then pandas.json_normalize on the records and
     once per breakdown array (record_path), which builds comparable tables;
  b) parse-only limit: orjson.loads on every line, on all cores, building nothing;
  c) copilot_lib.tables.load_folder, which builds every table.

It prints records per second, peak resident memory (the process plus its workers) and the
ratios c/a and c/b. The baseline runs on at most --baseline-rows rows, because at its
speed a million rows take minutes; its rate is per record, so the ratio stays comparable.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROWS_PER_FILE = 50_000
NAIVE_BREAKDOWNS = (
    "totals_by_ide",
    "totals_by_feature",
    "totals_by_language_feature",
    "totals_by_language_model",
    "totals_by_model_feature",
)
USER_ID_STRIDE = 10_000_000


def generate(folder: Path, rows: int) -> int:
    """Write ``rows`` user-day records as NDJSON files; return the bytes written.

    The demo generator makes a pool of distinct records; the pool is repeated with shifted
    user ids, so every row has its own (user, day) key and nothing is deduplicated away.
    """
    from copilot_lib import demo

    pool = demo.generate(users=400, days=60, seed=11).reports["users-1-day"]
    pool = [record for record in pool if record.get("totals_by_feature")]
    written = 0
    index = 0
    file_number = 0
    while index < rows:
        lines = []
        for _ in range(min(ROWS_PER_FILE, rows - index)):
            record = dict(pool[index % len(pool)])
            record["user_id"] += USER_ID_STRIDE * (index // len(pool))
            lines.append(orjson.dumps(record))
            index += 1
        payload = b"\n".join(lines) + b"\n"
        (folder / f"users-{file_number:04d}.ndjson").write_bytes(payload)
        written += len(payload)
        file_number += 1
    return written


def _peak_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024


def phase_naive(folder: Path, limit: int) -> dict[str, float]:
    import pandas as pd

    started = time.perf_counter()
    records = []
    for path in sorted(folder.glob("*.ndjson")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                records.append(json.loads(line))
                if len(records) >= limit:
                    break
        if len(records) >= limit:
            break
    frame = pd.json_normalize(records)
    # The same breakdown tables the project builds, the way a notebook would build them.
    for array in NAIVE_BREAKDOWNS:
        pd.json_normalize(records, record_path=array, meta=["day", "organization_id", "user_id"])
    elapsed = time.perf_counter() - started
    return {"records": len(frame), "seconds": elapsed}


def _parse_part(part: tuple[str, int, int]) -> int:
    path, start, end = part
    with open(path, "rb") as handle:
        handle.seek(start)
        raw = handle.read(end - start)
    count = 0
    for line in raw.split(b"\n"):
        if line:
            orjson.loads(line)
            count += 1
    return count


def phase_parse(folder: Path) -> dict[str, float]:
    from copilot_lib.ingest import plan_batches

    workers = os.cpu_count() or 1
    started = time.perf_counter()
    batches = plan_batches(sorted(folder.glob("*.ndjson")), workers)
    parts = []
    for batch in batches:
        for part in batch:
            end = part.end if part.end is not None else Path(part.path).stat().st_size
            parts.append((part.path, part.start or 0, end))
    context = multiprocessing.get_context("forkserver")
    with context.Pool(workers) as pool:
        count = sum(pool.map(_parse_part, parts))
    return {"records": count, "seconds": time.perf_counter() - started}


def phase_ingest(folder: Path) -> dict[str, float]:
    from copilot_lib.tables import load_folder

    started = time.perf_counter()
    tables = load_folder(folder)
    elapsed = time.perf_counter() - started
    breakdown_rows = sum(len(frame) for name, frame in tables.frames.items() if name.startswith("user_"))
    return {"records": len(tables.user_daily), "seconds": elapsed, "table_rows": breakdown_rows}


def run_phase(name: str, folder: Path, baseline_rows: int) -> dict[str, float]:
    command = [
        sys.executable,
        __file__,
        "--phase",
        name,
        "--folder",
        str(folder),
        "--baseline-rows",
        str(baseline_rows),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="user-day records to generate")
    parser.add_argument("--baseline-rows", type=int, default=200_000, help="records the naive baseline reads")
    parser.add_argument("--phase", choices=("generate", "naive", "parse", "ingest"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase == "generate":
        print(generate(args.folder, args.rows))
        return
    if args.phase:
        phases = {
            "naive": lambda: phase_naive(args.folder, args.baseline_rows),
            "parse": lambda: phase_parse(args.folder),
            "ingest": lambda: phase_ingest(args.folder),
        }
        result = phases[args.phase]()
        result["peak_mib"] = _peak_mib()
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        # Generate in a child process, so this process stays small: Linux children inherit
        # their parent's peak resident size as their own starting point.
        command = [
            sys.executable,
            __file__,
            "--phase",
            "generate",
            "--folder",
            str(folder),
            "--rows",
            str(args.rows),
        ]
        size = int(subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip())
        print(
            f"generated {args.rows:,} user-day records, {size / 2**20:.0f} MiB "
            f"({size / args.rows:,.0f} bytes each) in {time.perf_counter() - started:.1f} s"
        )
        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
        results = {}
        for name, label in (
            ("naive", "a) json.loads + json_normalize"),
            ("parse", "b) orjson parse only, all cores"),
            ("ingest", "c) copilot_lib load_folder"),
        ):
            load_before = os.getloadavg()[0]
            result = run_phase(name, folder, args.baseline_rows)
            rate = result["records"] / result["seconds"]
            # Other processes share the cores, and the load average shows how much.
            load = f"load {load_before:.1f}->{os.getloadavg()[0]:.1f}"
            results[name] = rate
            print(
                f"{label:<36} {result['records']:>10,.0f} records {result['seconds']:>7.1f} s "
                f"{rate:>10,.0f} records/s  peak {result['peak_mib']:>7,.0f} MiB  {load}"
            )
        print(f"c/a = {results['ingest'] / results['naive']:.1f}x (target >= 10x)")
        print(f"c/b = {results['ingest'] / results['parse']:.2f} (target >= 0.5)")


if __name__ == "__main__":
    main()
