"""At a tight gap HiGHS's MILP stops at its first incumbent cheaper than the start and runs
again from it with a cutoff at its target (``optimize.cutoff_restart``); the bound it
reports stays a lower bound of the optimum.

Case: the covering MIP of ``test_gap_stop`` (optimum 172 USD), started from a dear schedule
(5,260 USD), with HiGHS's presolve off so that it branches.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from optimize import cutoff_restart, milp_from_start
from optimize.highs import HighsResult, StopAtGap, gap_basis_usd, run_highs
from optimize.solver_options import SolverOptions
from optimize.solving import solve_model
from tests.optimize.small_problems import InterruptEvent, random_day
from tests.optimize.test_gap_stop import _start

OPTIMUM_USD = 172.0


def _runs_recorded(monkeypatch) -> list[float]:
    """The ``objective_bound`` of each HiGHS run of the MILP after the start."""
    cutoffs = []

    def recorded(h, *args, **kwargs):
        cutoffs.append(float(h.getOptionValue("objective_bound")[1]))
        return run_highs(h, *args, **kwargs)

    monkeypatch.setattr(milp_from_start, "run_highs", recorded)
    monkeypatch.setattr(cutoff_restart, "run_highs", recorded)
    return cutoffs


def _milp_after_start(rel_gap: float, time_limit_s=None):
    h, cm, pf, basis = _start(rel_gap)
    options = SolverOptions(mip_rel_gap=rel_gap, threads=1, time_limit_s=time_limit_s)
    res, values = milp_from_start.milp_after_start(h, cm, options, pf, basis)
    cols = np.asarray(values if values is not None else h.getSolution().col_value)
    return h, cm, res, cols


def test_a_tight_gap_runs_again_from_the_first_cheaper_incumbent_with_a_cutoff(monkeypatch):
    monkeypatch.setattr(cutoff_restart, "NEAR_GAPS", 1e6)  # any cheaper incumbent stops
    cutoffs = _runs_recorded(monkeypatch)
    h, cm, res, cols = _milp_after_start(0.002, time_limit_s=100.0)
    assert cutoffs[0] == math.inf  # the first run as before: no cutoff
    assert len(cutoffs) >= 2 and all(c < 5260.0 for c in cutoffs[1:])
    assert cutoffs[1:] == sorted(cutoffs[1:], reverse=True)  # each from a cheaper incumbent
    assert res.status == "optimal" and res.objective == OPTIMUM_USD
    assert float(cm.col_cost @ cols) == OPTIMUM_USD
    assert res.bound <= OPTIMUM_USD and res.mip_gap <= 0.002
    assert res.gap_basis == gap_basis_usd(cm, cols, res.objective)
    # HiGHS's options as before the MILP
    assert h.getOptionValue("objective_bound")[1] == math.inf
    assert h.getOptionValue("time_limit")[1] == 100.0
    assert h.getOptionValue("mip_abs_gap")[1] == 1e-6


def test_a_cheaper_incumbent_far_from_the_bound_does_not_stop_the_run(monkeypatch):
    """The cover's incumbents lie more than three times 0.2 % above HiGHS's bound until
    the last: the run goes on to the optimum as it did before the cutoffs."""
    cutoffs = _runs_recorded(monkeypatch)
    _, _, res, _ = _milp_after_start(0.002)
    assert cutoffs == [math.inf]
    assert res.status == "optimal" and res.objective == OPTIMUM_USD


def test_the_stop_below_a_cost_waits_for_an_incumbent_near_the_bound():
    h, cm, _, _ = _start(0.002)
    stop = StopAtGap(cm, 160.0, 0.002, below_usd=200.0, below_within=0.006)
    assert not stop.below_stop(210.0, 210.0, 209.9)  # not cheaper than 200
    assert not stop.below_stop(190.0, 190.0, 180.0)  # 5.3 % above the bound
    assert stop.below_stop(190.0, 190.0, 189.0)  # 0.53 %
    stop.bound_usd = 189.5  # a bound found before counts where it is the higher
    assert stop.below_stop(190.0, 190.0, 150.0)
    assert not StopAtGap(cm, None, 0.002, below_usd=200.0, below_within=0.006).below_stop(
        190.0, 190.0, None
    )
    assert StopAtGap(cm, None, 0.002, below_usd=200.0).below_stop(190.0, 190.0, None)


def test_the_stop_below_a_cost_looks_at_each_incumbent_once():
    """An incumbent far from the bound when HiGHS finds it does not stop the run later,
    when the bound has risen under it (that rise is the run's own tree, which a new run
    would lose); the next incumbent found near the bound does."""
    _, cm, _, _ = _start(0.002)
    stop = StopAtGap(cm, None, 0.002, below_usd=200.0, below_within=0.006)
    stop.mark(190.0, 190.0)
    first, later = InterruptEvent(0.1, 180.0), InterruptEvent(0.2, 189.9)
    stop.interrupt(first)
    stop.interrupt(later)
    assert not first.flag and not later.flag
    stop.mark(189.5, 189.5)
    near = InterruptEvent(0.3, 189.0)
    stop.interrupt(near)
    assert near.flag and stop.dual_bound_at_below_stop == 189.0


def test_at_one_percent_the_milp_runs_without_a_cutoff(monkeypatch):
    cutoffs = _runs_recorded(monkeypatch)
    _, _, res, _ = _milp_after_start(0.01)
    assert cutoffs and all(c == math.inf for c in cutoffs)
    assert res.status == "optimal" and res.mip_gap <= 0.01


def _optimal_schedule():
    h, cm, _, _ = _start(0.0)
    h.run()
    return h, cm, np.asarray(h.getSolution().col_value)


def _stopped_at(objective: float, bound: float, basis: float) -> HighsResult:
    first = HighsResult(milp_from_start.STOPPED_CHEAPER, objective, 0.0, True, 0.5, bound)
    first.gap_basis = basis
    return first


def test_a_run_with_a_cutoff_reports_its_target_not_higher(monkeypatch):
    """From the optimum no schedule lies below the target: HiGHS empties its tree and
    reports its incumbent as its dual bound; the answer's bound is the target, which is
    below the optimum, not that incumbent."""
    cutoffs = _runs_recorded(monkeypatch)
    h, cm, x = _optimal_schedule()
    first = _stopped_at(OPTIMUM_USD, 100.0, OPTIMUM_USD)
    shared = cutoff_restart.SharedTime(math.inf)
    res, cols = cutoff_restart.runs_with_cutoff(h, cm, 0.002, first, x, shared)
    target = OPTIMUM_USD - (1 - cutoff_restart.TARGET_SLACK) * 0.002 * OPTIMUM_USD
    assert cutoffs == [target]
    assert (res.status, res.objective, res.bound) == ("optimal", OPTIMUM_USD, target)
    assert res.mip_gap <= 0.002 and np.array_equal(cols, x)
    assert res.solve_s == shared.spent_s > 0.5  # the first run's 0.5 s and this one's


def test_a_bound_before_that_proves_the_incumbent_runs_nothing(monkeypatch):
    cutoffs = _runs_recorded(monkeypatch)
    h, cm, x = _optimal_schedule()
    first = _stopped_at(OPTIMUM_USD, 171.9, OPTIMUM_USD)
    res, _ = cutoff_restart.runs_with_cutoff(
        h, cm, 0.002, first, x, cutoff_restart.SharedTime(math.inf)
    )
    assert cutoffs == [] and (res.status, res.bound) == ("optimal", 171.9)


def test_no_time_left_answers_the_first_runs_incumbent_at_the_time_limit(monkeypatch):
    cutoffs = _runs_recorded(monkeypatch)
    h, cm, x = _optimal_schedule()
    first = _stopped_at(OPTIMUM_USD, 150.0, OPTIMUM_USD)
    res, cols = cutoff_restart.runs_with_cutoff(
        h, cm, 0.002, first, x, cutoff_restart.SharedTime(0.4)
    )
    assert cutoffs == []
    assert (res.status, res.objective, res.bound) == ("time_limit", OPTIMUM_USD, 150.0)
    assert np.array_equal(cols, x)


@pytest.mark.parametrize(
    ("seed", "demand", "threads", "near_gaps"),
    [
        (11, 1500.0, 2, cutoff_restart.NEAR_GAPS),  # the rule as it is
        (4, 1500.0, 1, 1e6),  # any cheaper incumbent stops the first run
        (9, 300.0, 1, 1e6),
        (9, 1500.0, 2, 1e6),
        (11, 1500.0, 1, 1e6),
    ],
)
def test_answers_at_a_tight_gap_lie_within_it_of_the_optimum(
    seed, demand, threads, near_gaps, monkeypatch
):
    """Small random days solved at 0.1 % through the runs with a cutoff (these cases
    reach them; with two threads beside the last probe): the bound is at most the optimum
    plain HiGHS proves, the answer within 0.1 % of it."""
    monkeypatch.setattr(cutoff_restart, "NEAR_GAPS", near_gaps)
    reached = []
    runs = cutoff_restart.runs_with_cutoff

    def counted(*args, **kwargs):
        reached.append(1)
        return runs(*args, **kwargs)

    monkeypatch.setattr(cutoff_restart, "runs_with_cutoff", counted)
    problem = random_day(seed, demand=demand)
    _, ref, _, _ = solve_model(problem, SolverOptions(mip_rel_gap=0.0, price_fix_start=False))
    _, res, _, _ = solve_model(problem, SolverOptions(mip_rel_gap=0.001, threads=threads))
    assert reached and ref.status == "optimal" and res.status == "optimal"
    tol = 1e-6 * abs(ref.objective)
    assert res.bound <= ref.objective + tol
    assert res.objective - ref.objective <= 0.001 * res.gap_basis + tol
    assert res.mip_gap == pytest.approx((res.objective - res.bound) / res.gap_basis)
