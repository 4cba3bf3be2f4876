"""Read, keep and chart GitHub Copilot usage metrics.

The package turns GitHub's Copilot usage metrics reports, seats and teams into tidy pandas
tables, defines every metric the way GitHub does, keeps history in a local folder or an S3
prefix, and serves an ipywidgets dashboard through Voilà.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("copilot-dashboard")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
