"""Parameter sweeps: many scenario variants on a local process pool or a Dask cluster.

The names load on first use (PEP 562), like `microgrid`'s: the CLI registers the `sweep`
sub-commands without importing the runner's solver and Dask stacks.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from microgrid.sweeps.report import sweep_report
    from microgrid.sweeps.runner import CasesNotRun, sweep
    from microgrid.sweeps.spec import Case, SweepSpec, load_spec

_LAZY = {
    "sweep": "microgrid.sweeps.runner",
    "CasesNotRun": "microgrid.sweeps.runner",
    "sweep_report": "microgrid.sweeps.report",
    "Case": "microgrid.sweeps.spec",
    "SweepSpec": "microgrid.sweeps.spec",
    "load_spec": "microgrid.sweeps.spec",
}

__all__ = ["Case", "CasesNotRun", "SweepSpec", "load_spec", "sweep", "sweep_report"]


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
