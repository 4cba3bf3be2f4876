"""Fixtures for the history store tests: moto's S3 server, a fault-injecting proxy, stores.

Test modules import the fixtures they use from here. moto's server runs on a free loopback
port; the proxy sits between boto3 and moto so that tests can make S3 respond with the errors
a real bucket returns (503 SlowDown, 403 AccessDenied) over real HTTP.
"""

from __future__ import annotations

import http.client
import itertools
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest

from copilot_lib import demo
from copilot_lib.config import SETTLING_DAYS
from copilot_lib.errors import GitHubError
from copilot_lib.sources import NotAvailable
from copilot_lib.store import LocalStore, ObjectStore, S3Store, s3_client

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
TODAY = date(2026, 12, 4)
# The newest day an archive run on TODAY fetches; the days after it are still settling.
NEWEST_SETTLED = TODAY - timedelta(days=SETTLING_DAYS + 1)
_buckets = itertools.count()


@dataclass
class Fault:
    """An S3 error returned for matching requests instead of forwarding them."""

    method: str
    path_contains: str
    status: int
    code: str
    times: int = 1_000_000

    def body(self) -> bytes:
        return (
            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{self.code}</Code>"
            f"<Message>injected {self.code}</Message></Error>"
        ).encode()


class FaultProxy:
    """An HTTP proxy on 127.0.0.1 that forwards to moto unless a fault matches the request."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.faults: list[Fault] = []
        self.injected: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; Nagle's algorithm would delay the second.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _handle(self) -> None:
                body = self._read_body()

                fault = proxy.match(self.command, self.path)
                if fault is not None:
                    payload = fault.body()
                    self.send_response(fault.status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return

                connection = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                connection.connect()
                connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "transfer-encoding"}
                headers["Content-Length"] = str(len(body))
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()

                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in (
                        "transfer-encoding",
                        "connection",
                        "content-length",
                        "server",
                        "date",
                    ):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
                connection.close()

            def _read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def match(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and fault.path_contains in path:
                    fault.times -= 1
                    self.injected.append((method, path, fault.code))
                    return fault
        return None

    def inject(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()
            self.injected.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def moto_port() -> Iterator[int]:
    from moto.server import ThreadedMotoServer

    saved = {name: os.environ.get(name) for name in AWS_ENV}
    os.environ.update(AWS_ENV)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    yield server.get_host_and_port()[1]
    server.stop()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def s3_proxy(moto_port: int) -> Iterator[FaultProxy]:
    proxy = FaultProxy(moto_port)
    yield proxy
    proxy.close()


def new_bucket(proxy: FaultProxy) -> str:
    name = f"history-{next(_buckets)}"
    s3_client(proxy.url).create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[ObjectStore]:
    """The same tests run against a local folder and an S3 prefix on moto's server."""
    if request.param == "local":
        yield LocalStore(tmp_path / "store")
        return
    proxy: FaultProxy = request.getfixturevalue("s3_proxy")
    proxy.clear()
    yield S3Store(new_bucket(proxy), "archive", endpoint_url=proxy.url)
    proxy.clear()


def store_contents(store: ObjectStore) -> dict[str, Any]:
    """Return every object of a store, with run-specific manifest fields and run records removed."""
    contents: dict[str, Any] = {}
    for key in store.list(""):
        if key.startswith(("runs/", "locks/")):
            continue
        raw = store.get(key)
        if key.startswith("days/") and raw is not None:
            manifest = orjson.loads(raw)
            manifest.pop("run_id")
            manifest.pop("fetched_at")
            contents[key] = manifest
        else:
            contents[key] = raw
    return contents


class FakeSource:
    """An in-process ReportSource serving demo data, with days that fail or are not ready."""

    def __init__(self, end: date = NEWEST_SETTLED, days: int = 30, users: int = 6):
        self.data = demo.generate(users=users, days=days, seed=11, end=end)
        self.by_day: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for report, records in self.data.reports.items():
            for record in records:
                self.by_day.setdefault((report, record["day"]), []).append(record)
        self.fail_days: set[date] = set()
        self.not_ready_days: set[date] = set()
        self.not_ready_reports: set[tuple[str, date]] = set()
        self.calls: list[tuple[str, date | None]] = []
        self.lock = threading.Lock()
        self.before_fetch: Any = None

    def daily_reports(self) -> list[str]:
        return ["organization-1-day", "users-1-day", "user-teams-1-day", "repos-1-day"]

    def fetch_report(self, report: str, day: date) -> list[bytes] | NotAvailable:
        with self.lock:
            self.calls.append((report, day))
        if self.before_fetch is not None:
            self.before_fetch(report, day)
        if day in self.fail_days:
            raise GitHubError(f"GitHub failed on {report} for {day}", status=502)
        if day in self.not_ready_days or (report, day) in self.not_ready_reports:
            return NotAvailable("HTTP 404")
        if not (self.data.start <= day <= self.data.end):
            return NotAvailable("HTTP 404")
        records = self.by_day.get((report, day.isoformat()), [])
        if not records:
            return NotAvailable("HTTP 204", no_data=True)
        return [demo.ndjson(records)]

    def fetch_seats(self) -> dict[str, Any]:
        with self.lock:
            self.calls.append(("seats", None))
        return self.data.seats

    def fetch_teams(self) -> list[dict[str, Any]]:
        with self.lock:
            self.calls.append(("teams", None))
        return self.data.teams


__all__ = ["moto_port", "s3_proxy", "store"]
