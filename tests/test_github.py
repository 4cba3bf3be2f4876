"""Report endpoints, their not-ready forms and expired links, against the fake server."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from copilot_lib.errors import DayOutOfRangeError, ReportLinkExpiredError
from copilot_lib.fake_github import FakeAccount, FakeClock, FakeGitHub, Fault, NotReady
from copilot_lib.github import (
    NotReadyForm,
    Report,
    ReportNotAvailable,
    Scope,
    all_reports,
    check_day,
    fetch_billing,
    fetch_report,
)
from copilot_lib.http import GitHubClient

pytest_plugins = ["fixtures_github"]

ORG = Scope.org("acme")
REPORT_PATH = "/orgs/acme/copilot/metrics/reports/{}"


def _day(clock: FakeClock, days_ago: int = 2) -> date:
    return clock.today() - timedelta(days=days_ago)


def _rows(day: date | None, count: int) -> list[dict[str, Any]]:
    return [
        {"day": (day or date(2026, 8, 25)).isoformat(), "organization_id": "4455667", "user_id": n}
        for n in range(count)
    ]


@pytest.mark.parametrize("scope_kind", ["org", "enterprise"])
def test_all_six_reports_downloaded(
    scope_kind: str, fake: FakeGitHub, clock: FakeClock, client_factory: Any, personal_token: str
) -> None:
    if scope_kind == "org":
        account, scope = fake.add_org("acme"), ORG
        client = client_factory()
    else:
        account, scope = fake.add_enterprise("octo-ent"), Scope.enterprise("octo-ent")
        client = client_factory(org=None, enterprise="octo-ent")
    day = _day(clock)
    for name in all_reports(scope):
        report_day = day if name.endswith("-1-day") else None
        window = None if report_day else (day - timedelta(days=27), day)
        fake.set_report(account, name, _rows(report_day, 5), day=report_day, window=window, parts=3)
    for name in all_reports(scope):
        result = fetch_report(client, scope, name, day if name.endswith("-1-day") else None)
        assert isinstance(result, Report), name
        assert len(result.parts) == 3
        assert [row["user_id"] for row in result.records()] == list(range(5))
        assert result.content().count(b"\n") == 5
    downloads = [call for call in fake.calls() if call.path.startswith("/_reports/")]
    assert len(downloads) == 6 * 3
    assert all("authorization" not in call.headers for call in downloads)


def test_envelope_days_kept(fake: FakeGitHub, org: FakeAccount, client: GitHubClient, clock: FakeClock) -> None:
    day = _day(clock)
    window = (day - timedelta(days=27), day)
    fake.set_report(org, "users-28-day/latest", _rows(None, 3), window=window)
    result = fetch_report(client, ORG, "users-28-day/latest")
    assert isinstance(result, Report)
    assert result.envelope["report_start_day"] == window[0].isoformat()
    assert result.envelope["report_end_day"] == day.isoformat()


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        (NotReady.NOT_FOUND, NotReadyForm.NOT_FOUND),
        (NotReady.NO_CONTENT, NotReadyForm.NO_CONTENT),
        (NotReady.MESSAGE, NotReadyForm.MESSAGE),
    ],
)
def test_not_ready_forms(
    form: NotReady,
    expected: NotReadyForm,
    fake: FakeGitHub,
    org: FakeAccount,
    client: GitHubClient,
    clock: FakeClock,
) -> None:
    day = _day(clock)
    fake.set_not_ready(org, "organization-1-day", form, day=day)
    result = fetch_report(client, ORG, "organization-1-day", day)
    assert isinstance(result, ReportNotAvailable)
    assert result.form is expected
    assert day.isoformat() in result.describe()
    assert len(fake.calls(REPORT_PATH.format("organization-1-day"))) == 1


def test_unprocessed_day_is_not_available(org: FakeAccount, client: GitHubClient, clock: FakeClock) -> None:
    result = fetch_report(client, ORG, "users-1-day", _day(clock, 1))
    assert isinstance(result, ReportNotAvailable)
    assert result.form is NotReadyForm.NOT_FOUND


def test_not_ready_message_text_kept(fake: FakeGitHub, org: FakeAccount, client: GitHubClient) -> None:
    fake.set_not_ready(org, "users-28-day/latest", NotReady.MESSAGE)
    result = fetch_report(client, ORG, "users-28-day/latest")
    assert isinstance(result, ReportNotAvailable)
    assert result.message == "No report available for this day"


def test_expired_link_requested_again_once(
    fake: FakeGitHub, org: FakeAccount, client: GitHubClient, clock: FakeClock
) -> None:
    day = _day(clock)
    fake.set_report(org, "users-1-day", _rows(day, 4), day=day)
    path = REPORT_PATH.format("users-1-day")
    fake.add_faults(path, Fault(expired_links=True))
    result = fetch_report(client, ORG, "users-1-day", day)
    assert isinstance(result, Report)
    assert len(list(result.records())) == 4
    assert len(fake.calls(path)) == 2
    rejected = [call for call in fake.calls() if call.path.startswith("/_reports/") and call.status == 403]
    assert len(rejected) == 1


def test_link_expired_twice_raises(fake: FakeGitHub, org: FakeAccount, client: GitHubClient, clock: FakeClock) -> None:
    day = _day(clock)
    fake.set_report(org, "users-1-day", _rows(day, 4), day=day)
    path = REPORT_PATH.format("users-1-day")
    fake.add_faults(path, Fault(expired_links=True), Fault(expired_links=True))
    with pytest.raises(ReportLinkExpiredError, match="request the report again") as caught:
        fetch_report(client, ORG, "users-1-day", day)
    assert "sig=" not in str(caught.value)
    assert len(fake.calls(path)) == 2


def test_link_expires_with_server_clock(
    fake: FakeGitHub, org: FakeAccount, client: GitHubClient, clock: FakeClock
) -> None:
    day = _day(clock)
    fake.set_report(org, "users-1-day", _rows(day, 1), day=day)
    envelope = client.get_json(REPORT_PATH.format("users-1-day"), params={"day": day.isoformat()})
    clock.advance(fake.link_ttl + 1)
    with pytest.raises(ReportLinkExpiredError):
        client.download(envelope["download_links"][0])


def test_report_server_error_retried(
    fake: FakeGitHub, org: FakeAccount, client: GitHubClient, clock: FakeClock
) -> None:
    day = _day(clock)
    fake.set_report(org, "repos-1-day", _rows(day, 2), day=day)
    path = REPORT_PATH.format("repos-1-day")
    fake.add_faults(path, Fault(status=500))
    assert isinstance(fetch_report(client, ORG, "repos-1-day", day), Report)
    assert len(fake.calls(path)) == 2


@pytest.mark.parametrize(
    ("scope", "day", "match"),
    [
        (Scope.org("acme"), date(2025, 12, 11), "before 2025-12-12"),
        (Scope.enterprise("octo-ent"), date(2025, 10, 9), "before 2025-10-10"),
        (Scope.org("acme"), None, "after yesterday"),
    ],
)
def test_day_out_of_range_rejected_before_any_call(
    scope: Scope,
    day: date | None,
    match: str,
    fake: FakeGitHub,
    client: GitHubClient,
    clock: FakeClock,
) -> None:
    requested = day or clock.today()
    with pytest.raises(DayOutOfRangeError, match=match):
        fetch_report(client, scope, f"{scope.entity_report}-1-day", requested)
    assert fake.calls() == []


def test_first_days_accepted() -> None:
    check_day(Scope.org("acme"), date(2025, 12, 12), today=date(2026, 9, 1))
    check_day(Scope.enterprise("e"), date(2025, 10, 10), today=date(2026, 9, 1))
    check_day(Scope.org("acme"), date(2026, 8, 31), today=date(2026, 9, 1))


def test_retired_endpoints_answer_404_and_are_never_called(
    fake: FakeGitHub, org: FakeAccount, client: GitHubClient, clock: FakeClock
) -> None:
    from copilot_lib.errors import NotFoundError

    for path in ("/orgs/acme/copilot/usage", "/orgs/acme/copilot/metrics"):
        with pytest.raises(NotFoundError):
            client.get_json(path)
    fake.requests.clear()
    day = _day(clock)
    for name in all_reports(ORG):
        fetch_report(client, ORG, name, day if name.endswith("-1-day") else None)
    fetch_billing(client, "acme")
    retired = re.compile(r"/copilot/(usage|metrics)$")
    assert fake.calls()
    assert not [call for call in fake.calls() if retired.search(call.path)]


def test_enterprise_seats_need_personal_token(fake: FakeGitHub, client_factory: Any, personal_token: str) -> None:
    from copilot_lib.errors import PermissionDeniedError
    from copilot_lib.fake_github.samples import make_seats
    from copilot_lib.github import fetch_seat_listing

    fake.add_enterprise("octo-ent", seats=make_seats(120))
    scope = Scope.enterprise("octo-ent")
    with pytest.raises(PermissionDeniedError, match="classic personal access token"):
        fetch_seat_listing(client_factory(org=None, enterprise="octo-ent"), scope)
    listing = fetch_seat_listing(client_factory(token=personal_token), scope)
    assert listing["total_seats"] == 120
    assert len(listing["seats"]) == 120
