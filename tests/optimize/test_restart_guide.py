"""The restart guide of rolling windows (optimize/restart_guide.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import optimize.restart_guide as guide_module
from optimize.job_dp import interruptions_before
from optimize.problem import Job
from optimize.restart_guide import _blocks, guided_interruptions
from optimize.rolling import solve_rolling
from optimize.solver_options import SolverOptions
from optimize.solving import solve
from tests.optimize.small_problems import grid_problem

# the interruptions alone: the handover guide (optimize.window_guide) would see the spike
# as well and leave the work for after it
OPTS = SolverOptions(mip_rel_gap=1e-6, window_handover="fixed")
N = 72
BUMP = range(6, 9)  # a small price rise a first window sees
SPIKE = range(30, 34)  # a spike the first window does not see


def bump_and_spike(work_h: float = 40.0, max_interruptions: int = 1):
    """72 h at 20 USD/MWh with 50 in hours 6-8 and 2,000 in hours 30-33, 1 MW of fixed
    load, and one 10 MW preemptible job due at the end with one interruption."""
    price = np.full(N, 20.0)
    price[list(BUMP)] = 50.0
    price[list(SPIKE)] = 2000.0
    p = grid_problem(np.ones(N), price)
    job = Job("train", 10.0, work_h, 0, N, max_interruptions=max_interruptions)
    return replace(p, jobs=(job,)), job


@pytest.mark.parametrize(
    ("on", "k", "running", "spent"),
    [
        ([1, 1, 0, 0, 1, 1], 3, False, 1),  # the stop at 2 is inside, its restart after
        ([1, 1, 0, 0, 1, 1], 2, False, 0),  # the stop is at the window's first step after
        ([0, 0, 1, 1, 0, 0], 3, False, 0),  # the job's last stop: no interruption
        ([0, 0, 1, 1, 0, 1], 6, True, 2),  # running before: the stops at 0 and 4
        ([0, 0, 0, 1, 1, 1], 3, False, 0),  # first start after the window: free
        ([1, 0, 1, 0, 1, 0], 6, False, 2),
    ],
)
def test_spent_before_counts_stops_a_later_start_follows(on, k, running, spent):
    assert interruptions_before(np.array(on, dtype=bool), k, running) == spent


def test_a_window_keeps_the_interruption_for_the_spike_after_it():
    p, job = bump_and_spike()
    # the job's cheapest pattern stops for the spike (steps 30-33), not for the bump
    assert guided_interruptions(p, job, (0, 24, 24), job.work_h, 1, False) == 0
    assert guided_interruptions(p, job, (24, 48, 48), 24.0, 1, True) == 1
    # due inside the window: the window holds its whole span and keeps the budget
    assert guided_interruptions(p, job, (0, N, N), job.work_h, 1, False) == 1
    # released in the look-ahead, at or after the commit end: the next window guides it
    late = replace(job, release_step=12)
    assert guided_interruptions(p, late, (0, 12, 24), job.work_h, 1, False) == 1
    assert guided_interruptions(p, late, (0, 13, 24), job.work_h, 1, False) == 0


def test_a_window_keeps_the_budget_the_pattern_does_not_need_later():
    # flat prices: the cheapest pattern needs no interruption, and the window may use
    # both of the job's to keep it apart from others under a demand charge's peak
    p, job = bump_and_spike(max_interruptions=2)
    flat = replace(p.grid, import_price_usd_per_mwh=np.full(N, 20.0))
    assert guided_interruptions(replace(p, grid=flat), job, (0, 24, 24), job.work_h, 2, False) == 2
    # with the spike: one kept for it, one left to the window
    assert guided_interruptions(p, job, (0, 24, 24), job.work_h, 2, False) == 1


def test_an_outage_after_the_window_keeps_an_interruption():
    p, job = bump_and_spike()
    flat = replace(p.grid, import_price_usd_per_mwh=np.full(N, 20.0))
    assert guided_interruptions(replace(p, grid=flat), job, (0, 24, 24), 40.0, 1, False) == 1
    cap = flat.import_max_mw.copy()
    cap[30:34] = 0.0  # the grid cannot carry the job's 10 MW there
    out = replace(p, grid=replace(flat, import_max_mw=cap))
    assert guided_interruptions(out, job, (0, 24, 24), 40.0, 1, False) == 0
    cap[30:34] = 10.0  # it can
    out = replace(p, grid=replace(flat, import_max_mw=cap))
    assert guided_interruptions(out, job, (0, 24, 24), 40.0, 1, False) == 1


def test_a_long_span_is_priced_in_blocks(monkeypatch):
    p, job = bump_and_spike(max_interruptions=2)
    fine = guided_interruptions(p, job, (0, 24, 24), job.work_h, 2, False)
    # 72 steps x 42 on-step counts x 4 start states; within 2,000: blocks of 3 h
    monkeypatch.setattr(guide_module, "MOST_DP_STATES", 2_000)
    dp = {"max_starts": 3, "free_starts": 1, "overhead_h": 0.0}
    b, _ = guide_module._block_steps(p.grid.import_price_usd_per_mwh, job, 1.0, 40.0, dp)
    assert b == 3
    assert guided_interruptions(p, job, (0, 24, 24), job.work_h, 2, False) == fine == 1


def test_blocks_sum_the_steps_and_scale_a_short_last_block():
    cost = np.arange(1.0, 8.0)  # 7 steps
    np.testing.assert_allclose(_blocks(cost, 3), [6.0, 15.0, 7.0 * 3])
    assert _blocks(cost, 1) is cost


def test_guided_windows_stop_for_the_spike_where_unguided_ones_spent_the_budget():
    p, _ = bump_and_spike()
    optimum = solve(p, OPTS).objective_usd
    runs = {}
    for rule in ("all", "guided"):
        o = replace(OPTS, window_restarts=rule)
        runs[rule] = solve_rolling(p, window_steps=24, options=o)
    on = runs["all"].series["job_train_mw"] > 1e-6
    assert on[list(SPIKE)].all()  # its one interruption went to the bump
    on = runs["guided"].series["job_train_mw"] > 1e-6
    assert not on[list(SPIKE)].any()
    # the first window still runs through some of the bump (30 USD/MWh over the rest)
    assert runs["guided"].objective_usd <= optimum + len(BUMP) * 10 * 30 + 1e-6
    assert runs["all"].objective_usd > optimum + len(SPIKE) * 10 * 1900
    assert [w["restart_guide"] for w in runs["guided"].windows] == [True] * 3


def test_a_window_infeasible_with_the_guide_is_solved_without_it():
    # an outage in hours 10-11 stops the job inside the first window, which the guide,
    # pricing the grid alone, does not foresee
    p, job = bump_and_spike()
    cap = p.grid.import_max_mw.copy()
    cap[10:12] = 0.0
    p = replace(p, grid=replace(p.grid, import_max_mw=cap))
    p = replace(p, facility=replace(p.facility, inference_it_mw=np.zeros(N)))
    assert guided_interruptions(p, job, (0, 24, 24), job.work_h, 1, False) == 0
    d = solve_rolling(p, window_steps=24, options=OPTS)
    assert d.windows[0]["restart_guide"] is False
    assert d.jobs["train"]["deadline_met"]
    on = d.series["job_train_mw"] > 1e-6
    assert not on[10:12].any()


def test_options_refuse_an_unknown_rule():
    with pytest.raises(ValueError, match="window_restarts"):
        SolverOptions(window_restarts="some")


def test_a_guessed_window_does_not_price_the_guide(monkeypatch):
    # with two threads a window not built ahead is built from a guessed state, of which
    # only the state is used (``carried_state.with_state_of``): the guide's DP there was
    # work thrown away, once more per window than one thread prices
    import optimize.window_state as window_state

    p, _ = bump_and_spike()
    calls = []
    priced = window_state.guided_interruptions

    def counted(*args):
        calls.append(args[2])
        return priced(*args)

    monkeypatch.setattr(window_state, "guided_interruptions", counted)
    runs = {}
    for threads in (1, 2):
        calls.clear()
        d = solve_rolling(p, window_steps=24, options=replace(OPTS, threads=threads))
        runs[threads] = (d.objective_usd, list(calls))
    assert runs[2][1] == runs[1][1]  # the job crosses every commit: nothing is predicted
    assert runs[2][0] == pytest.approx(runs[1][0])
