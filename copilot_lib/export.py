"""Write every table to a folder as CSV or Parquet files, one file per table."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pandas as pd

from copilot_lib.errors import ConfigError, ExportError
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
    try:
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ExportError(f"cannot export to {root}: it is a file, not a folder; choose a folder for --out") from None
    except OSError as exc:
        raise ExportError(
            f"cannot create the export folder {root}: {exc.strerror}; choose a folder you can write to"
        ) from exc
    written = []
    for name, frame in sorted(tables.frames.items()):
        path = root / f"{name}.{file_format}"
        temporary = path.with_name(path.name + ".tmp")
        try:
            if file_format == "csv":
                _csv_frame(frame).to_csv(temporary, index=False)
            else:
                frame.to_parquet(temporary, index=False)
            os.replace(temporary, path)
        except OSError as exc:
            raise ExportError(f"cannot write {path}: {exc.strerror}; choose a folder you can write to") from exc
        written.append(path)
    logger.info("exported %d tables to %s as %s", len(written), root, file_format)
    return written


def _csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    result = frame.copy()
    if "day" in result:
        result["day"] = result["day"].dt.strftime("%Y-%m-%d")
    return result
