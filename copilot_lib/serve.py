"""Serve the dashboard notebook with Voilà on a loopback address.

Voilà runs as a child process started from :func:`voila_command`, the same command the
browser tests start, so what the tests check is what ``make run`` serves.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType

from copilot_lib import config
from copilot_lib.errors import ConfigError

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_NOTEBOOK = REPO_ROOT / "notebooks" / "dashboard.ipynb"
# Jupyter data folder shipped with the package; it holds the "copilot" Voilà template.
SHARE_DIR = Path(__file__).resolve().parent / "share" / "jupyter"
TEMPLATE = "copilot"

# A kernel whose page was closed is shut down after this many idle seconds. Voilà starts one
# kernel per page load and keeps it after the page closes unless culling is on.
# NOTE: Voilà 0.5.13 rejects the closing page's own shutdown request (403, "_xsrf argument
# missing"), so each closed page's kernel, with its copy of the data, lives until culled.
CULL_IDLE_SECONDS = 300
CULL_INTERVAL_SECONDS = 60
# How long Voilà gets to shut its kernels down after a stop signal, before a harder one.
STOP_WAIT_SECONDS = 15
# Kernels kept started with the notebook already run, so the next page load skips both.
POOL_SIZE = 1


def notebook_path(notebook: str | os.PathLike[str] | None = None) -> Path:
    """Return the notebook to serve, checking that it exists.

    The default is ``notebooks/dashboard.ipynb`` of the source tree the package was
    installed from in editable mode (``pip install -e .``).
    """
    path = Path(notebook).expanduser() if notebook is not None else DEFAULT_NOTEBOOK
    if not path.is_file():
        raise ConfigError(
            f"notebook {str(path)!r} not found: run from a clone of the repository installed "
            "with `pip install -e .` (as `make run` does), or pass --notebook PATH"
        )
    return path.resolve()


# JupyterLab extensions installed as dependencies that the page never uses. Voilà loads
# every installed extension before it connects to the kernel, so skipping these brings
# the first chart forward.
UNUSED_EXTENSIONS = ("anywidget", "jupyterlab_pygments", "@voila-dashboards/jupyterlab-preview")


def voila_command(notebook: Path, *, port: int, host: str = "127.0.0.1", preheat: bool = True) -> list[str]:
    """Return the command line that serves ``notebook`` with Voilà.

    Tracebacks stay hidden from viewers (the app shows its own message panel), idle kernels
    are culled, and no browser is opened.
    """
    command = [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        f"--port={port}",
        f"--Voila.ip={host}",
        "--no-browser",
        f"--template={TEMPLATE}",
        "--show_tracebacks=False",
        f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE_SECONDS}",
        f"--MappingKernelManager.cull_interval={CULL_INTERVAL_SECONDS}",
        *(f"--VoilaConfiguration.extension_denylist={name}" for name in UNUSED_EXTENSIONS),
    ]
    if preheat:
        command += ["--preheat_kernel=True", f"--pool_size={POOL_SIZE}"]
    return command


def voila_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the environment for Voilà: ``base`` with the package's template folder added.

    ``JUPYTER_PATH`` gains the package's share folder so that Voilà finds the "copilot"
    template, which loads no stylesheet or font from a CDN.
    """
    env = dict(os.environ if base is None else base)
    existing = env.get("JUPYTER_PATH", "")
    env["JUPYTER_PATH"] = os.pathsep.join(part for part in (str(SHARE_DIR), existing) if part)
    return env


def source_description(environ: Mapping[str, str] | None = None) -> str:
    """Name the data source the dashboard will show, in the order the dashboard picks it."""
    env = os.environ if environ is None else environ
    folder = config.setting(None, config.ENV_DATA_DIR, environ=env)
    if folder:
        return f"report files in {folder}"
    store = config.setting(None, config.ENV_STORE, environ=env)
    if store:
        return f"the history store {store}"
    account = config.setting(None, config.ENV_ORG, environ=env) or config.setting(
        None, config.ENV_ENTERPRISE, environ=env
    )
    users, days = config.demo_size(env)
    demo = f"demo data ({users:,} users over {days} days)"
    if account:
        return f"GitHub data for {account} when its credentials are set, else {demo}"
    return demo


def serve(
    port: int = config.DEFAULT_PORT,
    host: str = "127.0.0.1",
    notebook: str | os.PathLike[str] | None = None,
    *,
    preheat: bool = True,
) -> int:
    """Serve the dashboard until interrupted and return an exit status.

    That is Voilà's status when it stops on its own. After Ctrl-C or SIGTERM it is 0 once
    Voilà has stopped as asked, and 1 when it had to be killed.
    """
    path = notebook_path(notebook)
    command = voila_command(path, port=port, host=host, preheat=preheat)
    logger.info("serving %s on http://%s:%d/ with %s", path, host, port, source_description())
    process = subprocess.Popen(command, env=voila_environment())
    with _sigterm_raises():
        try:
            return process.wait()
        except KeyboardInterrupt:
            # Voilà received the same SIGINT from the terminal; give it time to stop its kernels.
            logger.info("stopping Voilà (pid %d)", process.pid)
            return _stopped_status(_wait_or_stop(process))
        except TerminatedError:
            # SIGTERM reached only this process. Voilà shuts its kernels down on SIGTERM too.
            logger.info("received SIGTERM: stopping Voilà (pid %d)", process.pid)
            process.terminate()
            return _stopped_status(_wait_or_stop(process))


def _stopped_status(status: int) -> int:
    """Return 0 when Voilà exited as a requested stop expects (status 0, SIGINT or SIGTERM), else 1.

    A service manager reads a non-zero status after the stop it sent as a failure.
    """
    return 0 if status in (0, -signal.SIGINT, -signal.SIGTERM) else 1


class TerminatedError(Exception):
    """This process received SIGTERM."""


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into TerminatedError while the block runs, so that it can stop the child."""
    if threading.current_thread() is not threading.main_thread():
        # Python accepts signal handlers only in the main thread.
        yield
        return

    def raise_terminated(signum: int, frame: FrameType | None) -> None:
        # A repeated SIGTERM must not interrupt the shutdown that the first one started.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise TerminatedError

    previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _wait_or_stop(process: subprocess.Popen[bytes]) -> int:
    """Wait for Voilà to exit, then terminate it, and kill it if it still runs."""
    try:
        return process.wait(timeout=STOP_WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        process.terminate()
    try:
        return process.wait(timeout=STOP_WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        logger.warning("Voilà (pid %d) did not stop within %d s: killing it", process.pid, STOP_WAIT_SECONDS)
        process.kill()
        return process.wait()
