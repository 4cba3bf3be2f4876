"""The fake GitHub server's endpoints, which turn one parsed request into one response.

The rules follow GitHub's REST docs for API version 2026-03-10 where the fake server needs
them: App JWTs (RS256, ``exp`` at most 10 minutes ahead, ``iat`` not in the future beyond
60 s of skew, ``iss`` the App ID or client ID), installation tokens that expire after an
hour, org-only or enterprise-only installation tokens, report envelopes with signed links,
seat and team paging with ``Link`` headers and ``per_page`` clamped to 100.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import jwt

from copilot_lib.fake_github.state import NOT_READY_MESSAGE, FakeAccount, IssuedToken, NotReady

if TYPE_CHECKING:
    from copilot_lib.fake_github.server import FakeGitHub

JWT_MAX_LIFETIME = 600
JWT_CLOCK_SKEW = 60
ORG_FIRST_DAY = "2025-12-12"
ENTERPRISE_FIRST_DAY = "2025-10-10"


@dataclass
class Response:
    """A response to write: status, headers and body bytes."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    data = json.dumps(body).encode()
    return Response(status, data, {"Content-Type": "application/json; charset=utf-8", **(headers or {})})


def error(status: int, message: str) -> Response:
    return json_response(
        status,
        {
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": str(status),
        },
    )


def storage_error(code: str, detail: str) -> Response:
    """An Azure-storage-style XML error, as the report download host returns."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><Error>'
        f"<Code>{code}</Code><Message>Server failed to authenticate the request.</Message>"
        f"<AuthenticationErrorDetail>{detail}</AuthenticationErrorDetail></Error>"
    ).encode()
    return Response(403 if code == "AuthenticationFailed" else 400, body, {"Content-Type": "application/xml"})


@dataclass
class Request:
    """A parsed request."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    expired_links: bool = False

    def bearer(self) -> str | None:
        value = self.headers.get("authorization", "")
        scheme, _, credential = value.partition(" ")
        return credential.strip() if scheme.lower() in ("bearer", "token") and credential else None


RETIRED = re.compile(r"^/(orgs|enterprises)/[^/]+/(team/[^/]+/)?copilot/(usage|metrics)$")
INSTALLATION = re.compile(r"^/(orgs|enterprises)/([^/]+)/installation$")
ACCESS_TOKENS = re.compile(r"^/app/installations/(\d+)/access_tokens$")
REPORT = re.compile(r"^/(orgs|enterprises)/([^/]+)/copilot/metrics/reports/([a-z0-9-]+(?:/latest)?)$")
SEATS = re.compile(r"^/(orgs|enterprises)/([^/]+)/copilot/billing/seats$")
BILLING = re.compile(r"^/orgs/([^/]+)/copilot/billing$")
TEAMS = re.compile(r"^/orgs/([^/]+)/teams$")
ORGANIZATION = re.compile(r"^/orgs/([^/]+)$")
DOWNLOAD = re.compile(r"^/_reports/([0-9a-f]+)/part-(\d+)\.ndjson$")

ORG_REPORTS = {
    "organization-1-day",
    "organization-28-day/latest",
    "users-1-day",
    "users-28-day/latest",
    "user-teams-1-day",
    "repos-1-day",
}
ENTERPRISE_REPORTS = {name.replace("organization", "enterprise") for name in ORG_REPORTS}


def route(fake: FakeGitHub, request: Request) -> Response:
    """Return the response GitHub would send to ``request``."""
    path = request.path
    if match := DOWNLOAD.match(path):
        return download(fake, request, match.group(1), int(match.group(2)))
    if RETIRED.match(path):
        return error(404, "Not Found")
    if path.startswith("/app/") or INSTALLATION.match(path):
        return app_endpoint(fake, request)
    token = request.bearer()
    if token is None:
        return error(401, "Requires authentication")
    if token.count(".") == 2:
        return error(401, "A JSON web token cannot be used to access this endpoint")
    if match := REPORT.match(path):
        return with_account(fake, request, token, match.group(1), match.group(2), report, match.group(3))
    if match := SEATS.match(path):
        return with_account(fake, request, token, match.group(1), match.group(2), seats)
    if match := BILLING.match(path):
        return with_account(fake, request, token, "orgs", match.group(1), billing)
    if match := TEAMS.match(path):
        return with_account(fake, request, token, "orgs", match.group(1), teams)
    if match := ORGANIZATION.match(path):
        return with_account(fake, request, token, "orgs", match.group(1), organization)
    return error(404, "Not Found")


# -- App authentication -------------------------------------------------------------------


