"""End to end: Voilà serves the dashboard, headless Chromium drives it.

Two Voilà servers, started once for the module, serve every test: one on the sample
reports (known numbers) and one on generated demo data with seats, teams and pull
requests (every view has something to draw). One browser serves both. Every request that
is not to 127.0.0.1 is blocked, so the page must work without internet access.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from copilot_lib import demo, serve
from copilot_lib.tables import load_folder

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "cmv-samples" / "reports"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
START_TIMEOUT_S = 90
FIRST_CHART_TIMEOUT_MS = 60_000
UPDATE_TIMEOUT_MS = 30_000
OVERVIEW_CHARTS = ("active-users", "activity")
TAB_TITLES = (
    "Overview",
    "Features and modes",
    "Languages",
    "IDEs",
    "Models (chat and agent)",
    "Pull requests",
    "Seats",
    "Teams",
    "Users",
    "Data health",
)
# The charts each tab draws on the demo data; VIEW_TABLES names a table of the tabs that show tables.
VIEW_CHARTS = {
    "Features and modes": ("by-feature", "feature-series", "surfaces", "cli"),
    "Languages": ("by-language", "language-series"),
    "IDEs": ("by-ide",),
    "Models (chat and agent)": ("by-model", "model-series"),
    "Pull requests": ("pull-requests", "merge-medians", "by-repository"),
    "Seats": ("seat-states", "seat-activity-age", "idle-cost"),
    "Teams": ("team-totals", "team-active-users", "team-interactions"),
    "Data health": ("days", "unknown-shares", "attribution"),
}
VIEW_TABLES = {
    "IDEs": "ide-versions",
    "Seats": "seats",
    "Users": "users",
    "Data health": "day-status",
}
DEMO_USERS = 40
DEMO_DAYS = 60

# True once every named chart is on screen with a visible height and at least one trace path
# with a non-empty outline, and the page has removed its static preview.
TRACES_DRAWN = """(names) => !document.getElementById('copilot-preview') && names.every((name) => {
  const chart = document.querySelector(`.copilot-chart-${name}`);
  if (!chart || chart.getBoundingClientRect().height < 100) return false;
  const paths = chart.querySelectorAll('.trace path');
  return Array.from(paths).some((p) => (p.getAttribute('d') || '').length > 3);
})"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait for Voilà's port to accept connections, without requesting a page.

    A page request would run the notebook and take the preheated kernel.
    """
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Voilà exited with status {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"Voilà did not listen on port {port} within {START_TIMEOUT_S} s:\n{log.read_text()}")


def stop_process_tree(process: subprocess.Popen[bytes]) -> None:
    """Stop Voilà's process group and any kernel it started in a session of its own."""
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    for child in children:
        try:
            child.terminate()
            child.wait(timeout=10)
        except psutil.NoSuchProcess:
            pass
        except psutil.TimeoutExpired:
            child.kill()


def start_voila(source: dict[str, str], home: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start Voilà on the dashboard notebook and wait until it listens.

    ``source`` sets the data source, for example ``{"COPILOT_DATA_DIR": folder}``.
    """
    env = serve.voila_environment()
    env.pop("COPILOT_DATA_DIR", None)
    env.pop("COPILOT_STORE", None)
    env.update(
        {
            **source,
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "JUPYTER_DATA_DIR": str(home / "data"),
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "IPYTHONDIR": str(home / "ipython"),
            "JUPYTER_PLATFORM_DIRS": "1",
        }
    )
    port = free_port()
    command = serve.voila_command(serve.notebook_path(), port=port)
    log = home / "voila.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=home,
        )
    try:
        wait_until_listening(port, process, log)
    except BaseException:
        stop_process_tree(process)
        raise
    return process, f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def voila_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not SAMPLES.is_dir():
        pytest.fail(f"sample reports not found at {SAMPLES}: clone the repository next to shared/")
    process, url = start_voila({"COPILOT_DATA_DIR": str(SAMPLES)}, tmp_path_factory.mktemp("jupyter"))
    try:
        yield url
    finally:
        stop_process_tree(process)


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write demo report files with seats, teams and repositories to a folder."""
    folder = tmp_path_factory.mktemp("demo-data")
    demo.write(folder, demo.generate(users=DEMO_USERS, days=DEMO_DAYS))
    return folder


@pytest.fixture(scope="module")
def demo_logins(demo_folder: Path) -> set[str]:
    tables = load_folder(demo_folder)
    logins = set(tables.user_daily["user_login"].dropna().astype(str))
    logins |= set(tables["seats"]["assignee_login"].dropna().astype(str))
    return logins


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory, demo_folder: Path) -> Iterator[str]:
    process, url = start_voila({"COPILOT_DATA_DIR": str(demo_folder)}, tmp_path_factory.mktemp("jupyter-demo"))
    try:
        yield url
    finally:
        stop_process_tree(process)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    home = tmp_path_factory.mktemp("chromium")
    env = dict(
        os.environ,
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_CACHE_HOME=str(home / "cache"),
    )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=env)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def blocked() -> list[str]:
    """URLs of the requests the page made to hosts other than 127.0.0.1."""
    return []


