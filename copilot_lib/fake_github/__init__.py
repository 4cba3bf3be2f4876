"""A fake GitHub REST API on 127.0.0.1, shared by tests, demos and benchmarks.

Product modules never import this package. It imports ``jwt`` to check App JWTs the way
GitHub does, which is the one exception to "only copilot_lib.auth imports jwt".
"""

from copilot_lib.fake_github.server import FakeGitHub, env_for_app
from copilot_lib.fake_github.state import (
    ENTERPRISE_PERMISSIONS,
    NOT_READY_MESSAGE,
    ORG_PERMISSIONS,
    FakeAccount,
    FakeClock,
    Fault,
    NotReady,
    RecordedRequest,
)

__all__ = [
    "ENTERPRISE_PERMISSIONS",
    "NOT_READY_MESSAGE",
    "ORG_PERMISSIONS",
    "FakeAccount",
    "FakeClock",
    "FakeGitHub",
    "Fault",
    "NotReady",
    "RecordedRequest",
    "env_for_app",
]
