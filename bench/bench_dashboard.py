"""Time the dashboard's first page load in Voilà, with a preheated kernel and cold.

Starts Voilà as `copilot-dashboard serve` does, on a free loopback port, then loads the page
LOADS times in headless Debian Chromium (a fresh browser context each time, every request
not to 127.0.0.1 blocked) and reports the seconds from navigation to the first drawn Plotly
trace and to every chart of the first view drawn, for the page's static preview and for
its widgets.

    .venv/bin/python bench/bench_dashboard.py [--loads 8] [--data-dir DIR]
    .venv/bin/python bench/bench_dashboard.py --demo-users 10000 --demo-days 365 --pool-fill 90
    .venv/bin/python bench/bench_dashboard.py --profile     # where one load's time goes

Without --data-dir the page shows generated demo data, --demo-users over --demo-days
(60 users over 90 days by default). --pool-fill is the wait before the first load and between
loads, long enough for Voilà to run the notebook in its next pool kernel. With
--profile it loads the page once with a preheated kernel, records Chromium's CPU profile
of the page until the first chart is drawn, and prints when each step happened (HTML,
kernel connection, widget state, first widget, first chart) and what the page's main
thread spent its time on.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from copilot_lib import serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
# The charts of the first view (the Overview tab).
CHARTS = ("active-users", "activity")
# Runs in the page from its first script on, every 10 ms. It notes when a chart of the
# static preview (see copilot_lib.preview) and a chart of the widgets was first drawn, and
# when all of them were, in milliseconds after navigation started.
WATCH_CHARTS = """(() => {
  const names = NAMES;
  const drawn = (node) => node && node.getBoundingClientRect().height >= 100 &&
    Array.from(node.querySelectorAll('.trace path')).some((p) => (p.getAttribute('d') || '').length > 3);
  const times = {};
  window.copilotChartTimes = times;
  const note = (key) => { if (!(key in times)) times[key] = performance.now(); };
  const timer = setInterval(() => {
    for (const [kind, prefix] of [['preview', '.copilot-preview-chart-'], ['widget', '.copilot-chart-']]) {
      const count = names.filter((name) => drawn(document.querySelector(prefix + name))).length;
      if (count > 0) note(kind + ' first');
      if (count === names.length) note(kind + ' all');
    }
    if ('widget all' in times) clearInterval(timer);
  }, 10);
})();""".replace("NAMES", json.dumps(list(CHARTS)))
# Time for Voilà to fill its kernel pool before the first load and between loads.
POOL_FILL_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_voila(
    preheat: bool,
    data_dir: str | None,
    home: Path,
    demo_size: tuple[int, int] | None = None,
    pool_fill: float = POOL_FILL_S,
) -> tuple[subprocess.Popen[bytes], int]:
    env = serve.voila_environment()
    for name in ("COPILOT_DATA_DIR", "COPILOT_STORE", "COPILOT_DEMO_USERS", "COPILOT_DEMO_DAYS"):
        env.pop(name, None)
    if data_dir:
        env["COPILOT_DATA_DIR"] = data_dir
    if demo_size:
        env["COPILOT_DEMO_USERS"], env["COPILOT_DEMO_DAYS"] = (str(number) for number in demo_size)
    for name in ("JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "IPYTHONDIR"):
        env[name] = str(home / name.lower())
    port = free_port()
    command = serve.voila_command(serve.notebook_path(), port=port, preheat=preheat)
    log = (home / "voila.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    time.sleep(pool_fill)
    return process, port


Times = dict[str, float]


def measure(port: int, loads: int, pool_fill: float = POOL_FILL_S) -> list[Times | None]:
    """Load the page ``loads`` times; return each load's chart times in seconds, None if it failed."""
    results: list[Times | None] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(loads):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.route(
                "**/*",
                lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1") else route.abort(),
            )
            context.add_init_script(WATCH_CHARTS)
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{port}/", wait_until="commit")
            try:
                page.wait_for_function("() => 'widget all' in (window.copilotChartTimes || {})", timeout=60_000)
                times = page.evaluate("window.copilotChartTimes")
                results.append({key: value / 1000 for key, value in times.items()})
            except Exception:  # a load that never draws counts as a failure, not a number
                results.append(None)
            context.close()
            # Let Voilà refill its pool, as it would between two real visitors.
            time.sleep(pool_fill)
        browser.close()
    return results


# Groups of the page's JavaScript, by the URL of the script a profile sample is in.
SCRIPT_GROUPS = (
    ("jupyterlab-plotly", "Plotly (plotly.js in the jupyterlab-plotly extension)"),
    ("jupyterlab-manager", "ipywidgets manager"),
    ("widgets-manager8", "Voilà widgets manager"),
    ("/voila/", "Voilà and JupyterLab"),
)


