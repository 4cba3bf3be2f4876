"""A threaded HTTP server on 127.0.0.1 that behaves like the parts of GitHub we call.

Tests, demos and benchmarks start one :class:`FakeGitHub`, add organisations, enterprises
and data to it, queue faults per path, and read back the requests it received.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from copilot_lib.fake_github import api
from copilot_lib.fake_github.state import (
    ENTERPRISE_PERMISSIONS,
    ORG_PERMISSIONS,
    FakeAccount,
    Fault,
    IssuedToken,
    NotReady,
    RecordedRequest,
    split_parts,
)

logger = logging.getLogger(__name__)


class FakeGitHub:
    """A fake GitHub API server; use as a context manager or call start() and stop().

    ``clock`` drives token and link expiry and JWT checks; ``latency`` seconds are slept
    before every response; ``port`` 0 picks a free port. The App's RSA key is generated at construction unless given.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        latency: float = 0.0,
        app_id: int = 1001,
        client_id: str = "Iv23liFakeApp00001",
        app_private_key: rsa.RSAPrivateKey | None = None,
        token_ttl: float = 3600.0,
        link_ttl: float = 300.0,
        port: int = 0,
    ):
        self.clock = clock
        self.port = port
        self.latency = latency
        self.app_id = app_id
        self.client_id = client_id
        self._app_key = app_private_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.app_public_key = self._app_key.public_key()
        self.token_ttl = token_ttl
        self.link_ttl = link_ttl
        self.link_secret = secrets.token_bytes(32)
        self.lock = threading.Lock()
        self.accounts: dict[tuple[str, str], FakeAccount] = {}
        self.issued: dict[str, IssuedToken] = {}
        self.personal_tokens: dict[str, tuple[str, ...]] = {}
        self.blobs: dict[str, list[bytes]] = {}
        self.requests: list[RecordedRequest] = []
        self._faults: dict[str, deque[Fault]] = {}
        self._next_id = 5_000_000
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        """Start serving on 127.0.0.1 in a background thread."""
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-github",
            daemon=True,
        )
        self._thread.start()
        logger.info("fake GitHub listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL, such as ``http://127.0.0.1:54321``."""
        if self._server is None:
            raise RuntimeError("the fake GitHub server is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def app_private_key_pem(self) -> str:
        """The App's private key as PKCS#8 PEM text, for configuring a client."""
        return self._app_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    # -- data ----------------------------------------------------------------------------

    def add_org(
        self,
        login: str,
        *,
        installed: bool = True,
        permissions: dict[str, str] | None = None,
        seats: list[dict[str, Any]] | None = None,
        teams: list[dict[str, Any]] | None = None,
        billing: dict[str, Any] | None = None,
    ) -> FakeAccount:
        """Add an organisation, with the App installed on it unless ``installed`` is false."""
        return self._add_account(
            login, "Organization", installed, permissions or ORG_PERMISSIONS, seats, teams, billing
        )

    def add_enterprise(
        self,
        slug: str,
        *,
        installed: bool = True,
        permissions: dict[str, str] | None = None,
        seats: list[dict[str, Any]] | None = None,
    ) -> FakeAccount:
        """Add an enterprise. Its seat list accepts only personal access tokens."""
        return self._add_account(
            slug, "Enterprise", installed, permissions or ENTERPRISE_PERMISSIONS, seats, None, None
        )

    def _add_account(
        self,
        login: str,
        kind: str,
        installed: bool,
        permissions: dict[str, str],
        seats: list[dict[str, Any]] | None,
        teams: list[dict[str, Any]] | None,
        billing: dict[str, Any] | None,
    ) -> FakeAccount:
        with self.lock:
            self._next_id += 1
            account = FakeAccount(
                login=login,
                id=self._next_id,
                kind=kind,
                installation_id=60_000_000 + self._next_id if installed else None,
                permissions=dict(permissions),
                seats=list(seats or []),
                teams=list(teams or []),
                billing=billing,
            )
            scope = "enterprises" if kind == "Enterprise" else "orgs"
            self.accounts[(scope, login.lower())] = account
        return account

    def add_personal_token(self, token: str, scopes: tuple[str, ...] = ("read:org",)) -> None:
        """Accept ``token`` as a personal access token on every account's endpoints."""
        self.personal_tokens[token] = scopes

    def set_report(
        self,
        account: FakeAccount,
        report: str,
        records: list[dict[str, Any]],
        *,
        day: date | str | None = None,
        window: tuple[date | str, date | str] | None = None,
        parts: int = 2,
    ) -> None:
        """Serve ``records`` as ``report`` for ``day`` (or a 28-day window) in ``parts`` files."""
        key = (report, api.day_text(day))
        account.reports[key] = split_parts(records, parts)
        if window is not None:
            start, end = (api.day_text(value) or "" for value in window)
            account.report_windows[report] = (start, end)

    def set_not_ready(
        self, account: FakeAccount, report: str, form: NotReady, *, day: date | str | None = None
    ) -> None:
        """Make ``report`` respond "not available" in the given form."""
        account.reports[(report, api.day_text(day))] = form

    def revoke_tokens(self) -> None:
        """Forget every installation token, so the next call with one gets 401."""
        with self.lock:
            self.issued.clear()

    def find_account(self, scope: str, name: str) -> FakeAccount | None:
        return self.accounts.get((scope, name.lower()))

    def account_by_installation(self, installation_id: int) -> FakeAccount | None:
        for account in self.accounts.values():
            if account.installation_id == installation_id:
                return account
        return None

    def clock_today(self) -> date:
        return datetime.fromtimestamp(self.clock(), UTC).date()

    # -- faults and recorded requests ----------------------------------------------------

    def add_faults(self, path: str, *faults: Fault) -> None:
        """Queue faults for ``path`` (no query string): each request takes the next one."""
        with self.lock:
            self._faults.setdefault(path, deque()).extend(faults)

    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            queue = self._faults.get(path)
            return queue.popleft() if queue else None

    def calls(self, path: str | None = None, method: str | None = None) -> list[RecordedRequest]:
        """Return the recorded requests, optionally only those to ``path`` with ``method``."""
        with self.lock:
            return [
                request
                for request in self.requests
                if (path is None or request.path == path) and (method is None or request.method == method)
            ]

    def record(self, request: RecordedRequest) -> None:
        with self.lock:
            self.requests.append(request)

    def request_id(self) -> str:
        return secrets.token_hex(8).upper()


def _make_handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        server_fake = fake

    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes. With Nagle's algorithm on, the body would
    # wait for the client's delayed ACK (about 40 ms on Linux) on every keep-alive response.
    disable_nagle_algorithm = True
    server_fake: FakeGitHub

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug("fake GitHub: %s", format % args)

    def _handle(self, method: str) -> None:
        fake = self.server_fake
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        parts = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        recorded = RecordedRequest(method, parts.path, dict(parse_qsl(parts.query)), headers)
        fake.record(recorded)
        if fake.latency:
            time.sleep(fake.latency)
        fault = fake.take_fault(parts.path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.drop:
            recorded.status = 0
            self.close_connection = True
            return
        request = api.Request(
            method,
            parts.path,
            recorded.query,
            headers,
            expired_links=bool(fault and fault.expired_links),
        )
        if fault is not None and fault.status is not None:
            response = _fault_response(fault)
        else:
            response = api.route(fake, request)
            if fault is not None:
                response.headers.update(fault.headers)
        recorded.status = response.status
        self._write(response, truncate=bool(fault and fault.truncate))

    def _write(self, response: api.Response, *, truncate: bool) -> None:
        fake = self.server_fake
        self.send_response(response.status)
        headers = {
            "x-github-request-id": fake.request_id(),
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4999",
            "x-ratelimit-used": "1",
            "x-ratelimit-reset": str(int(fake.clock()) + 3600),
            "x-ratelimit-resource": "core",
            **response.headers,
        }
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        body = response.body[: len(response.body) // 2] if truncate else response.body
        if body:
            self.wfile.write(body)
        if truncate:
            self.wfile.flush()
            self.close_connection = True


def _fault_response(fault: Fault) -> api.Response:
    assert fault.status is not None
    body = fault.body if fault.body is not None else {"message": f"fault {fault.status}"}
    if isinstance(body, bytes):
        return api.Response(fault.status, body, dict(fault.headers))
    response = api.json_response(fault.status, body)
    response.headers.update(fault.headers)
    return response


def env_for_app(fake: FakeGitHub, key_path: str | os.PathLike[str], org: str) -> dict[str, str]:
    """Return the environment variables that point copilot-dashboard at this server."""
    return {
        "GITHUB_API_URL": fake.url,
        "GITHUB_ORG": org,
        "GITHUB_APP_CLIENT_ID": fake.client_id,
        "GITHUB_APP_PRIVATE_KEY_PATH": os.fspath(key_path),
    }
