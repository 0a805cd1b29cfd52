"""``build_model(problem)``: the Pyomo model, one ``define_*`` call per asset family.

Layout (names are the Pyomo component names):
- ``m.T``: steps ``0 .. n_steps-1`` (a ``RangeSet``); every time-indexed component uses it.
- ``m.step_h`` (float), ``m.problem`` (the ``Problem``), ``m.elastic`` (bool) are plain
  attributes, ``m.bus_injections`` the list of ``(sign, [var_t])`` summed by the balance,
  ``m.elastic_slacks`` the registered slacks (see ``optimize.elastic``).
- Jobs hook: when ``problem.jobs`` is non-empty, ``optimize.jobs.define_jobs(m, jobs, step_h)``
  (with ``elastic=True`` for the diagnosis) must create ``m.jobs_it_mw`` (an ``Expression``
  over ``m.T``, IT MW of all jobs) and return its objective terms (USD). It can read the
  unfinished-work penalty from ``m.problem.objective``. Without jobs the job IT load is 0.
- Demand response: with ``problem.dr_program``, ``optimize.dr_program.define_dr_program``
  (after the grid: it reads ``m.grid_import_mw``/``m.grid_export_mw``) adds ``m.dr_commit_mw``.
- Sizing: with ``problem.sizing``, ``optimize.sizing.define_sizing`` (before the assets)
  adds ``m.SIZED``, ``m.size_added`` and ``m.size``; each sized asset's module ties its
  variables to its size (``optimize.sizing.capacity``).
"""

from __future__ import annotations

import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from optimize.balance import define_power_balance
from optimize.battery import define_battery
from optimize.ctrl_c import quiet_pyomo_interrupts
from optimize.dr_program import define_dr_program
from optimize.facility import define_facility_load
from optimize.generators import define_generators
from optimize.grid import define_grid
from optimize.jobs import define_jobs
from optimize.network_cuts import define_network_cuts
from optimize.objective import define_objective
from optimize.problem import Problem
from optimize.renewables import define_renewables
from optimize.sizing import define_sizing


def build_model(problem: Problem, elastic: bool = False) -> pyo.ConcreteModel:
    """Build the dispatch model; with ``elastic=True`` the hard limits get slacks.

    The cyclic garbage collector is paused while the model is built: the build allocates
    some 10^5 small expression objects per year and no cycles worth collecting, and the
    collector's passes over them took most of the build time (measured ~4x). A Ctrl-C
    during the build is raised without Pyomo's log of it (``optimize.ctrl_c``).
    """
    quiet_pyomo_interrupts()
    with PauseGC():
        return _build_model(problem, elastic)


def _build_model(problem: Problem, elastic: bool) -> pyo.ConcreteModel:
    m = pyo.ConcreteModel(name="dispatch")
    m.T = pyo.RangeSet(0, problem.n_steps - 1)
    m.step_h = float(problem.step_h)
    m.problem = problem
    m.elastic = elastic
    m.bus_injections = []
    m.elastic_slacks = []
    step_h = m.step_h

    terms = define_sizing(m, problem)  # first: the assets' rows read m.size_added
    terms += define_grid(m, problem.grid, step_h, elastic=elastic)
    m.bus_injections.append((1.0, list(m.grid_import_mw.values())))
    m.bus_injections.append((-1.0, list(m.grid_export_mw.values())))
    if problem.dr_program is not None:
        terms += define_dr_program(m, problem.dr_program, step_h, elastic)
    terms += define_renewables(m, problem.renewables)
    if problem.battery is not None:
        terms += define_battery(m, problem.battery, step_h, elastic=elastic)
    if problem.generators:
        terms += define_generators(m, problem.generators, step_h)
    jobs_it = None
    if problem.jobs:
        if elastic:
            terms += define_jobs(m, problem.jobs, step_h, elastic=True)
        else:
            terms += define_jobs(m, problem.jobs, step_h)
        jobs_it = m.jobs_it_mw
    load = define_facility_load(m, problem.facility, jobs_it, problem.jobs, elastic)
    define_power_balance(m, load)
    terms += define_network_cuts(
        m,
        problem.network_cuts,
        load,
        elastic=elastic,
        penalty_usd_per_pct=problem.network_cut_penalty_usd_per_pct,
    )
    define_objective(m, problem, terms, elastic=elastic)
    return m
