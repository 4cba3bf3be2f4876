"""Send requests to GitHub's REST API: timeouts, retries, rate limits and paging.

One :class:`GitHubClient` owns one ``requests.Session``. Every call has a connect and a read
timeout. Connection errors, timeouts, truncated bodies and HTTP 500/502/503/504 are retried
with jittered exponential backoff, at most ``RetryPolicy.max_retries`` times. Rate limits
are handled as GitHub's docs page "Rate limits for the REST API" describes: wait for
``retry-after`` if present, else until ``x-ratelimit-reset`` when ``x-ratelimit-remaining``
is 0, else (a secondary limit) at least 60 s, doubling on each further hit. A permission 403
and a 404 are never retried, and their error names the permission the endpoint needs.

``sleep`` and ``clock`` are injectable so tests run without waiting.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
import requests
from requests.adapters import HTTPAdapter

from copilot_lib import __version__
from copilot_lib.auth import Auth
from copilot_lib.errors import (
    AuthenticationError,
    GitHubError,
    GitHubUnreachableError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ReportLinkExpiredError,
)
from copilot_lib.permissions import required_access

logger = logging.getLogger(__name__)

API_VERSION = "2026-03-10"
PER_PAGE = 100
RETRY_STATUSES = frozenset({500, 502, 503, 504})
TRANSIENT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry.

    ``max_retries`` bounds retries of transient failures (so at most ``max_retries + 1``
    attempts); ``max_rate_limit_retries`` bounds waits for rate limits; a rate-limit wait
    longer than ``max_rate_limit_wait`` seconds raises RateLimitError instead of sleeping.
    """

    max_retries: int = 4
    backoff_base: float = 1.0
    backoff_max: float = 30.0
    max_rate_limit_retries: int = 3
    max_rate_limit_wait: float = 15 * 60.0
    secondary_wait: float = 60.0


@dataclass
class _Attempts:
    transient: int = 0
    rate_limited: int = 0
    reauthenticated: bool = False
    sent_authorization: str = ""


