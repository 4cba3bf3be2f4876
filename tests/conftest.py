"""Shared pytest hooks and fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_BROWSER = "COPILOT_REQUIRE_BROWSER"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the tests marked ``slow`` unless the ``-m`` expression names that marker.

    A default ``-m 'not slow'`` in the ini file would be replaced by any other ``-m``, such
    as ``-m 'not browser'``, and the slow runs would come back with it.
    """
    if "slow" in (config.option.markexpr or ""):
        return
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item.get_closest_marker("slow") is None]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip browser tests when Debian's Chromium is missing, or fail them when CI requires it."""
    if item.get_closest_marker("browser") is None or CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} not found: install Debian's chromium package (apt-get install chromium)"
    if os.environ.get(REQUIRE_BROWSER) == "1":
        pytest.fail(f"{reason}; {REQUIRE_BROWSER}=1 requires the browser tests to run", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def fixed_salt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give the pseudonyms a fixed key, so that aliases are the same in every run."""
    from copilot_lib.views import pseudonym

    monkeypatch.setenv(pseudonym.ENV_PSEUDONYM_SALT, "test-salt")
    monkeypatch.setattr(pseudonym, "_salt", None)
