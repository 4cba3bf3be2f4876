"""Which GitHub App permission or token scope each endpoint needs, for error messages.

GitHub responds to a missing permission with 403, and sometimes with 404 so as not to reveal
that a resource exists. The table follows the "Permissions required" sections of GitHub's
REST docs for Copilot usage metrics, Copilot user management and teams (API version
2026-03-10).
"""

from __future__ import annotations

import re

_REQUIREMENTS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"^/orgs/[^/]+/copilot/metrics/reports/"),
        'a GitHub App needs the "Organization Copilot metrics" permission (read); a fine-grained '
        "token the same permission; a classic token the read:org scope and an org owner behind "
        'it. The enterprise policy "Copilot usage metrics" must be enabled',
    ),
    (
        re.compile(r"^/enterprises/[^/]+/copilot/metrics/reports/"),
        'a GitHub App needs an enterprise installation with the "Enterprise Copilot metrics" '
        "permission (read), and an organisation installation's token is rejected here; a classic "
        "token needs the manage_billing:copilot or read:enterprise scope (fine-grained tokens "
        "are not supported)",
    ),
    (
        re.compile(r"^/enterprises/[^/]+/copilot/billing/seats"),
        "only a classic personal access token can list enterprise seats, with the "
        "manage_billing:copilot or read:enterprise scope (GitHub Apps and fine-grained tokens "
        "are not supported)",
    ),
    (
        re.compile(r"^/orgs/[^/]+/(copilot/billing|members/[^/]+/copilot)"),
        'a GitHub App needs the "GitHub Copilot Business" permission (read) or "Administration" '
        "(read); a classic token the manage_billing:copilot or read:org scope and an org owner "
        "behind it",
    ),
    (
        re.compile(r"^/orgs/[^/]+/teams"),
        'a GitHub App needs the "Members" permission (read); a classic token the read:org scope',
    ),
    (
        re.compile(r"^/(orgs|enterprises)/[^/]+/installation$"),
        "the GitHub App must be installed on this account",
    ),
]


def required_access(path: str) -> str | None:
    """Return the permission or scope that ``path`` needs, as a sentence, or None if unknown."""
    for pattern, text in _REQUIREMENTS:
        if pattern.search(path):
            return text
    return None