@contextlib.contextmanager
def loopback_page(browser: Browser, blocked: list[str]) -> Iterator[Page]:
    """Open a page in a fresh context that blocks, and records, requests off 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1600, "height": 2400}, accept_downloads=True)

    def route(request_route: Route) -> None:
        request = request_route.request
        if request.url.startswith("http://127.0.0.1:"):
            request_route.continue_()
        else:
            blocked.append(request.url)
            request_route.abort()

    context.route("**/*", route)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, voila_url: str, blocked: list[str]) -> Iterator[Page]:
    with loopback_page(browser, blocked) as opened:
        yield opened


@pytest.fixture
def demo_page(browser: Browser, demo_url: str, blocked: list[str]) -> Iterator[Page]:
    with loopback_page(browser, blocked) as opened:
        opened.goto(demo_url, wait_until="commit")
        opened.wait_for_function(TRACES_DRAWN, arg=list(OVERVIEW_CHARTS), timeout=FIRST_CHART_TIMEOUT_MS)
        yield opened


def open_dashboard(page: Page, url: str) -> None:
    page.goto(url, wait_until="commit")
    page.wait_for_function(TRACES_DRAWN, arg=list(OVERVIEW_CHARTS), timeout=FIRST_CHART_TIMEOUT_MS)


def kpi_text(page: Page, key: str) -> str:
    return str(page.inner_text(f'.copilot-kpis [data-kpi="{key}"] .copilot-kpi-value'))


def line_outline(page: Page, chart: str) -> str:
    selector = f".copilot-chart-{chart} .scatterlayer .trace path.js-line"
    return str(page.get_attribute(selector, "d"))


def test_dashboard_draws_sample_data(page: Page, voila_url: str, tmp_path: Path) -> None:
    open_dashboard(page, voila_url)

    assert kpi_text(page, "interactions") == "2,489"
    assert kpi_text(page, "monthly_active_users") == "6"
    assert page.locator(".copilot-banner").count() == 0
    assert "Traceback" not in page.inner_text("body")
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert (tmp_path / "dashboard.png").stat().st_size > 0

    # The samples have no seats file and no user-teams report: those tabs say so.
    for title, sentence in (("Seats", "No seats file"), ("Teams", "No user-teams report")):
        page.get_by_role("tab", name=title).click()
        message = page.locator(".copilot-missing:visible")
        message.wait_for(timeout=UPDATE_TIMEOUT_MS)
        assert message.inner_text().startswith(sentence)
    assert "Traceback" not in page.inner_text("body")


def test_date_range_updates_kpis_and_charts(page: Page, voila_url: str, tmp_path: Path) -> None:
    open_dashboard(page, voila_url)
    interactions = kpi_text(page, "interactions")
    outline = line_outline(page, "active-users")

    page.fill(".copilot-since input[type=date]", "2026-04-19")
    page.press(".copilot-since input[type=date]", "Tab")

    selector = '.copilot-kpis [data-kpi="interactions"] .copilot-kpi-value'
    page.wait_for_function(
        "([selector, before]) => document.querySelector(selector).innerText !== before",
        arg=[selector, interactions],
        timeout=UPDATE_TIMEOUT_MS,
    )
    page.wait_for_function(
        "([selector, before]) => document.querySelector(selector).getAttribute('d') !== before",
        arg=[".copilot-chart-active-users .scatterlayer .trace path.js-line", outline],
        timeout=UPDATE_TIMEOUT_MS,
    )
    assert kpi_text(page, "interactions") != interactions
    assert line_outline(page, "active-users") != outline
    page.screenshot(path=str(tmp_path / "dashboard-last-week.png"), full_page=True)


def test_preset_button_selects_last_week(page: Page, voila_url: str) -> None:
    open_dashboard(page, voila_url)

    page.get_by_role("button", name="Last 7 days").click()

    since = page.locator(".copilot-since input[type=date]")
    since_value = since.input_value(timeout=UPDATE_TIMEOUT_MS)
    deadline = time.monotonic() + UPDATE_TIMEOUT_MS / 1000
    while since_value != "2026-04-19" and time.monotonic() < deadline:
        time.sleep(0.2)
        since_value = since.input_value()
    assert since_value == "2026-04-19"


def test_every_view_draws_its_charts(demo_page: Page) -> None:
    for title in TAB_TITLES[1:]:
        demo_page.get_by_role("tab", name=title).click()
        if title in VIEW_CHARTS:
            demo_page.wait_for_function(TRACES_DRAWN, arg=list(VIEW_CHARTS[title]), timeout=UPDATE_TIMEOUT_MS)
        if title in VIEW_TABLES:
            demo_page.locator(f".copilot-table-{VIEW_TABLES[title]} table").wait_for(timeout=UPDATE_TIMEOUT_MS)
    assert demo_page.locator(".copilot-missing:visible").count() == 0
    assert "Traceback" not in demo_page.inner_text("body")


def seat_count(page: Page, key: str) -> int:
    text = page.inner_text(f'.copilot-seat-summary [data-seat="{key}"] .copilot-kpi-value')
    return int(text.replace(",", ""))


def test_seat_threshold_changes_idle_count(demo_page: Page) -> None:
    demo_page.get_by_role("tab", name="Seats").click()
    demo_page.locator('.copilot-seat-summary [data-seat="idle"]').wait_for(timeout=UPDATE_TIMEOUT_MS)
    idle = seat_count(demo_page, "idle")
    # Each seat control's input is wide enough to type in, and no label runs into the next.
    names = ("threshold", "price", "search")
    boxes = [demo_page.locator(f".copilot-seat-{name}").bounding_box() for name in names]
    inputs = [demo_page.locator(f".copilot-seat-{name} input").bounding_box() for name in names]
    assert all(box is not None and box["width"] >= 40 for box in inputs), inputs
    for left, right in zip(boxes, boxes[1:], strict=False):
        assert left is not None and right is not None
        same_row = abs(left["y"] - right["y"]) < left["height"]
        assert not same_row or left["x"] + left["width"] <= right["x"], (left, right)

    field = demo_page.get_by_label("Active within (days)")
    field.fill("1")
    field.press("Enter")

    selector = '.copilot-seat-summary [data-seat="idle"] .copilot-kpi-value'
    demo_page.wait_for_function(
        "([selector, before]) => document.querySelector(selector).innerText !== before",
        arg=[selector, f"{idle:,}"],
        timeout=UPDATE_TIMEOUT_MS,
    )
    assert seat_count(demo_page, "idle") > idle
    assert seat_count(demo_page, "idle") + seat_count(demo_page, "active") == seat_count(demo_page, "assigned")
    # The threshold line of the days-since-activity chart moves with the control.
    demo_page.wait_for_function(
        "(selector) => document.querySelector(selector).textContent.includes('Threshold: 1 day')",
        arg=".copilot-chart-seat-activity-age .annotation-text",
        timeout=UPDATE_TIMEOUT_MS,
    )


def test_two_teams_draw_comparison(demo_page: Page) -> None:
    teams = demo_page.get_by_label("Teams", exact=True)
    names = teams.locator("option").all_inner_texts()[:2]
    assert len(names) == 2

    teams.select_option(names)
    demo_page.get_by_role("tab", name="Teams").click()

    traces = ".copilot-chart-team-active-users .scatterlayer .trace"
    demo_page.wait_for_function(
        "(selector) => document.querySelectorAll(selector).length === 2", arg=traces, timeout=UPDATE_TIMEOUT_MS
    )
    legend = demo_page.locator(".copilot-chart-team-active-users .legendtext").all_text_contents()
    assert sorted(legend) == sorted(names)


def page_text_and_csvs(page: Page) -> str:
    """Return the page's HTML with every CSV download decoded next to it."""
    html = page.content()
    payloads = re.findall(r"data:text/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)", html)
    return html + "".join(base64.b64decode(payload).decode() for payload in payloads)


