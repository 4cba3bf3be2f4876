"""The controls every dashboard view obeys, and the default price of a seat."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from copilot_lib.errors import ConfigError
from copilot_lib.metrics import GRAINS

# List prices in US dollars per seat and month, by the seats API's ``plan_type``. Business
# is $19 (GitHub's plans page as quoted in GitHub community discussion #195495, 2026).
# NOTE: the Enterprise price of $39 is GitHub's long-standing list price, not checked against
# a current GitHub page. Pass ``price_per_seat`` when your contract differs.
DEFAULT_SEAT_PRICES = {"business": 19.0, "enterprise": 39.0}
DEFAULT_SEAT_THRESHOLD_DAYS = 30


@dataclass(frozen=True)
class Filters:
    """Global controls: date range, grain and what to include.

    ``since`` and ``until`` are inclusive UTC days; None means the first or last day with
    data. ``scope`` is ``organization`` or ``enterprise`` and ``entity`` an organisation or
    enterprise id; None picks every entity of the default scope (enterprise when the data
    has enterprise records, organisation otherwise). ``teams`` restricts activity to team
    members (team slugs or ids, matched per day). ``price_per_seat`` overrides the price by
    plan type in ``DEFAULT_SEAT_PRICES``. ``search`` filters the seat and user tables by a
    case-insensitive substring of the login, alias, editor or team.
    """

    since: date | None = None
    until: date | None = None
    grain: str = "day"
    exclude_weekends: bool = False
    hide_unknown: bool = False
    scope: str | None = None
    entity: str | None = None
    teams: tuple[str, ...] = field(default_factory=tuple)
    seat_threshold_days: int = DEFAULT_SEAT_THRESHOLD_DAYS
    price_per_seat: float | None = None
    pseudonymise: bool = False
    search: str = ""

    def __post_init__(self) -> None:
        if self.grain not in GRAINS:
            raise ConfigError(f"unknown grain {self.grain!r}: use one of {', '.join(GRAINS)}")
        if self.since is not None and self.until is not None and self.since > self.until:
            raise ConfigError(f"the range starts ({self.since}) after it ends ({self.until}): swap the two days")
        if self.seat_threshold_days < 1:
            raise ConfigError(f"seat threshold {self.seat_threshold_days} days is too short: use at least 1 day")
        # Accept a list from a widget as well as a tuple, so callers need not convert.
        object.__setattr__(self, "teams", tuple(str(team) for team in self.teams))

    def seat_price(self, plan_type: str | None) -> float:
        """Return the monthly price of one seat on ``plan_type``, or the configured override."""
        if self.price_per_seat is not None:
            return self.price_per_seat
        return DEFAULT_SEAT_PRICES.get(plan_type or "business", DEFAULT_SEAT_PRICES["business"])
