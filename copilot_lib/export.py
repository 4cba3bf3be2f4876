"""Write every table to a folder as CSV or Parquet files, one file per table."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pandas as pd

from copilot_lib.errors import ConfigError
from copilot_lib.tables import Tables

logger = logging.getLogger(__name__)

FORMATS = ("csv", "parquet")


def export_tables(tables: Tables, folder: str | os.PathLike[str], file_format: str = "csv") -> list[Path]:
    """Write each table of ``tables`` to ``folder/<table>.<format>`` and return the paths.

    Empty tables are written too, with their columns, so a reader always finds every
    table. CSV files write days as ``YYYY-MM-DD`` and nulls as empty fields; Parquet files
    keep the column types.
    """
    if file_format not in FORMATS:
        raise ConfigError(f"invalid export format {file_format!r}: use one of {', '.join(FORMATS)}")
    root = Path(folder).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in sorted(tables.frames.items()):
        path = root / f"{name}.{file_format}"
        temporary = path.with_name(path.name + ".tmp")
        if file_format == "csv":
            _csv_frame(frame).to_csv(temporary, index=False)
        else:
            frame.to_parquet(temporary, index=False)
        os.replace(temporary, path)
        written.append(path)
    logger.info("exported %d tables to %s as %s", len(written), root, file_format)
    return written


def _csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    result = frame.copy()
    if "day" in result:
        result["day"] = result["day"].dt.strftime("%Y-%m-%d")
    return result
