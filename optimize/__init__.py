"""Dispatch optimisation of a data-center microgrid (Pyomo model, HiGHS solver).

Plain numpy arrays and dataclasses in (``optimize.problem``), a ``Dispatch`` out.
"""

from optimize.errors import Infeasible, NumericRangeError, Slack, SolveError
from optimize.highs import solver_log_to_console
from optimize.model import build_model
from optimize.problem import (
    Battery,
    Facility,
    Generator,
    Grid,
    Job,
    Objective,
    Problem,
    Renewable,
    SolverOptions,
)
from optimize.progress import solve_progress
from optimize.results import Dispatch
from optimize.solve import solve

__all__ = [
    "Battery",
    "Dispatch",
    "Facility",
    "Generator",
    "Grid",
    "Infeasible",
    "Job",
    "NumericRangeError",
    "Objective",
    "Problem",
    "Renewable",
    "Slack",
    "SolveError",
    "SolverOptions",
    "build_model",
    "solve",
    "solve_progress",
    "solver_log_to_console",
]