def check_jwt(fake: FakeGitHub, token: str | None) -> str | None:
    """Return None when ``token`` is a valid App JWT, else the 401 message to send."""
    if token is None:
        return "A JSON web token could not be decoded"
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(
            token,
            fake.app_public_key,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_iat": False, "verify_iss": False},
        )
    except jwt.PyJWTError:
        return "A JSON web token could not be decoded"
    if header.get("alg") != "RS256":
        return "A JSON web token must be signed with RS256"
    now = fake.clock()
    iat, exp, iss = claims.get("iat"), claims.get("exp"), claims.get("iss")
    if not isinstance(iat, int) or iat > now + JWT_CLOCK_SKEW:
        return "'Issued at' claim ('iat') must be an Integer representing a time in the past"
    if not isinstance(exp, int) or exp > now + JWT_MAX_LIFETIME:
        return "'Expiration time' claim ('exp') is too far in the future"
    if exp <= now:
        return "'Expiration time' claim ('exp') must be a numeric value representing the future time"
    if iss not in (fake.app_id, str(fake.app_id), fake.client_id):
        return f"Integration not found for issuer {iss!r}"
    return None


def app_endpoint(fake: FakeGitHub, request: Request) -> Response:
    problem = check_jwt(fake, request.bearer())
    if problem:
        return error(401, problem)
    if match := INSTALLATION.match(request.path):
        account = fake.find_account(match.group(1), match.group(2))
        if account is None or account.installation_id is None or request.method != "GET":
            return error(404, "Not Found")
        return json_response(200, installation_body(fake, account))
    if (match := ACCESS_TOKENS.match(request.path)) and request.method == "POST":
        account = fake.account_by_installation(int(match.group(1)))
        if account is None:
            return error(404, "Not Found")
        token = "ghs_" + secrets.token_hex(18)
        expires_at = fake.clock() + fake.token_ttl
        with fake.lock:
            fake.issued[token] = IssuedToken(int(match.group(1)), account, expires_at)
        return json_response(
            201,
            {
                "token": token,
                "expires_at": iso(expires_at),
                "permissions": account.permissions,
                "repository_selection": "selected",
            },
        )
    return error(404, "Not Found")


def installation_body(fake: FakeGitHub, account: FakeAccount) -> dict[str, Any]:
    key = "slug" if account.is_enterprise else "login"
    return {
        "id": account.installation_id,
        "client_id": fake.client_id,
        "app_id": fake.app_id,
        "app_slug": "copilot-dashboard-test",
        "target_id": account.id,
        "target_type": account.kind,
        "account": {key: account.login, "id": account.id, "type": account.kind},
        "permissions": account.permissions,
        "access_tokens_url": (f"{fake.url}/app/installations/{account.installation_id}/access_tokens"),
    }


# -- token-authenticated endpoints --------------------------------------------------------

REQUIRED_PERMISSIONS = {
    "report_orgs": ("organization_copilot_metrics",),
    "report_enterprises": ("enterprise_copilot_metrics",),
    "seats_orgs": ("organization_copilot_seat_management", "organization_administration"),
    "billing_orgs": ("organization_copilot_seat_management", "organization_administration"),
    "teams_orgs": ("members",),
    "organization_orgs": (),  # an installation token can always read its own organisation
}


def with_account(
    fake: FakeGitHub, request: Request, token: str, scope: str, name: str, handler: Any, *args: Any
) -> Response:
    """Authorise ``token`` for the account in the path, then call ``handler``."""
    account = fake.find_account(scope, name)
    issued = fake.issued.get(token)
    if issued is not None:
        if fake.clock() >= issued.expires_at:
            return error(401, "Bad credentials")
        if account is None or issued.account is not account:
            return error(403, "Resource not accessible by integration")
        needed = REQUIRED_PERMISSIONS.get(f"{handler.__name__}_{scope}")
        if needed is None or (needed and not any(issued.account.permissions.get(p) for p in needed)):
            return error(403, "Resource not accessible by integration")
    elif token not in fake.personal_tokens:
        return error(401, "Bad credentials")
    if account is None:
        return error(404, "Not Found")
    return handler(fake, request, account, *args)


def report(fake: FakeGitHub, request: Request, account: FakeAccount, name: str) -> Response:
    allowed = ENTERPRISE_REPORTS if account.is_enterprise else ORG_REPORTS
    if name not in allowed:
        return error(404, "Not Found")
    day: str | None = None
    if name.endswith("-1-day"):
        day = request.query.get("day")
        if not day or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
            return error(422, "Invalid request. 'day' is a required query parameter (YYYY-MM-DD).")
    first_day = ENTERPRISE_FIRST_DAY if account.is_enterprise else ORG_FIRST_DAY
    if day is not None and (day < first_day or day >= fake.clock_today().isoformat()):
        return error(404, "Not Found")
    stored = account.reports.get((name, day))
    if stored is None:
        return error(404, "Not Found")
    if stored is NotReady.NOT_FOUND:
        return error(404, "Not Found")
    if stored is NotReady.NO_CONTENT:
        return Response(204)
    if stored is NotReady.MESSAGE:
        return json_response(200, NOT_READY_MESSAGE)
    assert isinstance(stored, list)
    expires = fake.clock() + (-1 if request.expired_links else fake.link_ttl)
    blob = hashlib.sha256(f"{account.login}/{name}/{day}".encode()).hexdigest()[:24]
    fake.blobs[blob] = [ndjson(part, last=index == len(stored) - 1) for index, part in enumerate(stored)]
    links = [signed_link(fake, blob, index, expires) for index in range(len(stored))]
    if day is not None:
        return json_response(200, {"download_links": links, "report_day": day})
    start, end = account.report_windows.get(name, ("", ""))
    return json_response(200, {"download_links": links, "report_start_day": start, "report_end_day": end})


