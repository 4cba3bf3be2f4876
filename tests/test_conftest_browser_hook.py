"""The conftest hooks: browser tests without Chromium, and the slow runs left out by default."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).with_name("conftest.py")
BROWSER_TEST = """
import pytest

@pytest.mark.browser
def test_needs_browser():
    pass
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    source = CONFTEST.read_text().replace('"/usr/bin/chromium"', '"/nonexistent/chromium"')
    pytester.makeconftest(source)
    pytester.makeini("[pytest]\nmarkers =\n    browser: needs Chromium\n")
    pytester.makepyfile(test_browser=BROWSER_TEST)
    return pytester


def test_missing_browser_skips(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COPILOT_REQUIRE_BROWSER", raising=False)

    result = project.runpytest("-rs")

    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*/nonexistent/chromium not found*"])


def test_missing_browser_fails_when_required(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_REQUIRE_BROWSER", "1")

    result = project.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*COPILOT_REQUIRE_BROWSER=1 requires the browser tests to run*"])


SLOW_TEST = """
import pytest

@pytest.mark.slow
def test_long_run():
    pass

@pytest.mark.browser
def test_page():
    pass

def test_quick():
    pass
"""


@pytest.fixture
def marked(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makeini("[pytest]\nmarkers =\n    browser: needs Chromium\n    slow: long runs\n")
    pytester.makepyfile(test_marked=SLOW_TEST)
    return pytester


@pytest.mark.parametrize(
    ("args", "passed", "deselected"),
    [((), 1, 2), (("-m", "not browser"), 1, 2), (("-m", "slow"), 1, 2), (("-m", "slow or not slow"), 2, 1)],
)
def test_slow_runs_need_marker(
    marked: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], passed: int, deselected: int
) -> None:
    monkeypatch.delenv("COPILOT_REQUIRE_BROWSER", raising=False)

    result = marked.runpytest("-k", "not page", *args)

    result.assert_outcomes(passed=passed, deselected=deselected)