def test_pseudonymise_removes_every_login(demo_page: Page, demo_logins: set[str]) -> None:
    demo_page.get_by_role("tab", name="Users").click()
    table = demo_page.locator(".copilot-table-users table")
    table.wait_for(timeout=UPDATE_TIMEOUT_MS)
    before = page_text_and_csvs(demo_page)
    assert [login for login in demo_logins if login in before]

    demo_page.get_by_label("Pseudonymise logins").check()

    demo_page.wait_for_function(
        "(logins) => !logins.some((login) => document.body.innerHTML.includes(login))",
        arg=sorted(demo_logins),
        timeout=UPDATE_TIMEOUT_MS,
    )
    for title in TAB_TITLES:
        demo_page.get_by_role("tab", name=title).click()
    demo_page.wait_for_timeout(500)
    text = page_text_and_csvs(demo_page)
    assert [login for login in demo_logins if login in text] == []
    assert "user-" in text


def test_csv_export_downloads(page: Page, voila_url: str, tmp_path: Path) -> None:
    open_dashboard(page, voila_url)
    page.locator(".copilot-table-toggle").first.click()
    # The toggle shows the active-users table once the kernel answers; wait for its link.
    link = page.locator(".copilot-table-active-users a.copilot-csv")
    link.wait_for(state="visible", timeout=UPDATE_TIMEOUT_MS)

    with page.expect_download(timeout=UPDATE_TIMEOUT_MS) as info:
        link.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)

    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert info.value.suggested_filename == "active-users.csv"
    assert len(rows) == 28
    assert rows[-1]["period"] == "2026-04-25"
    assert rows[-1]["active_users"] == "2.0"