def ndjson(records: list[dict[str, Any]], *, last: bool) -> bytes:
    """Encode records as NDJSON; the last part has no final newline, as GitHub's files may."""
    text = "\n".join(json.dumps(record) for record in records)
    return (text if last or not text else text + "\n").encode()


def signature(fake: FakeGitHub, path: str, expires: int) -> str:
    return hmac.new(fake.link_secret, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()


def signed_link(fake: FakeGitHub, blob: str, index: int, expires: float) -> str:
    path = f"/_reports/{blob}/part-{index}.ndjson"
    se = int(math.floor(expires))
    return f"{fake.url}{path}?{urlencode({'se': se, 'sig': signature(fake, path, se)})}"


def download(fake: FakeGitHub, request: Request, blob: str, index: int) -> Response:
    if "authorization" in request.headers:
        return storage_error("InvalidAuthenticationInfo", "Authorization header is not allowed with a SAS")
    expires = request.query.get("se", "")
    given = request.query.get("sig", "")
    if not expires.isdigit() or not hmac.compare_digest(given, signature(fake, request.path, int(expires))):
        return storage_error("AuthenticationFailed", "Signature did not match")
    if fake.clock() >= int(expires):
        return storage_error(
            "AuthenticationFailed",
            f"Signed expiry time [{iso(int(expires))}] must be after current time [{iso(fake.clock())}]",
        )
    parts = fake.blobs.get(blob)
    if parts is None or index >= len(parts):
        return Response(404, b"The specified blob does not exist.")
    return Response(200, parts[index], {"Content-Type": "application/x-ndjson"})


def seats(fake: FakeGitHub, request: Request, account: FakeAccount) -> Response:
    page, headers = paginate(fake, request, len(account.seats), default_per_page=50)
    body = {"total_seats": len(account.seats), "seats": account.seats[page]}
    return json_response(200, body, headers)


def billing(fake: FakeGitHub, request: Request, account: FakeAccount) -> Response:
    if account.billing is not None:
        return json_response(200, account.billing)
    total = len(account.seats)
    active = sum(1 for seat in account.seats if seat.get("last_activity_at"))
    return json_response(
        200,
        {
            "seat_breakdown": {
                "total": total,
                "added_this_cycle": 0,
                "pending_invitation": 0,
                "pending_cancellation": sum(1 for s in account.seats if s.get("pending_cancellation_date")),
                "active_this_cycle": active,
                "inactive_this_cycle": total - active,
            },
            "seat_management_setting": "assign_selected",
            "ide_chat": "enabled",
            "platform_chat": "enabled",
            "cli": "enabled",
            "public_code_suggestions": "block",
            "plan_type": "business",
        },
    )


def teams(fake: FakeGitHub, request: Request, account: FakeAccount) -> Response:
    page, headers = paginate(fake, request, len(account.teams), default_per_page=30)
    return json_response(200, account.teams[page], headers)


def organization(fake: FakeGitHub, request: Request, account: FakeAccount) -> Response:
    return json_response(200, {"login": account.login, "id": account.id, "type": "Organization"})


def paginate(fake: FakeGitHub, request: Request, total: int, *, default_per_page: int) -> tuple[slice, dict[str, str]]:
    """Return the slice of items for the requested page and its ``Link`` header."""
    per_page = _int(request.query.get("per_page"), default_per_page)
    per_page = min(100, max(1, per_page))
    page = max(1, _int(request.query.get("page"), 1))
    last = max(1, math.ceil(total / per_page))
    links = []
    if page < last:
        links.append(("next", page + 1))
        links.append(("last", last))
    if page > 1:
        links.append(("first", 1))
        links.append(("prev", min(page - 1, last)))
    other = {k: v for k, v in request.query.items() if k not in ("page", "per_page")}

    def link(number: int) -> str:
        query = urlencode({**other, "per_page": per_page, "page": number})
        return f"{fake.url}{request.path}?{query}"

    headers = {"Link": ", ".join(f'<{link(n)}>; rel="{rel}"' for rel, n in links)} if links else {}
    start = (page - 1) * per_page
    return slice(start, start + per_page), headers


def _int(text: str | None, default: int) -> int:
    return int(text) if text and text.isdigit() else default


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_text(day: date | str | None) -> str | None:
    if day is None or isinstance(day, str):
        return day
    return day.isoformat()
