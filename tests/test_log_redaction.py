"""Verbose logging shows our own debug lines and never a secret, a signature or a credential."""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from copilot_lib.fake_github import FakeGitHub
from copilot_lib.fake_github.samples import make_seats
from copilot_lib.fake_github.server import env_for_app
from copilot_lib.logs import QUIET_LOGGERS, RedactSecrets, configure_logging, redact
from copilot_lib.secrets import MASK, Secret


@pytest.fixture
def moto_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIACANARYKEYID00001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "canary-secret-access-key")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    yield f"http://{host}:{port}"
    server.stop()


def test_verbose_archive_prints_no_secret(moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeGitHub() as github:
        github.add_org("acme", seats=make_seats(2))
        pem = github.app_private_key_pem
        secrets = boto3.client("secretsmanager", endpoint_url=moto_url)
        secrets.create_secret(Name="app-key", SecretString=pem)
        for name, value in env_for_app(github, tmp_path / "unused.pem", "acme").items():
            monkeypatch.setenv(name, value)
        for name in ("GITHUB_APP_PRIVATE_KEY_PATH", "GITHUB_APP_PRIVATE_KEY", "GITHUB_TOKEN", "GITHUB_ENTERPRISE"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY_SECRET", "app-key")
        monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
        arguments = ["-vv", "archive", "--store", str(tmp_path / "store"), "--budget", "2"]
        process = subprocess.run(
            [sys.executable, "-m", "copilot_lib.cli", *arguments],
            env=dict(os.environ),
            capture_output=True,
            text=True,
            timeout=120,
        )
    output = process.stdout + process.stderr

    assert "DEBUG copilot_lib.http" in output
    key_lines = [line for line in pem.splitlines() if "-----" not in line]
    assert [line for line in key_lines if line in output] == []
    assert "BEGIN PRIVATE KEY" not in output
    assert "AKIACANARYKEYID00001" not in output
    assert "canary-secret-access-key" not in output
    assert re.findall(r"[?&]sig=(?!\*)", output) == []
    assert "botocore" not in output
    assert "urllib3" not in output


def test_configure_logging_keeps_libraries_quiet() -> None:
    configure_logging(2)
    try:
        assert logging.getLogger("copilot_lib").getEffectiveLevel() == logging.DEBUG
        for name in QUIET_LOGGERS:
            assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING, name
    finally:
        logging.getLogger("copilot_lib").setLevel(logging.NOTSET)


def _filtered_output(message: str, *args: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets())
    test_logger = logging.getLogger("copilot_lib.tests.redaction")
    test_logger.addHandler(handler)
    test_logger.propagate = False
    try:
        test_logger.warning(message, *args)
    finally:
        test_logger.removeHandler(handler)
    return stream.getvalue()


def test_filter_masks_secret_values() -> None:
    canary = Secret("canary-token-4f9a2c7e")

    output = _filtered_output("sent %s", canary.reveal())

    assert "canary-token-4f9a2c7e" not in output
    assert MASK in output


def test_filter_masks_each_line_of_a_secret_key() -> None:
    Secret("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n")

    output = _filtered_output('body: {"SecretString": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n"}')

    assert "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in output


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("GET https://blob.example/part-0.ndjson?se=1767225600&sig=AbCdEf%2B123", "AbCdEf%2B123"),
        ("GET https://s3.example/k?X-Amz-Signature=deadbeef0123&X-Amz-Credential=AKIAX", "deadbeef0123"),
        ("headers {'Authorization': 'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/2026'}", "AKIAEXAMPLE"),
        ("Authorization: Bearer ghs_abcdefghijklmnopqrstuvwx", "ghs_abcdefghijklmnopqrstuvwx"),
        ("token ghp_abcdefghijklmnopqrstuvwxyz0123 rejected", "ghp_abcdefghijklmnopqrstuvwxyz0123"),
        ("-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----", "abc"),
    ],
)
def test_redact_masks_credentials(text: str, hidden: str) -> None:
    assert hidden not in redact(text)


def test_redact_keeps_ordinary_text() -> None:
    text = "minted an installation token for installation 60000001, expires at 2026-12-04T10:00:00Z"

    assert redact(text) == text