def profile(port: int) -> None:
    """Load the page once and print its timeline and where its main thread spent time."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Profiler.enable")
        cdp.send("Profiler.setSamplingInterval", {"interval": 500})
        events: dict[str, float] = {}
        start = time.monotonic()

        def mark(name: str) -> None:
            events.setdefault(name, time.monotonic() - start)

        def on_socket(socket: object) -> None:
            mark("kernel connection opened")
            socket.on(  # type: ignore[attr-defined]
                "framereceived",
                lambda payload: (
                    mark("widget state received")
                    if "update_states"
                    in (payload if isinstance(payload, str) else payload[:4000].decode("utf-8", "replace"))
                    else None
                ),
            )

        page.on("websocket", on_socket)
        page.on("response", lambda response: mark("HTML received") if response.url.endswith(f":{port}/") else None)
        cdp.send("Profiler.start")
        start = time.monotonic()
        page.goto(f"http://127.0.0.1:{port}/", wait_until="commit")
        page.wait_for_selector(".jupyter-widgets", state="attached", timeout=60_000)
        mark("first widget drawn")
        page.wait_for_selector(".copilot-chart .trace path", state="attached", timeout=60_000)
        mark("first chart drawn")
        result = cdp.send("Profiler.stop")["profile"]
        browser.close()
    print("timeline (s after navigation):")
    for name, at in sorted(events.items(), key=lambda item: item[1]):
        print(f"  {at:6.2f}  {name}")
    nodes = {node["id"]: node["callFrame"] for node in result["nodes"]}
    spent: collections.Counter[str] = collections.Counter()
    for sample, delta in zip(result["samples"], result["timeDeltas"], strict=True):
        frame = nodes[sample]
        url, function = frame["url"], frame["functionName"]
        group = next((label for key, label in SCRIPT_GROUPS if key in url), None)
        if group is None:
            group = {
                "(idle)": "idle (waiting for the network or the kernel)",
                "(garbage collector)": "garbage collector",
            }
            group = group.get(function, "parsing, compiling, layout and other browser work")
        spent[group] += delta
    total = sum(spent.values())
    print(f"main thread until the first chart, {total / 1e6:.2f} s:")
    for group, micros in spent.most_common():
        print(f"  {micros / 1e6:6.2f} s  {100 * micros / total:4.0f}%  {group}")


TIME_LABELS = (
    ("first", "first chart (preview or widget)"),
    ("all", "every chart of the first view"),
    ("preview first", "first preview chart"),
    ("widget first", "first widget chart"),
    ("widget all", "every widget chart"),
)


def report(label: str, results: list[Times | None]) -> None:
    drawn = [result for result in results if result is not None]
    print(f"{label}: {len(drawn)} of {len(results)} loads drew every chart")
    for result in drawn:
        result["first"] = min(result.get("preview first", result["widget first"]), result["widget first"])
        result["all"] = min(result.get("preview all", result["widget all"]), result["widget all"])
    for key, text in TIME_LABELS:
        values = [result[key] for result in drawn if key in result]
        if values:
            print(f"  {text:34} {spread(values)}  ({len(values)} loads)")


def spread(values: list[float]) -> str:
    median = statistics.median(values)
    return f"median {median:.1f} s (min {min(values):.1f}, max {max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=8, help="page loads per mode (default 8)")
    parser.add_argument("--data-dir", default=None, help="folder of report files (default: demo data)")
    parser.add_argument("--demo-users", type=int, default=60, help="users of the generated demo data (default 60)")
    parser.add_argument("--demo-days", type=int, default=90, help="days of the generated demo data (default 90)")
    parser.add_argument("--pool-fill", type=float, default=POOL_FILL_S, help="seconds to wait before each load")
    parser.add_argument("--profile", action="store_true", help="profile one preheated load instead of timing loads")
    args = parser.parse_args()
    demo_size = (args.demo_users, args.demo_days)
    if args.profile:
        with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as folder:
            process, port = start_voila(True, args.data_dir, Path(folder), demo_size, args.pool_fill)
            try:
                profile(port)
            finally:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
        return
    if args.data_dir:
        print(f"data: report files in {args.data_dir}")
    else:
        print(f"data: demo, {args.demo_users:,} users over {args.demo_days} days")
    for label, preheat in (("preheated kernel", True), ("cold kernel", False)):
        with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as folder:
            process, port = start_voila(preheat, args.data_dir, Path(folder), demo_size, args.pool_fill)
            try:
                report(label, measure(port, args.loads, args.pool_fill))
            finally:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)


if __name__ == "__main__":
    main()