class GitHubClient:
    """A GitHub REST API client bound to one base URL and one credential."""

    def __init__(
        self,
        base_url: str,
        auth: Auth | None,
        *,
        timeout: tuple[float, float] = (10.0, 60.0),
        policy: RetryPolicy | None = None,
        max_in_flight: int = 10,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ):
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self.max_in_flight = max(1, max_in_flight)
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._origin = urlsplit(self.base_url)[:2]
        # URL prefixes (``/orgs/NAME``) of accounts that GitHub confirmed to exist for this client.
        self.confirmed_accounts: set[str] = set()
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=self.max_in_flight, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"copilot-dashboard/{__version__}",
            }
        )

    def __repr__(self) -> str:
        return f"GitHubClient({self.base_url!r}, auth={self.auth!r})"

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- single requests -------------------------------------------------------------------

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        authorization: str | None = None,
        authenticated: bool = True,
    ) -> requests.Response:
        """Send one request with retries and return the successful (2xx) response.

        ``authorization`` replaces the credential's header (the App JWT calls use it);
        ``authenticated=False`` sends no ``Authorization`` header at all.
        """
        url = self._url(path_or_url)
        if authenticated and authorization is None:
            self._check_same_origin(url)
        attempts = _Attempts()
        while True:
            headers = {}
            if authenticated:
                headers["Authorization"] = authorization or self._credential_header()
                attempts.sent_authorization = headers["Authorization"]
            started = self._clock()
            try:
                response = self.session.request(method, url, params=params, headers=headers, timeout=self.timeout)
            except TRANSIENT_ERRORS as exc:
                self._retry_transient(attempts, method, url, f"{type(exc).__name__}: {exc}", exc)
                continue
            logger.debug(
                "%s %s -> %d in %.3f s",
                method,
                _loggable(url),
                response.status_code,
                self._clock() - started,
            )
            if response.ok:
                return response
            if self._should_retry(response, attempts, method, url, authenticated and authorization is None):
                continue
            raise self._error(method, url, response, authenticated)

    def get_json(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET an API path and return its decoded JSON body."""
        return json_body(self.request("GET", path_or_url, params=params))

    def download(self, url: str) -> bytes:
        """GET a signed download link without the Authorization header and return its bytes.

        The link carries its own signature, and GitHub's token must not reach the storage host.
        """
        return self.request("GET", url, authenticated=False).content

    def _credential_header(self) -> str:
        if self.auth is None:
            raise AuthenticationError("no GitHub credentials configured: set GITHUB_TOKEN or a GitHub App")
        return self.auth.authorization(self._send_app_call)

    def _send_app_call(self, method: str, path: str, authorization: str) -> Any:
        return json_body(self.request(method, path, authorization=authorization))

    # -- retry decisions -------------------------------------------------------------------

    def _should_retry(
        self, response: requests.Response, attempts: _Attempts, method: str, url: str, reauth: bool
    ) -> bool:
        status = response.status_code
        if status in RETRY_STATUSES:
            self._retry_transient(attempts, method, url, f"HTTP {status}", None)
            return True
        if status in (403, 429):
            wait = self._rate_limit_wait(response, attempts.rate_limited)
            if wait is not None:
                self._wait_for_rate_limit(response, attempts, method, url, wait)
                return True
        if status == 401 and reauth and not attempts.reauthenticated and self.auth is not None:
            attempts.reauthenticated = True
            if self.auth.invalidate(attempts.sent_authorization):
                logger.warning(
                    "%s %s -> 401: getting a new installation token and retrying once",
                    method,
                    _loggable(url),
                )
                return True
        return False

    def _retry_transient(self, attempts: _Attempts, method: str, url: str, reason: str, exc: Exception | None) -> None:
        attempts.transient += 1
        if attempts.transient > self.policy.max_retries:
            if isinstance(exc, requests.ConnectionError):
                # Unlike a 5xx response, a failed connection repeats for every later request.
                origin = urlunsplit(urlsplit(url)[:2] + ("", "", ""))
                raise GitHubUnreachableError(
                    f"cannot connect to {origin}: {method} {_loggable(url)} failed after "
                    f"{attempts.transient} attempts ({type(exc).__name__}); check the GitHub API URL "
                    "(--api-url or GITHUB_API_URL) and the network, then run again",
                    url=_loggable(url),
                ) from exc
            raise GitHubError(
                f"{method} {_loggable(url)} failed after {attempts.transient} attempts ({reason}): "
                "GitHub or the network is unavailable, try again later",
                url=_loggable(url),
            ) from exc
        ceiling = min(self.policy.backoff_max, self.policy.backoff_base * 2 ** (attempts.transient - 1))
        delay = ceiling * self._jitter()
        logger.warning(
            "%s %s failed (%s); retry %d of %d in %.1f s",
            method,
            _loggable(url),
            reason,
            attempts.transient,
            self.policy.max_retries,
            delay,
        )
        self._sleep(delay)

    def _rate_limit_wait(self, response: requests.Response, previous_hits: int) -> float | None:
        """Return the wait a rate-limited response requests, or None if it is not rate-limited."""
        headers = response.headers
        retry_after = headers.get("retry-after")
        if retry_after:
            return max(0.0, _retry_after_seconds(retry_after, self._clock()))
        reset = headers.get("x-ratelimit-reset")
        if headers.get("x-ratelimit-remaining") == "0" and reset and reset.isdigit():
            return max(0.0, int(reset) - self._clock()) + 1.0
        if response.status_code == 429 or "rate limit" in _message(response).lower():
            return self.policy.secondary_wait * 2**previous_hits
        return None

    def _wait_for_rate_limit(
        self, response: requests.Response, attempts: _Attempts, method: str, url: str, wait: float
    ) -> None:
        attempts.rate_limited += 1
        retry_at = datetime.fromtimestamp(self._clock() + wait, UTC)
        when = retry_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        request_id = response.headers.get("x-github-request-id")
        if wait > self.policy.max_rate_limit_wait:
            message = (
                f"GitHub's rate limit blocks {method} {_loggable(url)} until {when}, longer "
                f"than the maximum wait of {self.policy.max_rate_limit_wait:.0f} s: "
                f"retry after {when}"
            )
        elif attempts.rate_limited > self.policy.max_rate_limit_retries:
            message = (
                f"GitHub kept rate-limiting {method} {_loggable(url)} after "
                f"{self.policy.max_rate_limit_retries} waits: retry after {when}"
            )
        else:
            message = ""
        if message:
            raise RateLimitError(
                message,
                retry_at=retry_at,
                status=response.status_code,
                url=_loggable(url),
                request_id=request_id,
            )
        logger.warning(
            "%s %s rate-limited (HTTP %d); waiting %.0f s, until %s",
            method,
            _loggable(url),
            response.status_code,
            wait,
            when,
        )
        self._sleep(wait)

    def _error(self, method: str, url: str, response: requests.Response, authenticated: bool) -> GitHubError:
        status = response.status_code
        path = urlsplit(url).path
        message = _message(response)
        needed = required_access(path)
        need_text = f" Needed: {needed}." if needed else ""
        error_class: type[GitHubError] = GitHubError
        if not authenticated and status in (400, 401, 403):
            error_class = ReportLinkExpiredError
            text = (
                f"the storage host rejected the download link {_loggable(url)} ({message}); "
                "the link has probably expired: request the report again"
            )
        elif status == 401:
            error_class = AuthenticationError
            text = (
                f"GitHub rejected the credentials for {method} {path} ({message}): check "
                "GITHUB_TOKEN, or the GitHub App id and private key"
            )
        elif status == 403:
            error_class = PermissionDeniedError
            text = f"GitHub denied {method} {path} ({message}).{need_text}"
        elif status == 404:
            error_class = NotFoundError
            text = (
                f"GitHub found nothing at {path} ({message}): check the organisation or "
                f"enterprise name; GitHub also returns 404 when access is missing.{need_text}"
            )
        else:
            text = f"{method} {path} failed ({message})"
        return error_class(
            text,
            status=status,
            url=_loggable(url),
            request_id=response.headers.get("x-github-request-id"),
        )

    # -- paging ----------------------------------------------------------------------------

    def pages(self, path: str, params: Mapping[str, Any] | None = None, *, concurrent: bool = True) -> Iterator[Any]:
        """Yield the decoded JSON body of every page of a paged endpoint, in page order.

        Pages are requested with ``per_page=100`` and followed through ``Link: rel="next"``.
        When the first page's ``Link`` header names ``rel="last"`` and ``concurrent`` is true,
        the remaining pages are fetched with at most ``max_in_flight`` requests at a time.
        """
        query = {**(params or {}), "per_page": PER_PAGE}
        response = self.request("GET", path, params=query)
        yield json_body(response)
        links = parse_link_header(response.headers.get("Link", ""))
        last_page = _page_number(links.get("last"))
        if concurrent and last_page is not None and "next" in links and self.max_in_flight > 1:
            urls = [_with_page(links["last"], number) for number in range(2, last_page + 1)]
            last_response = None
            for last_response in self._get_many(urls):
                yield json_body(last_response)
            # Pages added while fetching show up as a rel="next" on the old last page.
            links = parse_link_header(last_response.headers.get("Link", "")) if last_response else {}
        next_url = links.get("next")
        while next_url:
            response = self.request("GET", next_url)
            yield json_body(response)
            next_url = parse_link_header(response.headers.get("Link", "")).get("next")

    def _get_many(self, urls: list[str]) -> Iterator[requests.Response]:
        workers = min(self.max_in_flight, len(urls)) or 1
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="github-page") as pool:
            results = pool.map(lambda url: self.request("GET", url), urls)
            try:
                yield from results
            finally:
                pool.shutdown(wait=True, cancel_futures=True)

    # -- URLs ------------------------------------------------------------------------------

    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("https://", "http://")):
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def _check_same_origin(self, url: str) -> None:
        if urlsplit(url)[:2] != self._origin:
            raise GitHubError(
                f"refusing to send GitHub credentials to {_loggable(url)}, which is not on "
                f"{self.base_url}: check GITHUB_API_URL"
            )


def json_body(response: requests.Response) -> Any:
    """Decode a response body as JSON; an empty body decodes to None."""
    if not response.content:
        return None
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise GitHubError(
            f"GitHub returned a body that is not JSON for {_loggable(response.url)}: {exc}",
            status=response.status_code,
            request_id=response.headers.get("x-github-request-id"),
        ) from exc


def parse_link_header(value: str) -> dict[str, str]:
    """Return ``{rel: url}`` from an HTTP ``Link`` header."""
    links: dict[str, str] = {}
    for part in value.split(","):
        pieces = part.strip().split(";")
        target = pieces[0].strip()
        if not (target.startswith("<") and target.endswith(">")):
            continue
        for param in pieces[1:]:
            name, _, rel = param.strip().partition("=")
            if name.strip() == "rel":
                for each in rel.strip().strip('"').split():
                    links[each] = target[1:-1]
    return links


def _page_number(url: str | None) -> int | None:
    if url is None:
        return None
    for name, value in parse_qsl(urlsplit(url).query):
        if name == "page" and value.isdigit():
            return int(value)
    return None


def _with_page(url: str, page: int) -> str:
    parts = urlsplit(url)
    query = [(name, value) for name, value in parse_qsl(parts.query) if name != "page"]
    query.append(("page", str(page)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _retry_after_seconds(value: str, now: float) -> float:
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).timestamp() - now
    except (TypeError, ValueError):
        return 60.0


def _message(response: requests.Response) -> str:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        text = response.text.strip()
        return text[:200] if text else response.reason or "no message"
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return str(body)[:200]


def _loggable(url: str) -> str:
    """Return ``url`` without its query when it is a signed link, whose signature is a secret."""
    parts = urlsplit(url)
    if "sig=" in parts.query or "signature=" in parts.query.lower():
        return urlunsplit(parts._replace(query="", fragment=""))
    return url
