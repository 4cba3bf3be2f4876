"""GitHub App and token authentication against the fake GitHub server."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from copilot_lib import config
from copilot_lib.auth import (
    AppAuth,
    auth_from_settings,
    load_private_key,
    private_key_from_settings,
)
from copilot_lib.config import github_settings
from copilot_lib.errors import AuthenticationError, ConfigError, GitHubError, NotFoundError
from copilot_lib.fake_github import FakeAccount, FakeClock, FakeGitHub
from copilot_lib.github import Scope, connect, fetch_billing, fetch_seat_listing
from copilot_lib.http import GitHubClient
from copilot_lib.secrets import Secret

pytest_plugins = ["fixtures_github"]

TOKENS_PATH = "/app/installations/{}/access_tokens"


def _app_auth(fake: FakeGitHub, clock: FakeClock, issuer: str | int, **kwargs: object) -> AppAuth:
    key = load_private_key(Secret(fake.app_private_key_pem), "test")
    return AppAuth(issuer=issuer, private_key=key, clock=clock, **kwargs)  # type: ignore[arg-type]


def test_jwt_claims_follow_github_rules(fake: FakeGitHub, clock: FakeClock) -> None:
    auth = _app_auth(fake, clock, fake.client_id, org="acme")
    token = auth.jwt()
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, fake.app_public_key, algorithms=["RS256"], options={"verify_exp": False})
    now = int(clock())
    assert header["alg"] == "RS256"
    assert claims["iat"] == now - 60
    assert claims["exp"] == now + 540
    assert claims["exp"] - now <= 600
    assert claims["iss"] == fake.client_id


def test_jwt_numeric_app_id_is_integer(fake: FakeGitHub, clock: FakeClock) -> None:
    auth = _app_auth(fake, clock, str(fake.app_id), org="acme")
    claims = jwt.decode(auth.jwt(), fake.app_public_key, algorithms=["RS256"], options={"verify_exp": False})
    assert claims["iss"] == fake.app_id
    assert isinstance(claims["iss"], int)


def test_numeric_app_id_accepted_by_server(fake: FakeGitHub, org: FakeAccount, clock: FakeClock) -> None:
    auth = _app_auth(fake, clock, fake.app_id, org="acme")
    with GitHubClient(fake.url, auth, clock=clock) as client:
        assert fetch_billing(client, "acme")["seat_breakdown"]["total"] == 250


def test_installation_found_then_token_minted(client: GitHubClient, fake: FakeGitHub, org: FakeAccount) -> None:
    fetch_billing(client, "acme")
    fetch_billing(client, "acme")
    assert len(fake.calls("/orgs/acme/installation", "GET")) == 1
    assert len(fake.calls(TOKENS_PATH.format(org.installation_id), "POST")) == 1
    assert len(fake.calls("/orgs/acme/copilot/billing")) == 2


def test_configured_installation_id_skips_lookup(fake: FakeGitHub, org: FakeAccount, clock: FakeClock) -> None:
    auth = _app_auth(fake, clock, fake.client_id, org="acme", installation_id=org.installation_id)
    with GitHubClient(fake.url, auth, clock=clock) as client:
        fetch_billing(client, "acme")
    assert fake.calls("/orgs/acme/installation") == []
    assert len(fake.calls(TOKENS_PATH.format(org.installation_id))) == 1


def test_token_reused_until_five_minutes_before_expiry(
    client: GitHubClient, fake: FakeGitHub, org: FakeAccount, clock: FakeClock
) -> None:
    mint_path = TOKENS_PATH.format(org.installation_id)
    fetch_billing(client, "acme")
    clock.advance(3600 - 301)  # 5 min 1 s before expires_at
    fetch_billing(client, "acme")
    assert len(fake.calls(mint_path)) == 1
    clock.advance(2)  # now 4 min 59 s before expires_at
    fetch_billing(client, "acme")
    assert len(fake.calls(mint_path)) == 2


def test_token_reminted_once_after_401(client: GitHubClient, fake: FakeGitHub, org: FakeAccount) -> None:
    mint_path = TOKENS_PATH.format(org.installation_id)
    fetch_billing(client, "acme")
    fake.revoke_tokens()
    assert fetch_billing(client, "acme")["seat_breakdown"]["total"] == 250
    assert len(fake.calls(mint_path)) == 2
    statuses = [call.status for call in fake.calls("/orgs/acme/copilot/billing")]
    assert statuses == [200, 401, 200]


def test_persistent_401_raises_after_one_remint(client: GitHubClient, fake: FakeGitHub, org: FakeAccount) -> None:
    from copilot_lib.fake_github import Fault

    fake.add_faults("/orgs/acme/copilot/billing", Fault(status=401), Fault(status=401))
    with pytest.raises(AuthenticationError, match="rejected the credentials"):
        fetch_billing(client, "acme")
    assert len(fake.calls("/orgs/acme/copilot/billing")) == 2
    assert len(fake.calls(TOKENS_PATH.format(org.installation_id))) == 2


def test_malformed_pem_is_config_error() -> None:
    with pytest.raises(ConfigError, match="GITHUB_APP_PRIVATE_KEY is not a valid PEM") as caught:
        load_private_key(Secret("-----BEGIN RSA PRIVATE KEY-----\nnot a key\n"), "GITHUB_APP_PRIVATE_KEY")
    assert "not a key" not in str(caught.value)


def test_non_rsa_key_is_config_error() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ConfigError, match="not an RSA key"):
        load_private_key(Secret(pem.decode()), "test")


def test_unknown_app_id_is_clear_error(fake: FakeGitHub, org: FakeAccount, clock: FakeClock) -> None:
    auth = _app_auth(fake, clock, 999999, org="acme")
    with (
        GitHubClient(fake.url, auth, clock=clock) as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        fetch_billing(client, "acme")
    message = str(caught.value)
    assert "GitHub App 999999" in message
    assert "GITHUB_APP_CLIENT_ID" in message
    assert len(fake.calls("/orgs/acme/installation")) == 1


def test_key_of_another_app_rejected(fake: FakeGitHub, org: FakeAccount, clock: FakeClock) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    auth = AppAuth(issuer=fake.client_id, private_key=other, org="acme", clock=clock)
    with GitHubClient(fake.url, auth, clock=clock) as client, pytest.raises(AuthenticationError):
        fetch_billing(client, "acme")


def test_app_not_installed_names_org(fake: FakeGitHub, client_factory: Any) -> None:
    fake.add_org("acme", installed=False)
    client = client_factory()
    with pytest.raises(NotFoundError) as caught:
        fetch_billing(client, "acme")
    message = str(caught.value)
    assert "not installed on organisation 'acme'" in message
    assert "GITHUB_APP_INSTALLATION_ID" in message
    assert len(fake.calls("/orgs/acme/installation")) == 1


def test_enterprise_installation_discovered(fake: FakeGitHub, client_factory: Any) -> None:
    enterprise = fake.add_enterprise("octo-ent")
    fake.set_report(enterprise, "enterprise-28-day/latest", [{"day": "2026-08-25"}], window=("a", "b"))
    client = client_factory(org=None, enterprise="octo-ent")
    body = client.get_json("/enterprises/octo-ent/copilot/metrics/reports/enterprise-28-day/latest")
    assert len(body["download_links"]) == 2
    assert len(fake.calls("/enterprises/octo-ent/installation")) == 1
    assert len(fake.calls(TOKENS_PATH.format(enterprise.installation_id))) == 1


def test_org_token_rejected_on_enterprise_path(client: GitHubClient, fake: FakeGitHub, org: FakeAccount) -> None:
    from copilot_lib.errors import PermissionDeniedError

    fake.add_enterprise("octo-ent")
    with pytest.raises(PermissionDeniedError, match="Enterprise Copilot metrics"):
        client.get_json("/enterprises/octo-ent/copilot/metrics/reports/enterprise-28-day/latest")


def test_personal_token_auth(fake: FakeGitHub, org: FakeAccount, client_factory: Any, personal_token: str) -> None:
    listing = fetch_seat_listing(client_factory(token=personal_token), Scope.org("acme"))
    assert listing["total_seats"] == 250
    assert fake.calls("/orgs/acme/installation") == []
    assert all(call.headers["authorization"] == f"Bearer {personal_token}" for call in fake.calls())


def test_settings_key_from_file(fake: FakeGitHub, org: FakeAccount, tmp_path: object) -> None:
    from pathlib import Path

    key_file = Path(str(tmp_path)) / "app.pem"
    key_file.write_text(fake.app_private_key_pem)
    settings = github_settings(
        org="acme",
        api_url=fake.url,
        app_client_id=fake.client_id,
        private_key_path=str(key_file),
        environ={},
    )
    with connect(settings) as client:
        assert fetch_billing(client, "acme")["plan_type"] == "business"


def test_settings_key_with_literal_newlines(fake: FakeGitHub, org: FakeAccount) -> None:
    one_line = fake.app_private_key_pem.strip().replace("\n", "\\n")
    environ = {
        config.ENV_ORG: "acme",
        config.ENV_API_URL: fake.url,
        config.ENV_APP_ID: str(fake.app_id),
        config.ENV_APP_PRIVATE_KEY: one_line,
    }
    settings = github_settings(environ=environ)
    assert isinstance(auth_from_settings(settings), AppAuth)
    with connect(settings) as client:
        assert fetch_billing(client, "acme")["plan_type"] == "business"


def test_settings_missing_key_is_config_error() -> None:
    with pytest.raises(ConfigError, match="has no private key"):
        github_settings(org="acme", app_client_id="Iv23liX", environ={})


def test_settings_missing_file_is_config_error(tmp_path: object) -> None:
    settings = github_settings(
        org="acme", app_client_id="Iv23liX", private_key_path=f"{tmp_path}/missing.pem", environ={}
    )
    with pytest.raises(ConfigError, match="cannot read the GitHub App private key file"):
        private_key_from_settings(settings)


def test_settings_org_and_enterprise_conflict() -> None:
    environ = {config.ENV_ORG: "acme", config.ENV_ENTERPRISE: "octo-ent", config.ENV_TOKEN: "x"}
    with pytest.raises(ConfigError, match="set only one"):
        github_settings(environ=environ)
    assert github_settings(enterprise="octo-ent", environ=environ).org is None


def test_settings_bad_installation_id() -> None:
    with pytest.raises(ConfigError, match="is not a number"):
        github_settings(org="acme", token="x", installation_id="abc", environ={})


@pytest.mark.parametrize("url", ["not-a-url", "ftp://x", "http://", "https:///path", "http://[::1"])
def test_settings_invalid_api_url(url: str) -> None:
    with pytest.raises(ConfigError, match=r"invalid GitHub API URL .* \(from --api-url\)"):
        github_settings(org="acme", token="x", api_url=url, environ={})
    with pytest.raises(ConfigError, match=f"from {config.ENV_API_URL}"):
        github_settings(org="acme", token="x", environ={config.ENV_API_URL: url})


def test_settings_api_url_loses_trailing_slash() -> None:
    settings = github_settings(org="acme", token="x", api_url="http://127.0.0.1:8000/api/v3/", environ={})
    assert settings.api_url == "http://127.0.0.1:8000/api/v3"
    assert github_settings(org="acme", token="x", environ={}).api_url == config.DEFAULT_API_URL


def test_key_from_aws_secrets_manager(fake: FakeGitHub, org: FakeAccount, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        boto3.client("secretsmanager").create_secret(
            Name="copilot-dashboard/app-key", SecretString=fake.app_private_key_pem
        )
        settings = github_settings(
            org="acme",
            api_url=fake.url,
            app_client_id=fake.client_id,
            private_key_secret="copilot-dashboard/app-key",
            environ={},
        )
        with connect(settings) as client:
            assert fetch_billing(client, "acme")["plan_type"] == "business"
        missing = github_settings(org="acme", app_client_id=fake.client_id, private_key_secret="nope", environ={})
        with pytest.raises(ConfigError, match="cannot read AWS Secrets Manager secret 'nope'"):
            private_key_from_settings(missing)
    finally:
        server.stop()


CANARY_TOKEN = "ghp_CANARYcanaryCANARYcanary0123456789"


def test_secrets_never_in_logs_repr_or_errors(
    fake: FakeGitHub, org: FakeAccount, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    from copilot_lib.fake_github import Fault

    caplog.set_level(logging.DEBUG)
    key_pem = fake.app_private_key_pem
    key_body = key_pem.splitlines()[5]
    fake.add_personal_token(CANARY_TOKEN)
    texts: list[str] = []

    app_settings = github_settings(
        org="acme", api_url=fake.url, app_client_id=fake.client_id, private_key=key_pem, environ={}
    )
    token_settings = github_settings(org="acme", api_url=fake.url, token=CANARY_TOKEN, environ={})
    texts += [
        repr(app_settings),
        str(app_settings),
        repr(token_settings),
        f"{token_settings.token}",
    ]
    for settings in (app_settings, token_settings):
        with connect(settings, clock=clock, sleep=lambda _: None) as client:
            texts += [repr(client), repr(client.auth)]
            fetch_billing(client, "acme")
            installation_token = None
            if isinstance(client.auth, AppAuth):
                installation_token = client.auth._token.reveal()  # type: ignore[union-attr]
            fake.add_faults("/orgs/acme/copilot/billing", *[Fault(status=503)] * 5)
            fake.add_faults("/orgs/acme/teams", Fault(status=401), Fault(status=401))
            for call in (
                lambda: fetch_billing(client, "acme"),
                lambda: list(client.pages("/orgs/acme/teams")),
            ):
                with pytest.raises(GitHubError) as caught:
                    call()
                texts += [str(caught.value), repr(caught.value), repr(caught.value.__cause__)]
    fake.add_org("bad", installed=True)
    with pytest.raises(ConfigError) as bad_key:
        load_private_key(Secret(key_pem.replace(key_body, key_body[::-1])), "test")
    texts.append(str(bad_key.value))

    texts.append(caplog.text)
    everything = "\n".join(texts)
    assert key_body not in everything
    assert "PRIVATE KEY-----" not in everything
    assert CANARY_TOKEN not in everything
    assert installation_token is None or installation_token not in everything
    assert "ghs_" not in caplog.text


def test_secret_masks_value() -> None:
    secret = Secret(CANARY_TOKEN)
    assert CANARY_TOKEN not in repr(secret)
    assert CANARY_TOKEN not in str(secret)
    assert CANARY_TOKEN not in f"{secret} {secret!r}"
    assert secret.reveal() == CANARY_TOKEN
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(secret)


def test_token_expiry_parsed(client: GitHubClient, fake: FakeGitHub, clock: FakeClock) -> None:
    fetch_billing(client, "acme")
    auth = client.auth
    assert isinstance(auth, AppAuth)
    assert auth._expires_at == pytest.approx(clock() + 3600, abs=1)
    assert datetime.fromtimestamp(auth._expires_at).year >= 2025


def test_stale_401_keeps_newer_token(client: GitHubClient, fake: FakeGitHub, org: FakeAccount) -> None:
    auth = client.auth
    assert isinstance(auth, AppAuth)
    send = client._send_app_call
    first = auth.authorization(send)
    assert auth.invalidate(first) is True
    second = auth.authorization(send)
    assert second != first
    auth.invalidate(first)  # a late 401 from a request that still carried the old token
    assert auth.authorization(send) == second
    assert len(fake.calls(TOKENS_PATH.format(org.installation_id))) == 2
