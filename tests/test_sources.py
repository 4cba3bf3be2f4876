"""The dashboard's data sources: their order, live GitHub data and the history store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from history_fixtures import *  # noqa: F403 - moto's S3 server fixtures
from history_fixtures import NEWEST_SETTLED, TODAY, FakeSource, Fault, FaultProxy, new_bucket
from model_builders import SAMPLES

from copilot_lib import app, history_view
from copilot_lib.archive import archive
from copilot_lib.fake_github import FakeAccount, FakeClock, FakeGitHub
from copilot_lib.fake_github import Fault as GitHubFault
from copilot_lib.fake_github.samples import make_org_day, make_user_days
from copilot_lib.history import Entity, History
from copilot_lib.legacy import load_legacy
from copilot_lib.secrets import MASK
from copilot_lib.store import LocalStore, S3Store

pytest_plugins = ["fixtures_github"]

REPORTS = SAMPLES / "reports"
ORG_ID = 4455667
LATEST = "/orgs/acme/copilot/metrics/reports/organization-28-day/latest"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A history store with 10 archived demo days and the legacy sample archives."""
    root = tmp_path_factory.mktemp("store")
    history = History(LocalStore(root))
    entity = Entity("org", "acme")
    archive(FakeSource(days=10), history, entity, today=TODAY, since=NEWEST_SETTLED - timedelta(days=11))
    history.save_legacy(entity, load_legacy(SAMPLES / "legacy"))
    return root


def live_env(fake: FakeGitHub, token: str) -> dict[str, str]:
    return {"GITHUB_API_URL": fake.url, "GITHUB_ORG": "acme", "GITHUB_TOKEN": token}


def serve_latest(fake: FakeGitHub, org: FakeAccount, clock: FakeClock) -> None:
    days = [clock.today() - timedelta(days=n) for n in (3, 2)]
    users = [row for day in days for row in make_user_days(ORG_ID, day, 4)]
    org_days = [make_org_day(ORG_ID, day, make_user_days(ORG_ID, day, 4)) for day in days]
    fake.set_report(org, "users-28-day/latest", users, window=(days[0], days[-1]), parts=2)
    fake.set_report(org, "organization-28-day/latest", org_days, window=(days[0], days[-1]), parts=1)


def test_data_dir_comes_first(store_path: Path) -> None:
    env = {"COPILOT_DATA_DIR": str(REPORTS), "COPILOT_STORE": str(store_path), "GITHUB_ORG": "acme"}
    source = app.load_source({**env, "GITHUB_TOKEN": "ghp_unused"})
    assert source.error is None
    assert source.label == f"Report files in {REPORTS}"
    assert not source.history


def test_store_comes_before_live_data(store_path: Path) -> None:
    env = {"COPILOT_STORE": str(store_path), "GITHUB_ORG": "acme", "GITHUB_TOKEN": "ghp_unused"}
    source = app.load_source(env)
    assert source.error is None
    assert source.history
    assert source.label == f"History store {store_path}"
    assert source.days is not None and set(source.days["status"]) == {"stored", "gap"}


@pytest.mark.parametrize("env", [{}, {"GITHUB_ORG": "acme"}, {"GITHUB_TOKEN": "ghp_x"}, {"GITHUB_ENTERPRISE": " "}])
def test_demo_data_without_complete_github_settings(env: dict[str, str]) -> None:
    assert app.live_configured(env) is False
    assert app.live_configured({**env, "GITHUB_ENTERPRISE": "big", "GITHUB_APP_ID": "1"})


@pytest.mark.parametrize(
    ("credential", "expected"),
    [
        ({"GITHUB_APP_CLIENT_ID": "Iv1.abc"}, "has no private key"),
        ({"GITHUB_APP_PRIVATE_KEY_PATH": "/nonexistent/app.pem"}, "no GitHub credentials"),
    ],
)
def test_incomplete_app_settings_name_what_is_missing(credential: dict[str, str], expected: str) -> None:
    source = app.load_source({"GITHUB_ORG": "acme", **credential})
    assert source.tables is None
    assert source.error is not None
    assert expected in source.error
    assert source.fix == "Check the GitHub settings"


def test_live_data_with_a_token(fake: FakeGitHub, org: FakeAccount, clock: FakeClock, personal_token: str) -> None:
    serve_latest(fake, org, clock)
    steps: list[tuple[int, int, str]] = []
    source = app.load_source(live_env(fake, personal_token), on_progress=lambda *step: steps.append(step))
    assert source.error is None, source.error
    assert source.tables is not None
    assert source.label.startswith("Live data from GitHub for organisation acme")
    assert [step[:2] for step in steps] == [(1, 3), (2, 3), (3, 3)]
    assert steps[-1][2] == "seats"
    assert len(source.tables.frames["seats"]) == 250
    assert source.tables.user_daily["user_id"].nunique() == 4
    assert sorted(source.tables.user_daily["day"].dt.date.unique()) == [
        clock.today() - timedelta(days=n) for n in (3, 2)
    ]
    dashboard = app.Dashboard(source, today=clock.today())
    assert "History" not in dashboard.tab_widget.titles


