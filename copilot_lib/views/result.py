"""The base of every view's result: what to show, or a sentence saying what is missing."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ViewResult:
    """A view's data. When ``missing`` is set the view has nothing to show and the sentence
    states what is missing and how to get it. ``notes`` are caveats to show next to the data."""

    missing: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.missing is None


NO_DATA = (
    "No report data: run `copilot-dashboard fetch` or set COPILOT_DATA_DIR to a folder of usage metrics report files."
)
NO_DATA_IN_RANGE = "No data between {since} and {until}: widen the date range."
NO_USER_ROWS = (
    "No user-level reports: fetch the users-1-day or users-28-day report (enterprise or "
    "organisation) to see distinct users, teams and per-user tables."
)
NO_TEAMS = (
    "No user-teams report: fetch the user-teams report (GitHub omits teams with fewer than "
    "five seated users) and teams.json to compare teams."
)
NO_SEATS = (
    "No seats file: run `copilot-dashboard fetch` with a token that has the GitHub Copilot "
    "Business permission, or put seats.json in the data folder."
)
