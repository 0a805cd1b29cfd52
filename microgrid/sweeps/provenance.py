"""What a case's record was made with, beyond its scenario: the content of every data file
the case reads (the options of the case function: `worker.runner_options`). A resumed
sweep re-runs a case whose record was made with other data or options
(`runner._cases_to_run`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from microgrid.datafiles import MAX_DATA_FILE_BYTES, file_problem
from microgrid.resultdir import scenario_data_files

_CHUNK_BYTES = 1 << 20


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes; `missing` or `unreadable` when it cannot be read as a
    data file (a device or pipe, a file over the data-file cap: reading it whole hung the
    sweep on /dev/zero), so that the case fails when it runs, naming why, and runs again
    once the file is right."""
    if not path.exists():
        return "missing"
    if file_problem(path, MAX_DATA_FILE_BYTES) is not None:
        return "unreadable"
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK_BYTES):
                h.update(chunk)
    except FileNotFoundError:
        return "missing"
    except OSError:
        return "unreadable"
    return h.hexdigest()


def case_inputs(scenario: Any, cache: dict[Path, str]) -> dict[str, str]:
    """Path -> SHA-256 of each data file the case's scenario names (`cache`: by path, so
    that the files many cases share are read once per sweep run)."""
    out = {}
    for p in scenario_data_files(scenario):
        if p not in cache:
            cache[p] = file_sha256(p)
        out[str(p)] = cache[p]
    return out
