"""The carried state of a rolling window in column bounds (optimize/carried_state.py): a
model compiled for one state serves another by its bounds alone, and the optimum is the
model's with the state as constants."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from optimize.carried_state import apply_state, equal, same_but_state, state_columns
from optimize.highs import compile_model, make_highs
from optimize.model import build_model
from optimize.problem import Job, PeakCharge
from optimize.solver_options import SolverOptions
from optimize.solving import solve_model
from tests.optimize.small_problems import CURVE, small_problem

ARRAYS = (
    "col_cost",
    "col_lower",
    "col_upper",
    "row_lower",
    "row_upper",
    "a_start",
    "a_index",
    "a_value",
    "integrality",
)


def assert_same_compiled(cm, ref) -> None:
    """Every array of the compiled ``cm`` equals ``ref``'s bit for bit."""
    assert (cm.num_col, cm.num_row, cm.offset) == (ref.num_col, ref.num_row, ref.offset)
    for name in ARRAYS:
        a, b = getattr(cm, name), getattr(ref, name)
        assert (a is None) == (b is None), name
        assert a is None or np.array_equal(a, b), name


def assert_highs_holds(h, ref) -> None:
    """The model in the ``Highs`` ``h`` is the compiled ``ref``, bit for bit."""
    lp = h.getLp()
    assert (lp.num_col_, lp.num_row_, lp.offset_) == (ref.num_col, ref.num_row, ref.offset)
    for name in ("col_cost", "col_lower", "col_upper", "row_lower", "row_upper"):
        assert np.array_equal(getattr(lp, name + "_"), getattr(ref, name)), name
    a = lp.a_matrix_
    assert np.array_equal(a.start_, ref.a_start) and np.array_equal(a.index_, ref.a_index)
    assert np.array_equal(a.value_, ref.a_value)
    assert np.array_equal([int(k) for k in lp.integrality_], ref.integrality)


def state_problem(n=48, init=10.0):
    """48 steps (two 36-step "months" of a demand charge), a battery, a ramp limit, an
    initial net import and one job (a MILP)."""
    job = Job("a", 8.0, 10.0, 2, 40, max_interruptions=1, f_min=0.6, throughput_curve=CURVE)
    p = small_problem(n=n, jobs=(job,), ramp=4.0, demand=300.0)
    return replace(p, grid=replace(p.grid, initial_net_import_mw=init))


def with_state(p, soc_frac, net_import_mw, peaks_mw):
    """``p`` with another carried state: initial SOC fraction, last net import and the
    demand charges' prior peaks (one per charge)."""
    charges = tuple(
        replace(c, prior_peak_mw=x) for c, x in zip(p.grid.peak_charges, peaks_mw, strict=True)
    )
    grid = replace(p.grid, initial_net_import_mw=net_import_mw, peak_charges=charges)
    return replace(p, battery=replace(p.battery, soc_initial_frac=soc_frac), grid=grid)


def _built(p):
    with state_columns():
        m = build_model(p)
        return m, compile_model(m)


def test_a_model_given_another_state_compiles_as_a_fresh_build():
    base = state_problem()
    assert len(base.grid.peak_charges) == 2
    p0 = with_state(base, 0.5, 10.0, (2.0, 3.0))
    # every state moves: one peak down, one up, the SOC and the last net import
    p1 = with_state(base, 0.8, 14.5, (7.25, 0.0))
    m, cm = _built(p0)
    _, ref = _built(p1)
    # the states give different bounds: the fresh build of p1 is another model
    assert not np.array_equal(cm.col_lower, ref.col_lower)
    h = make_highs(cm, SolverOptions(threads=1))
    apply_state(m, cm, p1, h)
    assert_same_compiled(cm, ref)
    assert_highs_holds(h, ref)  # the Highs holding cm has the state of p1 too
    assert m.problem is p1
    # the model's own variables carry the new state too (a later compile reads them)
    assert_same_compiled(compile_model(m), ref)
    # without a Highs, the arrays alone
    m, cm = _built(p0)
    apply_state(m, cm, p1)
    assert_same_compiled(cm, ref)


