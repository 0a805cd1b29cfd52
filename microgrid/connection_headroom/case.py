"""A scenario's headroom cases: the campus's per-step shape and, optionally, its on-site
supply, as ``optimize.headroom.HeadroomCase`` (plain arrays, no time stamps).

The shape comes from the scenario's own inputs (``microgrid.assemble``): PUE per step, the
inference share of IT (``inference_it_mw[t] / datacenter.it_capacity_mw``, never
curtailed), and the connection's availability (0 in outages, 1 elsewhere: the scenario's
derates apply to PV, wind and the battery, not to the grid). "On site" adds the
scenario's PV and wind (as sized in the scenario, derates applied), its battery, and, per
``backup``, its generators.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import optimize
from microgrid.assemble import build_problem, load_inputs
from microgrid.scenario import Scenario
from optimize.headroom import HeadroomCase

# Where backup generators may serve the campus: "none" (backup is for outages of the
# campus's own supply, not for carrying load the connection cannot: the default),
# "outages" (only while the grid is out), "always".
BACKUP_MODES = ("none", "outages", "always")


@dataclass(frozen=True)
class ScenarioCases:
    """The two cases of a scenario, and the sizes it names."""

    connection_mw: float  # grid.import_max_mw
    campus_it_mw: float  # datacenter.it_capacity_mw
    grid_only: HeadroomCase  # nothing on site
    onsite: HeadroomCase  # with the scenario's PV, wind, battery (and backup per mode)
    has_onsite: bool  # False: both cases are the same
    step_h: float
    n_steps: int
    outage_steps: int


def scenario_cases(scenario: Scenario, backup: str = "none") -> ScenarioCases:
    """Both headroom cases of ``scenario`` (see the module docstring)."""
    if backup not in BACKUP_MODES:
        raise ValueError(f"backup must be one of {BACKUP_MODES}, got {backup!r}")
    inputs = load_inputs(scenario)
    problem = build_problem(scenario, inputs)
    outage = inputs.frame["outage"].to_numpy(dtype=bool)
    grid_only = _grid_only_case(scenario, problem, outage)
    renewable_mw = _renewable_mw(problem)
    backup_mw = _backup_mw(problem, outage, backup)
    onsite = HeadroomCase(
        step_h=grid_only.step_h,
        pue=grid_only.pue,
        inference_frac=grid_only.inference_frac,
        connection_avail_frac=grid_only.connection_avail_frac,
        renewable_mw=renewable_mw,
        battery=problem.battery,
        backup_mw=backup_mw,
    )
    has = renewable_mw is not None or problem.battery is not None or backup_mw is not None
    return ScenarioCases(
        connection_mw=float(scenario.grid.import_max_mw),
        campus_it_mw=float(scenario.datacenter.it_capacity_mw),
        grid_only=grid_only,
        onsite=onsite if has else grid_only,
        has_onsite=has,
        step_h=float(scenario.step_h),
        n_steps=problem.n_steps,
        outage_steps=int(outage.sum()),
    )


def _grid_only_case(
    scenario: Scenario, problem: optimize.Problem, outage: np.ndarray
) -> HeadroomCase:
    capacity = float(scenario.datacenter.it_capacity_mw)
    inference = problem.facility.inference_it_mw
    share = np.clip(inference / capacity, 0.0, 1.0) if capacity > 0 else np.zeros_like(inference)
    return HeadroomCase(
        step_h=float(problem.step_h),
        pue=problem.facility.pue,
        inference_frac=share,
        connection_avail_frac=np.where(outage, 0.0, 1.0),
    )


def _renewable_mw(problem: optimize.Problem) -> np.ndarray | None:
    """PV plus wind available MW per step (derates applied), or None without either."""
    if not problem.renewables:
        return None
    return np.sum([r.available_mw for r in problem.renewables], axis=0)


def _backup_mw(problem: optimize.Problem, outage: np.ndarray, backup: str) -> np.ndarray | None:
    """Generator MW that may serve the campus per step, or None (``backup="none"``)."""
    if backup == "none" or not problem.generators:
        return None
    n = problem.n_steps
    total = np.zeros(n)
    for g in problem.generators:
        avail = np.ones(n) if g.available_frac is None else g.available_frac
        total += g.capacity_mw * avail
    return np.where(outage, total, 0.0) if backup == "outages" else total
