"""The dashboard as ipywidgets: data source, global controls and a tab per view.

The notebook served by Voilà only calls :func:`show`; everything else lives here so it
can be tested without a browser. Widgets carry CSS classes (``copilot-*``) that tests and
themes select on.

Each chart is an ``Output`` widget whose outputs are replaced by a complete Plotly mime
bundle (see :class:`copilot_lib.components.Chart`). Nothing calls ``display()`` inside an
``Output`` context while the notebook runs, because that left Voilà 0.5 pages stuck at
"Executing" on some loads.
"""

from __future__ import annotations

import html
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal, cast

import ipywidgets as widgets
import pandas as pd

from copilot_lib import config, demo, history_view, preview, tabs, views
from copilot_lib.components import Chart
from copilot_lib.demo_scale import generate_tables_fast
from copilot_lib.errors import CopilotDashboardError
from copilot_lib.fetch import fetch_latest
from copilot_lib.history_tables import day_status, load_store
from copilot_lib.secrets import mask
from copilot_lib.store import open_store
from copilot_lib.tables import Tables, load_folder
from copilot_lib.theme import Theme, load_theme

logger = logging.getLogger(__name__)

DEMO_USERS = config.DEFAULT_DEMO_USERS
DEMO_DAYS = config.DEFAULT_DEMO_DAYS
# Demo data for more users than this is generated as tables, not as report files.
DEMO_FILE_USERS = 1_000
PRESETS = (("Last 7 days", 7), ("Last 28 days", 28), ("Whole range", 0))
GRAIN_OPTIONS = (("Day", "day"), ("ISO week", "week"), ("Month", "month"))
CONTROL_ROW = {"flex_flow": "row wrap", "align_items": "center"}

# Called with (done, total, name) after each download of live data.
Progress = Callable[[int, int, str], None]

STYLESHEET = Path(__file__).with_name("assets") / "dashboard.css"


@dataclass
class Source:
    """The tables the dashboard shows and where they came from.

    ``tables`` is None when loading failed, and ``error`` then explains the failure to the
    viewer and ``fix`` names the setting to check. ``history`` marks a history store, whose
    ``days`` holds :func:`~copilot_lib.history_tables.day_status`.
    """

    tables: Tables | None
    label: str
    demo: bool = False
    error: str | None = None
    fix: str = f"Check {config.ENV_DATA_DIR}"
    history: bool = False
    days: pd.DataFrame | None = None


def demo_tables(users: int = DEMO_USERS, days: int = DEMO_DAYS) -> Tables:
    """Generate demo report files in a temporary folder and build their tables.

    Above ``DEMO_FILE_USERS`` users, writing report files would take minutes, so the
    tables are generated directly (:func:`copilot_lib.demo_scale.generate_tables_fast`).
    """
    if users > DEMO_FILE_USERS:
        return generate_tables_fast(users=users, days=days)
    data = demo.generate(users=users, days=days)
    with tempfile.TemporaryDirectory(prefix="copilot-demo-") as folder:
        demo.write(folder, data)
        return load_folder(folder)