@pytest.mark.parametrize("jobs", [False, True], ids=["lp", "milp"])
def test_the_optimum_is_the_same_with_the_state_in_columns(jobs):
    # the state moves the optimum: the SOC starts below its final target, the ramp holds
    # the first steps near the last net import, and (without the job) the prior peak is
    # above every step's import
    p = state_problem(n=24, init=14.0)
    if not jobs:
        p = replace(p, jobs=())
    p = with_state(p, 0.2, 14.0, (12.0,))
    options = SolverOptions(threads=1, mip_rel_gap=0.0)
    m_const, res_const, _, _ = solve_model(p, options)
    with state_columns():
        m_cols, res_cols, _, _ = solve_model(p, options)
    # two formulations: the state is a column in one, a constant in the other
    assert hasattr(m_cols, "battery_soc_initial_mwh")
    assert hasattr(m_cols, "grid_initial_net_import_mw")
    assert not hasattr(m_const, "battery_soc_initial_mwh")
    assert not hasattr(m_const, "grid_initial_net_import_mw")
    assert res_const.status == res_cols.status == "optimal"
    assert res_cols.objective == pytest.approx(res_const.objective, rel=1e-6)
    assert m_cols.battery_soc_initial_mwh.value == pytest.approx(0.2 * p.battery.energy_mwh)
    assert m_cols.grid_initial_net_import_mw.value == pytest.approx(14.0)


def test_same_but_state_tells_the_state_from_the_rest():
    base = state_problem()
    p0 = with_state(base, 0.5, 10.0, (2.0, 3.0))
    p1 = with_state(base, 0.8, 14.5, (7.25, 0.0))
    assert same_but_state(p0, p1) and same_but_state(p1, p0)
    # a non-state field: one step's import price, a job's work
    price = p0.grid.import_price_usd_per_mwh.copy()
    price[5] += 1.0
    assert not same_but_state(
        p0, replace(p0, grid=replace(p0.grid, import_price_usd_per_mwh=price))
    )
    job = replace(p0.jobs[0], work_h=p0.jobs[0].work_h + 0.5)
    assert not same_but_state(p0, replace(p0, jobs=(job,)))
    # an initial net import in one only: a ramp row at t = 0 in one model only
    no_init = replace(p1, grid=replace(p1.grid, initial_net_import_mw=None))
    assert not same_but_state(p0, no_init) and not same_but_state(no_init, p0)


def test_a_ratchet_floor_above_one_prior_peak_only_is_structure():
    p = state_problem()
    floored = tuple(replace(c, ratchet_floor_mw=5.0) for c in p.grid.peak_charges)
    p = replace(p, grid=replace(p.grid, peak_charges=floored))
    below = with_state(p, 0.5, 10.0, (3.0, 3.0))  # floor above: a billed-demand column
    above = with_state(p, 0.5, 10.0, (6.0, 3.0))  # floor below: none for the first charge
    also_below = with_state(p, 0.8, 12.0, (4.0, 1.0))
    assert same_but_state(below, also_below)
    assert not same_but_state(below, above) and not same_but_state(above, below)


def test_equal_compares_problem_data_deeply():
    nan = np.array([1.0, np.nan, 3.0])
    assert equal(nan, nan.copy())
    assert equal(float("nan"), float("nan"))
    assert not equal(nan, np.array([1.0, 2.0, 3.0]))
    assert not equal(np.array([1, 2]), np.array([1.0, 2.0]))  # int against float
    assert not equal(np.array([1.0, 2.0]), np.array([1.0, 2.0], dtype=np.float32))
    assert not equal(np.zeros(2), np.zeros(3))
    charge = PeakCharge("m0", "demand_flat", 10.0, np.array([True, False]))
    assert equal(charge, replace(charge))
    assert not equal(charge, replace(charge, steps=np.array([True, True])))
    assert equal({"a": (1, nan)}, {"a": (1, nan.copy())})
    assert not equal({"a": 1}, {"b": 1})