def axe_script() -> Path:
    if AXE.is_file():
        return AXE
    reason = f"{AXE} not found: run `npm install --no-save axe-core@4` (make test does)"
    if os.environ.get("COPILOT_REQUIRE_BROWSER") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def serious_violations(page: Page) -> list[str]:
    results = page.evaluate(
        """() => axe.run(document, {
          runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']},
          resultTypes: ['violations'],
        })"""
    )
    found = []
    for violation in results["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [node["target"] for node in violation["nodes"][:5]]
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return found


def test_every_view_passes_axe_scan(demo_page: Page) -> None:
    script = axe_script()
    demo_page.add_script_tag(path=str(script))

    problems = {}
    for title in TAB_TITLES:
        demo_page.get_by_role("tab", name=title).click()
        demo_page.locator(".copilot-view:visible").first.wait_for(timeout=UPDATE_TIMEOUT_MS)
        demo_page.wait_for_timeout(500)
        found = serious_violations(demo_page)
        if found:
            problems[title] = found

    report = "\n".join(f"{title}: {line}" for title, lines in problems.items() for line in lines)
    assert problems == {}, report


def test_page_requests_only_loopback(page: Page, voila_url: str, blocked: list[str]) -> None:
    open_dashboard(page, voila_url)

    assert blocked == []


# True once the static preview shows every named chart with a drawn trace.
PREVIEW_DRAWN = """(names) => names.every((name) => {
  const chart = document.querySelector(`#copilot-preview .copilot-preview-chart-${name}`);
  if (!chart || chart.getBoundingClientRect().height < 100) return false;
  return Array.from(chart.querySelectorAll('.trace path')).some((p) => (p.getAttribute('d') || '').length > 3);
})"""
PREVIEW_KPIS = ("interactions", "active_users", "acceptance_rate", "seat_adoption")


def test_preview_before_widgets(browser: Browser, demo_url: str, blocked: list[str]) -> None:
    """The served HTML alone shows the Overview's KPI cards and charts; the widgets replace it.

    The first load gets no kernel connection (its websocket never reaches Voilà), so no
    widget is ever drawn and everything on screen came with the page. A second, normal load
    must remove the preview and show the same KPI values in the widgets.
    """
    with loopback_page(browser, blocked) as page:
        page.route_web_socket(re.compile(r".*/api/kernels/.*"), lambda socket: None)
        page.clock.install()
        page.goto(demo_url, wait_until="commit")
        page.wait_for_function(PREVIEW_DRAWN, arg=list(OVERVIEW_CHARTS), timeout=FIRST_CHART_TIMEOUT_MS)
        assert page.locator("#copilot-preview").is_visible()
        assert page.locator(".copilot-chart .main-svg").count() == 0
        # The page under the preview can take no focus until the widgets replace it.
        hidden = page.evaluate(
            """() => Array.from(document.body.children)
              .filter((node) => node.id !== 'copilot-preview')
              .every((node) => getComputedStyle(node).visibility === 'hidden')"""
        )
        assert hidden
        preview_kpis = {
            key: page.inner_text(f'#copilot-preview [data-kpi="{key}"] .copilot-kpi-value') for key in PREVIEW_KPIS
        }
        assert all(re.search(r"\d", value) for value in preview_kpis.values()), preview_kpis
        page.add_script_tag(path=str(axe_script()))
        assert serious_violations(page) == []
        # A minute without widgets: the status line stops promising them.
        page.clock.fast_forward(65_000)
        assert "did not load" in page.inner_text("#copilot-preview .copilot-preview-status")

    with loopback_page(browser, blocked) as page:
        open_dashboard(page, demo_url)
        assert page.locator("#copilot-preview").count() == 0
        assert page.evaluate("() => document.body.classList.contains('copilot-previewing')") is False
        assert {key: kpi_text(page, key) for key in PREVIEW_KPIS} == preview_kpis
