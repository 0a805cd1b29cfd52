"""Dispatch optimisation of a data-center microgrid (Pyomo model, HiGHS solver).

Plain numpy arrays and dataclasses in (``optimize.problem``), a ``Dispatch`` out.
"""

from optimize.diagnosis import Infeasible, Slack
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
from optimize.results import Dispatch
from optimize.solve import SolveError, solve

__all__ = [
    "Battery",
    "Dispatch",
    "Facility",
    "Generator",
    "Grid",
    "Infeasible",
    "Job",
    "Objective",
    "Problem",
    "Renewable",
    "Slack",
    "SolveError",
    "SolverOptions",
    "build_model",
    "solve",
]
