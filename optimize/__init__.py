"""Dispatch optimisation of a data-center microgrid (Pyomo model, HiGHS solver).

Plain numpy arrays and dataclasses in (``optimize.problem``), a ``Dispatch`` out.

The problem's dataclasses and the errors load at once; the names that need Pyomo or HiGHS
(about a second to import) load on first use (PEP 562), so building and checking a
``Problem`` (what ``microgrid validate`` does) does not wait for the solver stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from optimize.errors import Infeasible, NumericRangeError, Slack, SolveError
from optimize.problem import (
    AssetSize,
    Battery,
    DemandResponseEvent,
    DemandResponseProgram,
    EnergyTiers,
    Facility,
    Generator,
    Grid,
    Job,
    Objective,
    PeakCharge,
    Problem,
    Renewable,
    Sizing,
)
from optimize.solver_options import SolverOptions

if TYPE_CHECKING:
    from optimize.highs import solver_log_to_console
    from optimize.model import build_model
    from optimize.progress import solve_progress
    from optimize.results import Dispatch, job_patterns
    from optimize.rolling import solve_rolling
    from optimize.solving import solve

# public name -> the module that defines it, imported on first use
_LAZY = {
    "Dispatch": "optimize.results",
    "build_model": "optimize.model",
    "job_patterns": "optimize.results",
    "solve": "optimize.solving",
    "solve_rolling": "optimize.rolling",
    "solve_progress": "optimize.progress",
    "solver_log_to_console": "optimize.highs",
}

__all__ = [
    "AssetSize",
    "Battery",
    "DemandResponseEvent",
    "DemandResponseProgram",
    "Dispatch",
    "EnergyTiers",
    "Facility",
    "Generator",
    "Grid",
    "Infeasible",
    "Job",
    "NumericRangeError",
    "Objective",
    "PeakCharge",
    "Problem",
    "Renewable",
    "Sizing",
    "Slack",
    "SolveError",
    "SolverOptions",
    "build_model",
    "job_patterns",
    "solve",
    "solve_progress",
    "solve_rolling",
    "solver_log_to_console",
]


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'optimize' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # later look-ups do not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
