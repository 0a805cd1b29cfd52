"""Peak floors (optimize/peak_floor.py): never above a schedule's peak, tight where they can
be, and absent where they would not hold."""

from __future__ import annotations

from dataclasses import replace

import highspy
import numpy as np
import pyomo.environ as pyo
import pytest

from benchmarks.random_cases import random_case
from optimize.highs import compile_model, new_highs, pass_model, set_integrality
from optimize.model import build_model
from optimize.peak_floor import _block_fits, _runs_fit, peak_floors_mw, raise_violated_floors
from optimize.problem import Job, PeakCharge, Sizing
from optimize.solver_options import SolverOptions
from optimize.solving import solve_model
from tests.optimize.small_problems import small_problem


def _floor(m) -> float:
    (floor,) = peak_floors_mw(m).values()
    return floor


def _solved(m, objective=None, relax: bool = False):
    """``m`` (its objective, or ``objective`` instead) solved by HiGHS to 1e-9: the
    ``Highs``, the compiled model and the objective's value."""
    if objective is not None:
        for o in m.component_objects(pyo.Objective):
            o.deactivate()
        m.other_objective = pyo.Objective(expr=objective)
    cm = compile_model(m)
    h = new_highs(False, 1)
    pass_model(h, cm)
    if relax:
        set_integrality(h, cm.integer_columns(), False)
    h.setOptionValue("mip_rel_gap", 1e-9)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return h, cm, h.getInfo().objective_function_value + cm.offset


# seeds of benchmarks/random_cases.py: 0 and 3 with a battery (0 has a preemptible job
# with no restart allowed, in one block: the battery recharges between its steps), 1 and 2
# without (there a job's floor is its least peak alone)
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_each_jobs_floor_is_at_most_the_least_peak_of_the_job_alone(seed):
    p = random_case(seed)
    if not p.grid.peak_charges:
        whole = PeakCharge("d", "d", 1000.0, np.ones(p.n_steps, dtype=bool))
        p = replace(p, grid=replace(p.grid, peak_charges=(whole,)))
    checked = 0
    for job in p.jobs:
        m = build_model(replace(p, jobs=(job,)))
        if not peak_floors_mw(m):
            continue
        floor = _floor(m)
        least = _solved(m, next(iter(m.grid_peak_import_mw.values())))[2]
        assert floor <= least + 1e-6, job
        if p.battery is None and p.grid.ramp_mw_per_h is None:
            assert floor == pytest.approx(least, abs=1e-4), job
        checked += 1
    assert checked >= 3


def _floored_problem():
    # 24 h of the wave site with no battery and a large demand charge: a 6 MW job at f_min
    # 0.8 (5.76 MW of import at PUE 1.2) that must run 12 h, and a small one-block job;
    # at night the inference alone imports 6 MW
    jobs = (
        Job("big", 6.0, 12.0, 0, 24, preemptible=True, max_interruptions=2, f_min=0.8),
        Job("small", 2.0, 4.0, 0, 24, preemptible=False, f_min=0.8),
    )
    return small_problem(24, jobs, demand=6000.0, battery=False)


def test_a_violated_floor_lifts_the_lp_and_leaves_the_milp_optimum_as_it_was():
    m = build_model(_floored_problem())
    floor = _floor(m)
    milp = _solved(m)[2]
    h, cm, lp = _solved(m, relax=True)
    values = np.asarray(h.getSolution().col_value)
    assert raise_violated_floors(h, cm, m, values)  # the LP runs the big job in fractions
    h.run()
    lifted = h.getInfo().objective_function_value + cm.offset
    assert lp + 100.0 < lifted <= milp + 1e-6
    assert m.grid_peak_import_mw["demand_flat@m0"].lb == pytest.approx(floor, abs=1e-6)
    assert _solved(m)[2] == pytest.approx(milp, rel=1e-9)  # the floor raised in m
    assert not raise_violated_floors(h, cm, m, np.asarray(h.getSolution().col_value))


def test_the_default_solve_with_floors_gives_the_plain_milps_answer():
    p = _floored_problem()
    plain = SolverOptions(mip_rel_gap=1e-9, price_fix_start=False, node_limit=None)
    _, ref, _, _ = solve_model(p, plain)
    _, res, _, _ = solve_model(p, SolverOptions(mip_rel_gap=1e-6))
    assert res.objective == pytest.approx(ref.objective, rel=1e-6)
    assert res.bound <= ref.objective + 1e-6


@pytest.mark.parametrize("change", ["elastic", "penalty", "sizing"])
def test_no_floor_where_it_would_not_hold(change):
    p = _floored_problem()
    assert peak_floors_mw(build_model(p))
    if change == "elastic":
        m = build_model(p, elastic=True)
    elif change == "penalty":
        objective = replace(p.objective, unfinished_work_penalty_usd_per_h=1e3)
        m = build_model(replace(p, objective=objective))
    else:
        m = build_model(replace(p, sizing=Sizing(())))
    h, cm, _ = _solved(m, relax=True)
    assert not raise_violated_floors(h, cm, m, np.zeros(cm.num_col))


def test_a_block_may_run_on_through_a_step_where_the_battery_recharges():
    # from step 0 the shortest block that does 2 h takes 4 MWh from the battery, more than
    # its 1.5 MWh; running on through step 2, where it recharges 3 MWh, needs only 1 MWh
    open_ = np.array([True, True, True])
    work_h = np.array([1.0, 1.0, 0.1])
    used = np.array([2.0, 2.0, -3.0])
    assert _block_fits(open_, work_h, used, 2.0, 1.5)
    assert not _block_fits(open_, work_h, used, 2.0, 0.5)
    assert not _block_fits(np.array([True, True, False]), work_h, used, 2.0, 1.5)


def test_runs_with_restarts_pay_the_overhead():
    j = Job("j", 1.0, 8.0, 0, 10, preemptible=True, restart_overhead_h=0.0)
    runs = np.array([2.0, 5.0, 3.0])
    assert not _runs_fit(j, 0, runs, 8.0)
    assert _runs_fit(j, 1, runs, 8.0)
    slow = replace(j, restart_overhead_h=1.0)
    assert not _runs_fit(slow, 1, runs, 8.0)
    assert _runs_fit(slow, 2, runs, 8.0)
    assert _runs_fit(slow, None, runs, 8.0)
    assert not _runs_fit(slow, None, runs, 8.5)
