"""Hand Arrow tables from worker processes to the parent through Arrow IPC files.

Pickling a table through the worker pool's pipe copies it three times (into the pickle,
through the pipe, out of the pickle). An uncompressed IPC file is written with one copy,
and the parent memory-maps it, so its tables use the file's pages without copying them.
The files go to ``/dev/shm`` (memory-backed on Linux) when it has room, else to the
system's temporary folder.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile

import pyarrow as pa
import pyarrow.ipc as pa_ipc

logger = logging.getLogger(__name__)

# Only used as the parent of a private folder made by tempfile (mode 0700, random name).
SHARED_MEMORY = "/dev/shm"  # noqa: S108


def temporary_folder(expected_bytes: int) -> tempfile.TemporaryDirectory[str]:
    """Create a folder for about ``expected_bytes`` of IPC files, which the caller removes.

    ``/dev/shm`` is used only when its free space is at least twice ``expected_bytes``,
    because it can be small: Docker mounts it with 64 MB by default. The workers' tables
    took about a quarter of the NDJSON's size in the benchmark.
    """
    base = None
    try:
        if shutil.disk_usage(SHARED_MEMORY).free >= 2 * expected_bytes:
            base = SHARED_MEMORY
    except OSError:
        pass
    if base is None:
        logger.debug("%s is missing or small: writing worker tables to %s", SHARED_MEMORY, tempfile.gettempdir())
    return tempfile.TemporaryDirectory(prefix="copilot-ingest-", dir=base)


def write_table(table: pa.Table, folder: str) -> str:
    """Write ``table`` to a new IPC file in ``folder`` and return the file's path.

    Raises OSError when the file cannot be written, after deleting what was written of it.
    """
    handle, path = tempfile.mkstemp(suffix=".arrow", dir=folder)
    os.close(handle)
    # An IPC file has one dictionary per column, so chunks encoded apart share theirs first.
    table = table.unify_dictionaries()
    try:
        with pa.OSFile(path, "wb") as sink, pa_ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    except OSError:
        os.unlink(path)
        raise
    return path


def read_table(path: str) -> pa.Table:
    """Memory-map the IPC file at ``path``, delete the file and return its table.

    The mapping keeps the pages readable after the file is deleted, and the system frees
    them once the last table that uses them is gone.
    """
    with pa.memory_map(path) as source:
        table = pa_ipc.open_file(source).read_all()
    os.unlink(path)
    return table