def load_source(environ: Mapping[str, str] | None = None, *, on_progress: Progress | None = None) -> Source:
    """Load the tables to show, from the first data source that is configured.

    The order is: the ``COPILOT_DATA_DIR`` folder, the ``COPILOT_STORE`` history store, live
    data from GitHub when an organisation or enterprise and credentials are set, and else
    demo data. ``on_progress(done, total, name)`` is called after each GitHub download.

    Failures become a :class:`Source` with an error message instead of an exception, so the
    page shows a readable panel rather than a traceback. Secret values from the environment
    are masked in that message.
    """
    env = os.environ if environ is None else environ
    kind = source_kind(env)
    label, fix = "demo data", f"Check {config.ENV_DATA_DIR}"
    try:
        if kind == "folder":
            path = os.path.expanduser(config.setting(None, config.ENV_DATA_DIR, environ=env) or "")
            label = path
            return Source(tables=load_folder(path), label=f"Report files in {path}")
        if kind == "store":
            store = config.setting(None, config.ENV_STORE, environ=env) or ""
            label, fix = store, f"Check {config.ENV_STORE}"
            cache = config.setting(None, config.ENV_CACHE_DIR, environ=env) or config.DEFAULT_CACHE_DIR
            return store_source(store, cache)
        if kind == "github":
            label, fix = live_label(env), "Check the GitHub settings"
            return live_source(config.github_settings(environ=env), on_progress)
        fix = f"Check {config.ENV_DEMO_USERS} and {config.ENV_DEMO_DAYS}"
        users, days = config.demo_size(env)
        return Source(
            tables=demo_tables(users, days),
            label=f"Demo data: {users:,} generated users over {days} days. "
            f"Set {config.ENV_DATA_DIR} to a folder of report files to see your own.",
            demo=True,
        )
    except CopilotDashboardError as exc:
        message = mask(str(exc), secret_values(env))
        logger.warning("loading the dashboard data failed: %s", message)
        return Source(tables=None, label=label, error=message, fix=fix)
    except Exception as exc:  # the viewer sees a message panel, never a traceback
        message = mask(f"{type(exc).__name__}: {exc}", secret_values(env))
        logger.error("loading the dashboard data failed unexpectedly: %s", message)
        return Source(tables=None, label=label, error=message, fix=fix)


SourceKind = Literal["folder", "store", "github", "demo"]


def source_kind(env: Mapping[str, str]) -> SourceKind:
    """Return the kind of data source :func:`load_source` reads, in its order of precedence."""
    if config.setting(None, config.ENV_DATA_DIR, environ=env):
        return "folder"
    if config.setting(None, config.ENV_STORE, environ=env):
        return "store"
    if live_configured(env):
        return "github"
    return "demo"


def live_configured(env: Mapping[str, str]) -> bool:
    """Return True when an organisation or enterprise and some GitHub credential are set.

    Incomplete credentials (an App without a private key, a key without an App) still
    count, so the page shows an error naming what is missing instead of demo data.
    """
    target = (config.ENV_ORG, config.ENV_ENTERPRISE)
    credentials = (
        config.ENV_TOKEN,
        config.ENV_APP_CLIENT_ID,
        config.ENV_APP_ID,
        config.ENV_APP_PRIVATE_KEY,
        config.ENV_APP_PRIVATE_KEY_PATH,
        config.ENV_APP_PRIVATE_KEY_SECRET,
    )
    return any(config.setting(None, name, environ=env) for name in target) and any(
        config.setting(None, name, environ=env) for name in credentials
    )


def live_label(env: Mapping[str, str]) -> str:
    """Return the organisation or enterprise setting, such as ``GITHUB_ORG=acme``."""
    for name in (config.ENV_ORG, config.ENV_ENTERPRISE):
        value = config.setting(None, name, environ=env)
        if value:
            return f"{name}={value}"
    return "no organisation or enterprise"


def secret_values(env: Mapping[str, str]) -> list[str]:
    """Return the secret values set in ``env``: the token and the App private key."""
    names = (config.ENV_TOKEN, config.ENV_APP_PRIVATE_KEY)
    return [value for name in names if (value := config.setting(None, name, environ=env))]


def store_source(location: str, cache: str | os.PathLike[str] | None = None) -> Source:
    """Load every stored day, the legacy tables and the day status of a history store.

    ``cache`` is a folder for local copies of an S3 store's table files (see
    :func:`copilot_lib.history_tables.load_store`).
    """
    store = open_store(location)
    tables = load_store(store, cache=cache)
    return Source(
        tables=tables,
        label=f"History store {store.url}",
        history=True,
        days=day_status(store),
    )


