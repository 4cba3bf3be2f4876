"""End to end: Voilà serves the dashboard on a history store, and the History tab draws.

This module runs its own Voilà server, because ``COPILOT_STORE`` only applies without
``COPILOT_DATA_DIR``, which the other browser tests set.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from history_fixtures import NEWEST_SETTLED, TODAY, FakeSource
from model_builders import SAMPLES
from playwright.sync_api import Page
from test_dashboard_browser import (  # noqa: F401 - the browser, page and blocked fixtures
    TRACES_DRAWN,
    UPDATE_TIMEOUT_MS,
    blocked,
    browser,
    page,
    start_voila,
    stop_process_tree,
)

from copilot_lib.archive import archive
from copilot_lib.history import Entity, History
from copilot_lib.legacy import load_legacy
from copilot_lib.store import LocalStore

pytestmark = pytest.mark.browser

FIRST_CHART_TIMEOUT_MS = 60_000
HISTORY_CHARTS = ["history-activity", "history-users"]


@pytest.fixture(scope="module")
def voila_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("store")
    history = History(LocalStore(root))
    entity = Entity("org", "acme")
    archive(FakeSource(days=20), history, entity, today=TODAY, since=NEWEST_SETTLED - timedelta(days=20))
    history.save_legacy(entity, load_legacy(SAMPLES / "legacy"))

    process, url = start_voila({"COPILOT_STORE": str(root)}, tmp_path_factory.mktemp("jupyter"))
    try:
        yield url
    finally:
        stop_process_tree(process)


def test_history_tab_draws_store(page: Page, voila_url: str, blocked: list[str]) -> None:  # noqa: F811
    page.goto(voila_url, wait_until="commit")
    page.wait_for_function(TRACES_DRAWN, arg=["active-users"], timeout=FIRST_CHART_TIMEOUT_MS)
    assert page.inner_text(".copilot-source").startswith("History store ")

    page.get_by_role("tab", name="History").click()
    page.wait_for_function(TRACES_DRAWN, arg=HISTORY_CHARTS, timeout=UPDATE_TIMEOUT_MS)
    chart = page.locator(".copilot-chart-history-activity")
    assert "Legacy API: suggestions shown (different definition)" in chart.inner_text()
    assert "/copilot/metrics sunset" in chart.inner_text()
    assert page.locator(".copilot-table-history a.copilot-csv").count() == 1

    page.select_option(".copilot-grain select", label="Month")
    page.wait_for_function(
        "() => document.querySelector('.copilot-table-history caption') !== null"
        " && !document.querySelector('.copilot-table-history caption').innerText.includes('first 50')",
        timeout=UPDATE_TIMEOUT_MS,
    )
    assert "Traceback" not in page.inner_text("body")
    assert blocked == []
