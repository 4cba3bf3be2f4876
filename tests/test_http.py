"""Retries, rate limits, error mapping and paging of the HTTP layer, against the fake server."""

from __future__ import annotations

from typing import Any

import pytest

from copilot_lib import __version__
from copilot_lib.errors import (
    GitHubError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from copilot_lib.fake_github import FakeAccount, FakeClock, FakeGitHub, Fault
from copilot_lib.github import Scope, fetch_seat_listing, fetch_seats, fetch_teams
from copilot_lib.http import API_VERSION, GitHubClient, RetryPolicy, parse_link_header

pytest_plugins = ["fixtures_github"]

BILLING = "/orgs/acme/copilot/billing"
SEATS = "/orgs/acme/copilot/billing/seats"
MAX_RETRIES = RetryPolicy().max_retries

TRANSIENT_FAULTS = {
    "500": Fault(status=500),
    "502": Fault(status=502),
    "503": Fault(status=503),
    "504": Fault(status=504),
    "dropped connection": Fault(drop=True),
    "truncated body": Fault(truncate=True),
    "read timeout": Fault(delay=0.6),
}


def _get_billing(client: GitHubClient) -> Any:
    return client.get_json(BILLING)


@pytest.mark.parametrize("kind", sorted(TRANSIENT_FAULTS))
def test_transient_fault_retried_until_success(
    kind: str, fake: FakeGitHub, org: FakeAccount, client_factory: Any, sleeps: list[float]
) -> None:
    client = client_factory(timeout=(2.0, 0.3))
    fake.add_faults(BILLING, *[TRANSIENT_FAULTS[kind]] * MAX_RETRIES)
    assert _get_billing(client)["seat_breakdown"]["total"] == 250
    assert len(fake.calls(BILLING)) == MAX_RETRIES + 1
    assert len(sleeps) == MAX_RETRIES


@pytest.mark.parametrize("kind", sorted(TRANSIENT_FAULTS))
def test_transient_fault_gives_up_after_max_retries(
    kind: str, fake: FakeGitHub, org: FakeAccount, client_factory: Any
) -> None:
    client = client_factory(timeout=(2.0, 0.3))
    fake.add_faults(BILLING, *[TRANSIENT_FAULTS[kind]] * (MAX_RETRIES + 1))
    with pytest.raises(GitHubError, match=f"failed after {MAX_RETRIES + 1} attempts"):
        _get_billing(client)
    assert len(fake.calls(BILLING)) == MAX_RETRIES + 1


def test_backoff_is_exponential_and_bounded(
    fake: FakeGitHub, org: FakeAccount, client_factory: Any, sleeps: list[float]
) -> None:
    client = client_factory(policy=RetryPolicy(max_retries=6, backoff_base=1.0, backoff_max=8.0))
    fake.add_faults(BILLING, *[Fault(status=502)] * 6)
    _get_billing(client)
    assert sleeps == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_retry_after_honoured(fake: FakeGitHub, org: FakeAccount, client: GitHubClient, sleeps: list[float]) -> None:
    fake.add_faults(BILLING, Fault.rate_limited(retry_after=7, status=429))
    _get_billing(client)
    assert sleeps == [7.0]
    assert len(fake.calls(BILLING)) == 2


def test_ratelimit_reset_waited_for(
    fake: FakeGitHub, org: FakeAccount, client: GitHubClient, sleeps: list[float], clock: FakeClock
) -> None:
    fake.add_faults(BILLING, Fault.rate_limited(reset_at=clock() + 120))
    _get_billing(client)
    assert len(sleeps) == 1
    assert 120 <= sleeps[0] <= 122
    assert len(fake.calls(BILLING)) == 2


def test_ratelimit_reset_beyond_max_wait_raises(
    fake: FakeGitHub, org: FakeAccount, client: GitHubClient, sleeps: list[float], clock: FakeClock
) -> None:
    reset = clock() + 3000
    fake.add_faults(BILLING, Fault.rate_limited(reset_at=reset))
    with pytest.raises(RateLimitError, match="retry after") as caught:
        _get_billing(client)
    assert caught.value.retry_at is not None
    assert abs(caught.value.retry_at.timestamp() - reset) <= 2
    assert sleeps == []
    assert len(fake.calls(BILLING)) == 1


def test_secondary_rate_limit_waits_at_least_a_minute(
    fake: FakeGitHub, org: FakeAccount, client: GitHubClient, sleeps: list[float]
) -> None:
    message = "You have exceeded a secondary rate limit. Please wait a few minutes."
    fake.add_faults(BILLING, Fault.rate_limited(message=message), Fault.rate_limited(message=message))
    _get_billing(client)
    assert sleeps == [60.0, 120.0]
    assert len(fake.calls(BILLING)) == 3


def test_rate_limit_retries_bounded(
    fake: FakeGitHub, org: FakeAccount, client: GitHubClient, sleeps: list[float]
) -> None:
    retries = RetryPolicy().max_rate_limit_retries
    fake.add_faults(BILLING, *[Fault.rate_limited(retry_after=1, status=429)] * (retries + 1))
    with pytest.raises(RateLimitError, match=f"after {retries} waits"):
        _get_billing(client)
    assert len(fake.calls(BILLING)) == retries + 1
    assert sleeps == [1.0] * retries


def test_permission_403_not_retried(fake: FakeGitHub, client_factory: Any, sleeps: list[float]) -> None:
    fake.add_org("acme", permissions={"members": "read"})
    client = client_factory()
    with pytest.raises(PermissionDeniedError) as caught:
        _get_billing(client)
    message = str(caught.value)
    assert "GitHub Copilot Business" in message
    assert "manage_billing:copilot" in message
    assert "HTTP 403" in message
    assert len(fake.calls(BILLING)) == 1
    assert sleeps == []


def test_404_not_retried(fake: FakeGitHub, org: FakeAccount, client: GitHubClient) -> None:
    with pytest.raises(NotFoundError, match="x-github-request-id"):
        client.get_json("/orgs/acme/no-such-thing")
    assert len(fake.calls("/orgs/acme/no-such-thing")) == 1


def test_standard_headers_sent(fake: FakeGitHub, org: FakeAccount, client: GitHubClient) -> None:
    _get_billing(client)
    headers = fake.calls(BILLING)[0].headers
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == API_VERSION == "2026-03-10"
    assert headers["user-agent"] == f"copilot-dashboard/{__version__}"
    assert headers["authorization"].startswith("Bearer ghs_")


@pytest.mark.parametrize("concurrent", [False, True])
def test_seats_paged_across_three_pages(
    concurrent: bool, fake: FakeGitHub, org: FakeAccount, client: GitHubClient
) -> None:
    seats = list(fetch_seats(client, Scope.org("acme"), concurrent=concurrent))
    assert seats == org.seats
    calls = fake.calls(SEATS)
    assert len(calls) == 3
    assert sorted(call.query.get("page", "1") for call in calls) == ["1", "2", "3"]
    assert all(call.query["per_page"] == "100" for call in calls)


def test_seat_listing_keeps_nulls(org: FakeAccount, client: GitHubClient) -> None:
    listing = fetch_seat_listing(client, Scope.org("acme"))
    assert listing["total_seats"] == 250
    assert len(listing["seats"]) == 250
    assert any(seat["assignee"] is None for seat in listing["seats"])
    assert any(seat["last_activity_at"] is None for seat in listing["seats"])


def test_page_fault_retried_during_concurrent_paging(fake: FakeGitHub, org: FakeAccount, client: GitHubClient) -> None:
    fake.add_faults(SEATS, Fault(), Fault(status=503))  # first page fine, second attempt 503
    seats = list(fetch_seats(client, Scope.org("acme")))
    assert len(seats) == 250
    assert len(fake.calls(SEATS)) == 4


def test_per_page_clamped_to_100(fake: FakeGitHub, org: FakeAccount, client: GitHubClient) -> None:
    response = client.request("GET", SEATS, params={"per_page": 500})
    assert len(response.json()["seats"]) == 100
    links = parse_link_header(response.headers["Link"])
    assert links["next"].endswith("per_page=100&page=2")
    assert links["last"].endswith("per_page=100&page=3")


def test_teams_paged(fake: FakeGitHub, client_factory: Any) -> None:
    from copilot_lib.fake_github.samples import make_teams

    fake.add_org("acme", teams=make_teams("acme", 1, [f"team-{n}" for n in range(130)]))
    teams = list(fetch_teams(client_factory(), "acme"))
    assert [team["slug"] for team in teams] == [f"team-{n}" for n in range(130)]
    assert len(fake.calls("/orgs/acme/teams")) == 2


def test_parse_link_header() -> None:
    header = '<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=4>; rel="last"'
    assert parse_link_header(header) == {
        "next": "https://api.github.com/x?page=2",
        "last": "https://api.github.com/x?page=4",
    }
    assert parse_link_header("") == {}


def test_credentials_not_sent_to_other_host(org: FakeAccount, client: GitHubClient) -> None:
    with pytest.raises(GitHubError, match="refusing to send GitHub credentials"):
        client.request("GET", "http://127.0.0.2:1/orgs/acme/teams")
