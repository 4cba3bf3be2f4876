"""The Lambda handler against the fake GitHub server and moto, and the SAM template."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from history_fixtures import *  # noqa: F403 - the fixtures these tests take as arguments
from history_fixtures import FaultProxy, new_bucket

from copilot_lib.archive import REFETCH_DAYS, ArchiveFailedError
from copilot_lib.config import SETTLING_DAYS
from copilot_lib.fake_github import FakeGitHub, Fault
from copilot_lib.fake_github.samples import (
    make_org_day,
    make_seats,
    make_teams,
    make_user_days,
    recent_days,
    settled_days,
)
from copilot_lib.history import History
from copilot_lib.history_tables import load_store
from copilot_lib.store import S3Store, s3_client
from lambda_archiver.handler import handler

TEMPLATE = Path(__file__).resolve().parents[1] / "lambda_archiver" / "template.yaml"
ORG_ID = 4455667
# Settled days served; the server also serves the SETTLING_DAYS newer days, which no run fetches.
DAYS = 6
# The maximum number of GitHub API requests a daily run makes for one organisation.
DAILY_RUN_API_CALLS = 20


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        org = server.add_org("acme", seats=make_seats(5), teams=make_teams("acme", ORG_ID, ["payments", "web"]))
        for day in recent_days(DAYS + SETTLING_DAYS, server.clock_today()):
            rows = make_user_days(ORG_ID, day, 5)
            server.set_report(org, "users-1-day", rows, day=day)
            server.set_report(org, "organization-1-day", [make_org_day(ORG_ID, day, rows)], day=day, parts=1)
            server.set_report(org, "user-teams-1-day", [], day=day, parts=1)
            server.set_report(org, "repos-1-day", [], day=day, parts=1)
        yield server


@pytest.fixture
def lambda_env(github: FakeGitHub, s3_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Store]:
    """Configure the handler as template.yaml does, with the App key in moto's Secrets Manager."""
    bucket = new_bucket(s3_proxy)
    import boto3

    secrets = boto3.client("secretsmanager", endpoint_url=s3_proxy.url)
    secret_name = f"copilot-app-key-{bucket}"
    secrets.create_secret(Name=secret_name, SecretString=github.app_private_key_pem)
    today = datetime.now(UTC).date()
    environment = {
        "AWS_ENDPOINT_URL": s3_proxy.url,
        "COPILOT_ARCHIVE_BUCKET": bucket,
        "COPILOT_ARCHIVE_PREFIX": "copilot",
        "COPILOT_ARCHIVE_START": settled_days(DAYS + 2, today)[0].isoformat(),
        "GITHUB_API_URL": github.url,
        "GITHUB_ORG": "acme",
        "GITHUB_APP_CLIENT_ID": github.client_id,
        "GITHUB_APP_PRIVATE_KEY_SECRET": secret_name,
    }
    for name in ("GITHUB_ENTERPRISE", "GITHUB_TOKEN", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_PRIVATE_KEY_PATH"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    yield S3Store(bucket, "copilot", client=s3_client(s3_proxy.url))


def context() -> Any:
    return SimpleNamespace(
        aws_request_id="req-1", function_name="copilot-archiver", get_remaining_time_in_millis=lambda: 900_000
    )


def test_handler_archives_into_s3(lambda_env: S3Store, github: FakeGitHub) -> None:
    summary = handler({}, context())

    assert summary["ok"] is True
    assert len(summary["written"]) == DAYS
    assert summary["written"] == [day.isoformat() for day in settled_days(DAYS)]
    assert summary["not_available"] == [day.isoformat() for day in settled_days(DAYS + 2)[:2]]
    assert summary["seats"] == "written"
    assert summary["teams"] == "written"
    tables = load_store(lambda_env)
    assert len(tables.frames["user_daily"]) == DAYS * 5
    assert len(tables.frames["seats"]) == 5
    assert len(History(lambda_env).stored_days(_entity())) == DAYS


def test_daily_run_makes_few_github_calls(lambda_env: S3Store, github: FakeGitHub) -> None:
    handler({}, context())
    before = len(github.calls())

    summary = handler({}, context())

    # Signed download links go to a storage host, not the API; only API calls count here.
    api_calls = [call for call in github.calls()[before:] if "sig" not in call.query]
    assert summary["ok"] is True
    assert summary["written"] == []
    assert summary["unchanged"] == [day.isoformat() for day in settled_days(REFETCH_DAYS)]
    assert len(api_calls) <= DAILY_RUN_API_CALLS, [(call.path, call.query) for call in api_calls]


def test_runs_never_fetch_settling_days(lambda_env: S3Store, github: FakeGitHub) -> None:
    handler({}, context())
    handler({}, context())

    requested = {call.query["day"] for call in github.calls() if "day" in call.query}
    settling = {day.isoformat() for day in recent_days(SETTLING_DAYS)}
    assert requested
    assert requested & settling == set()
    assert len(History(lambda_env).stored_days(_entity())) == DAYS


def test_handler_logs_one_json_line_per_step(
    lambda_env: S3Store, github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    handler({}, context())

    lines = [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name in ("copilot_lib.archive", "lambda_archiver.handler")
    ]
    steps = [line["step"] for line in lines]
    assert steps[0] == "start"
    assert steps[-1] == "finish"
    assert {"plan", "day", "seats", "teams", "status"} <= set(steps)
    assert steps.count("day") == DAYS + 2
    assert lines[0]["request_id"] == "req-1"


def test_handler_raises_when_a_step_fails(lambda_env: S3Store, github: FakeGitHub) -> None:
    github.add_faults("/orgs/acme/copilot/billing/seats", Fault(status=403, body={"message": "Forbidden"}))

    with pytest.raises(ArchiveFailedError, match="seats"):
        handler({}, context())

    assert len(History(lambda_env).stored_days(_entity())) == DAYS
    runs = lambda_env.list("runs/")
    assert len(runs) == 1


def test_handler_needs_a_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COPILOT_ARCHIVE_BUCKET", raising=False)
    from copilot_lib.errors import ConfigError

    with pytest.raises(ConfigError, match="COPILOT_ARCHIVE_BUCKET"):
        handler({}, context())


def _entity() -> Any:
    from copilot_lib.history import Entity

    return Entity("org", "acme")


def _lint(path: Path) -> list[str]:
    from cfnlint.api import ManualArgs, lint_file

    return [str(match) for match in lint_file(path, config=ManualArgs())]


def test_template_passes_cfn_lint() -> None:
    assert _lint(TEMPLATE) == []


def test_cfn_lint_rejects_a_broken_template(tmp_path: Path) -> None:
    broken = tmp_path / "template.yaml"
    broken.write_text(TEMPLATE.read_text().replace("Status: Enabled", "Status: Sometimes", 1))
    problems = _lint(broken)
    assert problems
    assert any("Sometimes" in problem for problem in problems)


def _evaluate_rule(node: Any, parameters: dict[str, str]) -> Any:
    """Evaluate the CloudFormation rule functions the template uses, for given parameter values."""
    if not isinstance(node, dict):
        return node
    (function, argument), *_ = node.items()
    if function == "Ref":
        return parameters[argument]
    values = [_evaluate_rule(item, parameters) for item in argument]
    operations = {
        "Fn::Or": any,
        "Fn::And": all,
        "Fn::Not": lambda items: not items[0],
        "Fn::Equals": lambda items: items[0] == items[1],
    }
    return operations[function](values)


@pytest.mark.parametrize(
    ("org", "enterprise", "accepted"),
    [("acme", "", True), ("", "acme-ent", True), ("", "", False), ("acme", "acme-ent", False)],
)
def test_template_requires_exactly_one_account(org: str, enterprise: str, accepted: bool) -> None:
    from cfnlint.decode import decode

    template, errors = decode(str(TEMPLATE))
    assert not errors
    assertion = template["Rules"]["ExactlyOneAccount"]["Assertions"][0]["Assert"]

    assert _evaluate_rule(assertion, {"GitHubOrg": org, "GitHubEnterprise": enterprise}) is accepted


def test_template_resources() -> None:
    from cfnlint.decode import decode

    template, errors = decode(str(TEMPLATE))
    assert not errors
    resources = template["Resources"]
    bucket = resources["ArchiveBucket"]["Properties"]
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert "NoncurrentVersionExpiration" in bucket["LifecycleConfiguration"]["Rules"][0]

    statements = resources["ArchiverRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    actions = {action for statement in statements for action in _as_list(statement["Action"])}
    assert actions == {
        "s3:ListBucket",
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "secretsmanager:GetSecretValue",
    }
    for statement in statements:
        assert statement["Resource"] != "*"

    function = resources["ArchiverFunction"]
    assert function["Properties"]["Events"]["Daily"]["Type"] == "Schedule"
    assert "lambda/python:3.12" in (TEMPLATE.parent / "Dockerfile").read_text()
    glue_tables = [resource for resource in resources.values() if resource["Type"] == "AWS::Glue::Table"]
    assert {table["Properties"]["TableInput"]["Name"] for table in glue_tables} >= {
        "entity_daily",
        "user_daily",
        "seats",
    }
    for table in glue_tables:
        assert table["Properties"]["TableInput"]["Parameters"]["projection.enabled"] == "true"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