def live_source(settings: config.GitHubSettings, on_progress: Progress | None = None) -> Source:
    """Download the latest 28-day reports and the seats from GitHub and load them.

    The files go to a temporary folder that is removed once loaded, so every page load
    shows GitHub's current window and no report files stay on the server.
    """
    name = settings.org or settings.enterprise
    with tempfile.TemporaryDirectory(prefix="copilot-live-") as folder:
        fetch_latest(settings, folder, on_progress=on_progress)
        tables = load_folder(folder)
    kind = "organisation" if settings.org else "enterprise"
    return Source(
        tables=tables,
        label=f"Live data from GitHub for {kind} {name}: the latest 28-day reports and seats.",
    )


class Dashboard:
    """The widget tree of the dashboard for one data source.

    A tab's widgets are built when the tab is first selected. Only the selected tab is
    redrawn when a control changes; the others are redrawn when they are next selected.
    """

    def __init__(self, source: Source, theme: Theme | None = None, today: date | None = None):
        self.source = source
        self.theme = theme or Theme()
        self.today = today or date.today()
        self.header = widgets.HTML(self._header_html())
        self.header.add_class("copilot-header")
        self.banner = widgets.HTML(self._banner_text())
        self.banner.add_class("copilot-banner" if source.demo else "copilot-source")
        self._tabs: list[tuple[str, Callable[[], tabs.View]]] = []
        self._built: dict[int, tabs.View] = {}

        if source.tables is None:
            self.widget = self._error_view(source.error or "no data")
            return
        self.tables = source.tables
        first, last = views.date_bounds(self.tables)
        if first is None or last is None:
            self.widget = self._error_view("the data source holds no day records")
            return
        self.first, self.last = first, last
        # Build the per-load structures now, while the page shows its loading message, so
        # no control change pays for them later. Past this point the page reads the tables
        # only through the views, so the large user tables are released once their
        # structures exist.
        history = history_view.series_by_grain(self.tables, source.days) if source.history else None
        views.compact(self.tables)
        views.warm(self.tables)

        self._build_controls()
        self._tabs = list(tabs.TABS)
        if source.history:
            self._tabs.append((history_view.HistoryView.title, lambda: history_view.HistoryView(source.days, history)))
        self._slots = [widgets.VBox(layout=widgets.Layout(width="100%")) for _ in self._tabs]
        self._stale: set[int] = set()
        self.tab_widget = widgets.Tab(children=self._slots)
        self.tab_widget.titles = tuple(title for title, _ in self._tabs)
        self.tab_widget.add_class("copilot-tabs")
        self.tab_widget.observe(self._on_tab, names="selected_index")
        self.refresh()

        self.widget = widgets.VBox(
            [self.header, self.banner, self.controls, self.status, self.tab_widget],
            layout=widgets.Layout(width="100%"),
        )
        self.widget.add_class("copilot-dashboard")

    def _header_html(self) -> str:
        style = f"<style>{STYLESHEET.read_text(encoding='utf-8')}</style>"
        name = html.escape(self.theme.name)
        logo = ""
        if self.theme.logo_data_uri:
            logo = f'<img class="copilot-logo" src="{self.theme.logo_data_uri}" alt="{name} logo">'
        return f'{style}<header class="copilot-title">{logo}<h1>{name}</h1></header>'

    def _banner_text(self) -> str:
        label = html.escape(self.source.label)
        if self.source.demo:
            label = label.removeprefix("Demo data: ")
            return f'<p role="note"><strong>Demo data.</strong> {label}</p>'
        return f'<p role="note">{label}</p>'

    def _error_view(self, message: str) -> widgets.VBox:
        panel = widgets.HTML(
            f'<div role="alert"><h2>The dashboard could not load its data</h2>'
            f"<p>{html.escape(message)}</p>"
            f"<p>{html.escape(self.source.fix)} (now {html.escape(self.source.label)}) "
            "and reload the page.</p></div>"
        )
        panel.add_class("copilot-error")
        view = widgets.VBox([self.header, panel])
        view.add_class("copilot-dashboard")
        return view

    def _build_controls(self) -> None:
        range_row = self._range_controls()
        filter_row = self._filter_controls()
        self.status = widgets.HTML()
        self.status.add_class("copilot-status")
        self._updating = False

        controls = (
            self.since,
            self.until,
            self.grain,
            self.weekdays_only,
            self.hide_unknown,
            self.pseudonymise,
        )
        for control in controls:
            control.observe(self._on_control, names="value")
        scope_row = self._scope_controls()
        self.scope.observe(self._on_control, names="value")
        self.teams.observe(self._on_control, names="value")
        self.controls = widgets.VBox([range_row, filter_row, scope_row])
        self.controls.add_class("copilot-controls")

    def _range_controls(self) -> widgets.HBox:
        style = {"description_width": "initial"}
        self.since = widgets.DatePicker(description="From", value=self.first, style=style)
        self.until = widgets.DatePicker(description="To", value=self.last, style=style)
        self.since.add_class("copilot-since")
        self.until.add_class("copilot-until")

        buttons = []
        for label, days in PRESETS:
            button = widgets.Button(description=label, tooltip=f"Show {label.lower()} of the data")
            button.add_class("copilot-preset")
            button.on_click(lambda _button, days=days: self.select_last(days))
            buttons.append(button)
        return widgets.HBox([self.since, self.until, *buttons], layout=CONTROL_ROW)

    def _filter_controls(self) -> widgets.HBox:
        self.grain = widgets.Dropdown(
            description="Grain",
            options=GRAIN_OPTIONS,
            value="day",
            style={"description_width": "initial"},
        )
        self.grain.add_class("copilot-grain")
        self.weekdays_only = widgets.Checkbox(description="Exclude weekends", indent=False)
        self.weekdays_only.add_class("copilot-weekdays")
        self.hide_unknown = widgets.Checkbox(description="Hide unknown", indent=False)
        self.hide_unknown.add_class("copilot-hide-unknown")
        self.pseudonymise = widgets.Checkbox(description="Pseudonymise logins", indent=False)
        self.pseudonymise.add_class("copilot-pseudonymise")
        return widgets.HBox(
            [self.grain, self.weekdays_only, self.hide_unknown, self.pseudonymise],
            layout=CONTROL_ROW,
        )

    def _scope_controls(self) -> widgets.HBox:
        style = {"description_width": "initial"}
        self.scope = widgets.Dropdown(
            description="Scope", options=scope_options(self.tables), value=(None, None), style=style
        )
        self.scope.add_class("copilot-scope")
        team_names = views.team_options(self.tables)
        self.teams = widgets.SelectMultiple(
            description="Teams",
            options=team_names,
            value=(),
            rows=min(max(len(team_names), 2), 6),
            disabled=not team_names,
            style=style,
        )
        self.teams.add_class("copilot-teams")
        hint = (
            "No team selected: every user counts. Pick one team, or several with Ctrl or Shift."
            if team_names
            else "No user-teams report is loaded, so no team can be selected."
        )
        self.teams_hint = widgets.HTML(f'<p class="copilot-hint">{html.escape(hint)}</p>')
        return widgets.HBox([self.scope, self.teams, self.teams_hint], layout=CONTROL_ROW)

    @property
    def views(self) -> list[tabs.View]:
        """Return every view in tab order, building the ones not selected yet.

        The page itself builds a view when its tab is first selected.
        """
        return [self._view(index) for index in range(len(self._tabs))]

    def _view(self, index: int) -> tabs.View:
        view = self._built.get(index)
        if view is None:
            view = self._tabs[index][1]()
            self._built[index] = view
            self._slots[index].children = (view.widget,)
            self._stale.add(index)
        return view

    def first_view(self) -> tabs.ResultView | None:
        """Return the first tab's view if it is built and draws from one result, else None."""
        view = self._built.get(0)
        return view if isinstance(view, tabs.ResultView) else None

    def charts(self) -> dict[str, Chart]:
        """Return every chart of every view, by name."""
        found = {}
        for view in self.views:
            for name, panel in getattr(view, "panels", {}).items():
                found[name] = panel.chart
        return found

    def select_last(self, days: int) -> None:
        """Set the range to the last ``days`` days of the data (0: the whole range)."""
        since = self.first if days <= 0 else max(self.first, self.last - timedelta(days=days - 1))
        self.set_range(since, self.last)

    def set_range(self, since: date, until: date) -> None:
        """Set both ends of the range and redraw once."""
        self._updating = True
        try:
            self.since.value = since
            self.until.value = until
        finally:
            self._updating = False
        self.refresh()

    def _on_control(self, change: Mapping[str, Any]) -> None:
        if self._updating:
            return
        # Every tab contains logins in its tables, so hiding them redraws every tab now
        # rather than leaving real logins on the page until a tab is next selected.
        self.refresh(every_view=change.get("owner") is self.pseudonymise)

    def _on_tab(self, change: Mapping[str, Any]) -> None:
        index = change["new"]
        if index is not None and (index in self._stale or index not in self._built):
            self._refresh_view(index)

    def selection(self) -> tabs.Selection | None:
        """Return the current selection, or None when the date range is invalid."""
        since, until = self.since.value, self.until.value
        if since is None or until is None:
            self.status.value = '<p role="status">Choose both a start and an end date.</p>'
            return None
        if since > until:
            message = f"The start date {since} is after the end date {until}: swap them."
            self.status.value = f'<p role="status">{message}</p>'
            return None
        self.status.value = ""
        scope, entity = self.scope.value
        filters = views.Filters(
            since=since,
            until=until,
            grain=self.grain.value,
            exclude_weekends=self.weekdays_only.value,
            hide_unknown=self.hide_unknown.value,
            scope=scope,
            entity=entity,
            teams=tuple(self.teams.value),
            pseudonymise=self.pseudonymise.value,
        )
        return tabs.Selection(filters=filters, today=self.today, colors=self.theme.colors)

    def refresh(self, every_view: bool = False) -> None:
        """Redraw the selected view now and mark the others for redrawing when selected.

        With ``every_view`` every view is redrawn now.
        """
        if self.selection() is None:
            return
        self._stale = set(self._built)
        # Views not built yet draw with the current controls when first selected.
        chosen = set(self._built) if every_view else set()
        for index in sorted({*chosen, self.tab_widget.selected_index or 0}):
            self._refresh_view(index)

    def _refresh_view(self, index: int) -> None:
        selection = self.selection()
        if selection is None:
            return
        self._view(index).refresh(self.tables, selection)
        self._stale.discard(index)


