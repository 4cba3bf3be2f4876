"""Fixtures for the GitHub client tests: a fake GitHub server and clients pointed at it.

Test modules load them with ``pytest_plugins = ["fixtures_github"]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from copilot_lib.auth import AppAuth, TokenAuth, load_private_key
from copilot_lib.fake_github import FakeAccount, FakeClock, FakeGitHub
from copilot_lib.fake_github.samples import make_seats, make_teams
from copilot_lib.http import GitHubClient, RetryPolicy
from copilot_lib.secrets import Secret

PERSONAL_TOKEN = "ghp_fixtureTokenFixtureToken000000000000"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def app_key() -> rsa.RSAPrivateKey:
    """The fake App's RSA key, generated once per run because generating takes a moment."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def fake(clock: FakeClock, app_key: rsa.RSAPrivateKey) -> Iterator[FakeGitHub]:
    with FakeGitHub(clock=clock, app_private_key=app_key) as server:
        server.add_personal_token(PERSONAL_TOKEN)
        yield server


@pytest.fixture
def org(fake: FakeGitHub) -> FakeAccount:
    return fake.add_org("acme", seats=make_seats(250), teams=make_teams("acme", 4455667, ["payments", "platform"]))


@pytest.fixture
def sleeps() -> list[float]:
    """The delays the client asked to sleep, in order; nothing actually sleeps."""
    return []


def make_client(
    fake: FakeGitHub,
    clock: FakeClock,
    sleeps: list[float],
    *,
    org: str | None = "acme",
    enterprise: str | None = None,
    token: str | None = None,
    policy: RetryPolicy | None = None,
    timeout: tuple[float, float] = (2.0, 5.0),
) -> GitHubClient:
    if token is not None:
        auth: AppAuth | TokenAuth = TokenAuth(Secret(token))
    else:
        key = load_private_key(Secret(fake.app_private_key_pem), "test")
        auth = AppAuth(issuer=fake.client_id, private_key=key, org=org, enterprise=enterprise, clock=clock)
    return GitHubClient(
        fake.url,
        auth,
        policy=policy,
        timeout=timeout,
        sleep=sleeps.append,
        clock=clock,
        jitter=lambda: 1.0,
    )


@pytest.fixture
def client(fake: FakeGitHub, org: FakeAccount, clock: FakeClock, sleeps: list[float]) -> Iterator[GitHubClient]:
    with make_client(fake, clock, sleeps) as github_client:
        yield github_client


@pytest.fixture
def client_factory(fake: FakeGitHub, clock: FakeClock, sleeps: list[float]) -> Iterator[Any]:
    """Return ``make(**options)`` that builds more clients like ``client``; all are closed after."""
    made: list[GitHubClient] = []

    def make(**options: Any) -> GitHubClient:
        made.append(make_client(fake, clock, sleeps, **options))
        return made[-1]

    yield make
    for github_client in made:
        github_client.close()


@pytest.fixture
def personal_token() -> str:
    return PERSONAL_TOKEN
