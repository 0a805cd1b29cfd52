"""What a case's record was made with, beyond its scenario: the content of every data file
the case reads (the options of the case function: `worker.runner_options`). A resumed
sweep re-runs a case whose record was made with other data or options
(`runner._cases_to_run`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from microgrid.datafiles import file_sha256
from microgrid.resultdir import scenario_data_files


def case_inputs(scenario: Any, cache: dict[Path, str]) -> dict[str, str]:
    """Path -> SHA-256 of each data file the case's scenario names (`cache`: by path, so
    that the files many cases share are read once per sweep run)."""
    out = {}
    for p in scenario_data_files(scenario):
        if p not in cache:
            cache[p] = file_sha256(p)
        out[str(p)] = cache[p]
    return out