SCOPE_NAMES = {"organization": ("organisation", "All organisations"), "enterprise": ("enterprise", "All enterprises")}


def scope_options(tables: Tables) -> list[tuple[str, tuple[str | None, str | None]]]:
    """Return the scope control's (label, (scope, entity)) options for the loaded data.

    The first option leaves the choice to the views: enterprise totals when the data has
    enterprise records, else every organisation. Each scope present gets an "all" option
    when it has more than one entity, and each entity its own option.
    """
    options: list[tuple[str, tuple[str | None, str | None]]] = [("All (enterprise totals when present)", (None, None))]
    entities = views.entity_options(tables)
    for scope in ("enterprise", "organization"):
        ids = [entity for kind, entity in entities if kind == scope]
        noun, everything = SCOPE_NAMES[scope]
        if len(ids) > 1:
            options.append((everything, (scope, None)))
        options.extend((f"{noun.capitalize()} {entity}", (scope, entity)) for entity in ids)
    return options


def _in_kernel() -> bool:
    """Return True when running in a Jupyter kernel, where stderr is shown on the page."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def log_to_server() -> None:
    """Send copilot_lib's log records to the kernel process's own stderr.

    In a kernel, ``sys.stderr`` is shown on the page, while ``sys.__stderr__`` is the stream
    the kernel inherited from Voilà, which ends up in the server's log. Viewers therefore
    never see log lines or tracebacks. Outside a Jupyter kernel (in tests, in scripts) logging
    is left as the caller configured it.
    """
    if not _in_kernel():
        return
    package = logging.getLogger("copilot_lib")
    if any(getattr(handler, "_copilot_server", False) for handler in package.handlers):
        return
    stream = sys.__stderr__ if sys.__stderr__ is not None else sys.stderr
    handler = logging.StreamHandler(stream)
    handler._copilot_server = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    package.addHandler(handler)
    package.setLevel(logging.INFO)
    package.propagate = False


def show(environ: Mapping[str, str] | None = None, *, background: bool = True) -> widgets.Widget:
    """Return the dashboard widget for the notebook to display.

    With ``background`` the widget first shows a loading message while a thread loads the
    data and then fills it in. A long load (a large folder, or live data from GitHub) thus
    shows a status on the page instead of Voilà's blank "Executing" spinner.

    In a kernel of Voilà's pool, which runs the notebook before a viewer asks for the page,
    the notebook also waits for local data (at most ``preview.WAIT_SECONDS``) and displays
    a static preview of the first tab, which the page shows until the widgets are drawn.
    Live data from GitHub can take minutes, so its page shows the loading message instead.
    """
    log_to_server()
    try:
        theme = load_theme(environ)
    except CopilotDashboardError as exc:
        logger.warning("using the default theme: %s", exc)
        theme = Theme()
    if not background:
        return Dashboard(load_source(environ), theme).widget

    message = widgets.HTML('<p role="status">Loading the usage data…</p>')
    message.add_class("copilot-loading")
    shell = widgets.VBox([message], layout=widgets.Layout(width="100%"))
    shell.add_class("copilot-dashboard")
    built: list[Dashboard] = []
    thread = threading.Thread(target=_fill, args=(shell, environ, theme, built), name="copilot-load", daemon=True)
    thread.start()
    env = os.environ if environ is None else environ
    if preview.enabled(env) and source_kind(env) != "github":
        thread.join(preview.WAIT_SECONDS)
        if not built:
            logger.info("no preview of the first tab: loading the data took over %.0f s", preview.WAIT_SECONDS)
        else:
            _show_preview(built[0])
    return shell


def _show_preview(dashboard: Dashboard) -> None:
    """Display the preview of ``dashboard``'s first tab; a failure only costs the preview."""
    try:
        if not preview.show_preview(dashboard):
            logger.info("no preview of the first tab: it has nothing to draw")
    except Exception:  # the page still gets its widgets, so the viewer sees no error
        logger.exception("building the preview of the first tab failed")


def progress_message(message: widgets.HTML) -> Progress:
    """Return an ``on_progress`` callback that shows the download steps in ``message``."""

    def report(done: int, total: int, name: str) -> None:
        message.value = (
            '<p role="status">Loading the usage data… downloaded '
            f"{done} of {total} from GitHub ({html.escape(name)})</p>"
        )

    return report


def _fill(shell: widgets.VBox, environ: Mapping[str, str] | None, theme: Theme, built: list[Dashboard]) -> None:
    """Load the data, put the dashboard's widgets into ``shell`` and append it to ``built``."""
    message = cast(widgets.HTML, shell.children[0])
    try:
        source = load_source(environ, on_progress=progress_message(message))
        dashboard = Dashboard(source, theme)
        shell.children = dashboard.widget.children
        built.append(dashboard)
    except Exception:  # the viewer sees a message panel, never a traceback
        logger.exception("building the dashboard failed")
        failure = widgets.HTML(
            '<div role="alert"><h2>The dashboard could not be built</h2><p>The server log has the details.</p></div>'
        )
        failure.add_class("copilot-error")
        shell.children = (failure,)