def test_live_data_with_an_app(fake: FakeGitHub, org: FakeAccount, clock: FakeClock, tmp_path: Path) -> None:
    serve_latest(fake, org, clock)
    key = tmp_path / "app.pem"
    key.write_text(fake.app_private_key_pem)
    env = {
        "GITHUB_API_URL": fake.url,
        "GITHUB_ORG": "acme",
        "GITHUB_APP_CLIENT_ID": fake.client_id,
        "GITHUB_APP_PRIVATE_KEY_PATH": str(key),
    }
    source = app.load_source(env)
    assert source.error is None, source.error
    assert source.tables is not None and not source.tables.user_daily.empty


def test_live_failure_is_a_message_without_the_token(
    fake: FakeGitHub, org: FakeAccount, clock: FakeClock, personal_token: str
) -> None:
    serve_latest(fake, org, clock)
    # A proxy or a GitHub error page may echo the request, token included.
    body = {"message": f"Resource not accessible by personal access token {personal_token}"}
    fake.add_faults(LATEST, GitHubFault(status=403, body=body))
    source = app.load_source(live_env(fake, personal_token))
    assert source.tables is None
    assert source.error is not None
    assert "403" in source.error or "not accessible" in source.error
    assert personal_token not in source.error
    assert "Traceback" not in source.error
    dashboard = app.Dashboard(source)
    panel = dashboard.widget.children[1]
    assert "copilot-error" in panel._dom_classes
    assert personal_token not in panel.value
    assert "Check the GitHub settings (now GITHUB_ORG=acme)" in panel.value


def test_mask_hides_token_and_private_key_lines() -> None:
    key = "-----BEGIN KEY-----\nMIIEpAIBAAKCAQEA1234\n-----END KEY-----\n"
    text = app.mask("bad token ghp_canary123 and key line MIIEpAIBAAKCAQEA1234", ["ghp_canary123", key])
    assert "ghp_canary123" not in text
    assert "MIIEpAIBAAKCAQEA1234" not in text
    assert text.count(MASK) == 2


def test_progress_message_counts_steps() -> None:
    message = app.widgets.HTML()
    app.progress_message(message)(2, 3, "users-28-day/latest")
    assert "downloaded 2 of 3 from GitHub (users-28-day/latest)" in message.value


def test_store_builds_the_history_tab(store_path: Path) -> None:
    source = app.load_source({"COPILOT_STORE": str(store_path)})
    dashboard = app.Dashboard(source, today=TODAY)
    titles = dashboard.tab_widget.titles
    assert titles[-1] == "History"
    index = titles.index("History")
    dashboard.tab_widget.selected_index = index
    view = dashboard.views[index]
    assert isinstance(view, history_view.HistoryView)
    figure = view.activity.chart.figure
    assert figure is not None
    names = [trace.name for trace in figure.data]
    assert "Legacy API: suggestions shown (different definition)" in names
    table = view.table.frame
    assert table["legacy_suggestions"].notna().any()
    assert table["code_generation_activity_count"].notna().any()
    assert table["stored_days"].sum() == 10
    # The legacy samples predate the usage metrics reports, so API changes lie in between.
    labels = {annotation.text for annotation in figure.layout.annotations}
    assert "/copilot/metrics sunset" in labels


def test_unreadable_store_is_a_message(tmp_path: Path) -> None:
    source = app.load_source({"COPILOT_STORE": "ftp://example/store"})
    assert source.tables is None
    assert source.error is not None and "unsupported store" in source.error
    assert source.fix == "Check COPILOT_STORE"


def test_s3_store_loads_and_fails_readably(
    s3_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bucket = new_bucket(s3_proxy)
    store = S3Store(bucket, "archive", endpoint_url=s3_proxy.url)
    # Three weekdays: the demo data has no user rows on some weekend days.
    end = NEWEST_SETTLED - timedelta(days=3)
    archive(
        FakeSource(end=end, days=3), History(store), Entity("org", "acme"), today=TODAY, since=end - timedelta(days=2)
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_proxy.url)
    env = {"COPILOT_STORE": f"s3://{bucket}/archive", "COPILOT_CACHE_DIR": str(tmp_path / "cache")}

    source = app.load_source(env)
    assert source.error is None, source.error
    assert list((tmp_path / "cache").glob("*/index.json"))
    assert source.history
    assert source.tables is not None and source.tables.user_daily["day"].nunique() == 3

    s3_proxy.inject(Fault("GET", bucket, 403, "AccessDenied"))
    try:
        failed = app.load_source(env)
    finally:
        s3_proxy.clear()
    assert failed.tables is None
    assert failed.error is not None and "AccessDenied" in failed.error
    assert failed.fix == "Check COPILOT_STORE"
