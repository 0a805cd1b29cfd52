"""The handover guide of rolling windows (``optimize.window_guide``): the work a job may
leave for later and the battery's SOC at a window's end, from price-fix's schedule of the
rest."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from benchmarks.random_cases import small_battery
from optimize import rolling, window_pipeline
from optimize.jobs import horizon_credit
from optimize.model import build_model
from optimize.problem import Job
from optimize.rolling import _Rules, solve_rolling
from optimize.solver_options import SolverOptions
from optimize.solving import solve
from optimize.window_guide import (
    Handover,
    _left_h,
    _owed_h,
    guide_end,
    guided_jobs,
    with_handover,
)
from tests.optimize.small_problems import assert_same_dispatch, grid_problem, small_problem

OPTS = SolverOptions(mip_rel_gap=1e-6)
FIXED = replace(OPTS, window_handover="fixed")
N = 72


def three_days(price_by_day, job: Job | None, battery=None):
    """72 h of 1 MW fixed load at one import price per day, and ``job``."""
    price = np.repeat(np.asarray(price_by_day, dtype=float), 24)
    p = grid_problem(np.ones(N), price, battery=battery)
    return replace(p, jobs=() if job is None else (job,))


def test_a_window_leaves_the_work_the_cheap_day_after_it_can_do():
    # 30 h of work due at the end; day 2 is dear, day 3 cheap. The fixed rule has day 1
    # do 30 - 0.5 * 48 = 6 h, and day 2 half of what is left (12 h at 200 USD/MWh);
    # the guide has day 2 leave all of it to day 3, as one solve does
    p = three_days([50.0, 200.0, 10.0], Job("train", 10.0, 30.0, 0, N))
    optimum = solve(p, OPTS).objective_usd
    fixed = solve_rolling(p, window_steps=24, options=FIXED)
    guided = solve_rolling(p, window_steps=24, options=OPTS)
    assert guided.objective_usd == pytest.approx(optimum, rel=1e-6)
    assert fixed.objective_usd > optimum + 10_000
    assert [w["handover_guide"] for w in guided.windows] == [True, True, False]
    assert [w["handover_guide"] for w in fixed.windows] == [False] * 3
    assert all(w["guide_s"] > 0 for w in guided.windows[:2])
    assert guided.jobs["train"]["deadline_met"]


def test_a_window_ends_with_the_charge_the_spike_after_it_needs():
    # a 4 h spike at the start of day 2, a small job due at the end (so the guide is
    # solved): the fixed rule ends day 1 at the battery's 50 % target, the guide full
    price = np.full(N, 20.0)
    price[24:28] = 1000.0
    p = grid_problem(np.full(N, 4.0), price, battery=small_battery())
    p = replace(p, jobs=(Job("small", 1.0, 2.0, 0, N),))
    fixed = solve_rolling(p, window_steps=24, options=FIXED)
    guided = solve_rolling(p, window_steps=24, options=OPTS)
    soc_max_mwh = 0.9 * 20.0
    assert fixed.series["battery_soc_mwh"][23] == pytest.approx(10.0, abs=1e-6)
    assert guided.series["battery_soc_mwh"][23] == pytest.approx(soc_max_mwh, abs=1e-4)
    assert guided.objective_usd < fixed.objective_usd - 1_000
    # the last window keeps the period's own final SOC
    assert guided.series["battery_soc_mwh"][-1] >= 10.0 - 1e-6


def test_a_window_without_a_schedule_under_the_guide_is_solved_without_it(monkeypatch):
    p = three_days([50.0, 200.0, 10.0], Job("train", 10.0, 30.0, 0, N), small_battery())

    def unreachable(problem, carried, window, jobs, options, fraction):
        # a full battery at the first window's end: above its 90 % ceiling
        return Handover({}, 1.0, 0.0) if window[0] == 0 else None

    monkeypatch.setattr(rolling, "handover_guide", unreachable)
    d = solve_rolling(p, window_steps=24, options=OPTS)
    assert d.windows[0]["handover_guide"] is False
    assert d.windows[0]["restart_guide"] is True  # the restart guide is kept
    assert d.jobs["train"]["deadline_met"]


@pytest.mark.parametrize(
    ("on", "running", "owed_h"),
    [
        ([1, 1, 0, 0, 1, 1], False, 4.0 - 0.5),  # two starts, the first free
        ([1, 1, 0, 0, 1, 1], True, 4.0 - 0.5),  # running on, one restart
        ([0, 1, 1, 0, 1, 0], True, 3.0 - 1.0),  # stopped at once: two restarts
        ([0, 0, 0, 0, 0, 0], False, 0.0),
        ([0, 0, 1, 1, 1, 1], False, 4.0),
    ],
)
def test_the_guides_work_in_a_window_is_counted_as_the_model_counts_it(on, running, owed_h):
    job = Job("j", 10.0, 9.0, 0, 12, restart_overhead_h=0.5, running_at_start=running)
    series = {"job_j_power_fraction": np.array(on + [1.0] * 6, dtype=float)}
    assert _owed_h(job, series, 6, 1.0) == pytest.approx(owed_h)


def test_only_jobs_the_window_commits_and_leaves_work_of_are_guided():
    a, c, e = 24, 48, 60  # steps from a: commit end 24, model end 36
    jobs = [
        Job("due_after", 1.0, 5.0, 0, 50),
        Job("due_inside", 1.0, 5.0, 0, 30),
        Job("in_look_ahead", 1.0, 5.0, 24, 50),  # released at the commit end
        Job("non_preemptible", 1.0, 5.0, 0, 50, preemptible=False),
        Job("done", 1.0, 0.0, 0, 50),
    ]
    assert [j.id for j in guided_jobs(jobs, a, c, e)] == ["due_after"]
    # to the latest deadline, and at least a window's length past the model end
    assert guide_end(jobs[:1], (a, c, e), 1_000) == 84
    assert guide_end([Job("x", 1.0, 5.0, 0, 40)], (a, c, e), 1_000) == 84
    assert guide_end([Job("x", 1.0, 5.0, 0, 100)], (a, c, e), 1_000) == 124
    assert guide_end([Job("x", 1.0, 5.0, 0, 100)], (a, c, e), 90) == 90


def test_backtracking_scales_the_guides_credits_with_the_fraction():
    rules = _Rules.of(3, 0.5, OPTS)
    assert rules.credit_scale(0) == 1.0
    rules.fractions[0] = 0.25
    assert rules.credit_scale(0) == 0.5
    assert _Rules.of(3, 0.0, OPTS).credit_scale(0) == 0.0
    p = small_problem(jobs=(Job("a", 1.0, 8.0, 0, 40), Job("b", 1.0, 8.0, 0, 40)))
    sub, jobs = with_handover(p, list(p.jobs), Handover({"a": 6.0}, 0.3, 0.0), 0.5)
    assert [j.credit_h for j in jobs] == [3.0, None]
    assert sub.jobs == tuple(jobs)
    assert sub.battery.soc_final_frac == 0.3


def test_a_jobs_credit_replaces_the_fraction_of_its_hours_after_the_horizon():
    job = Job("a", 1.0, 20.0, 0, 40)
    p = small_problem(n=24, jobs=(job,))

    def required(j: Job, fraction: float) -> float:
        with horizon_credit(fraction):
            m = build_model(replace(p, jobs=(j,)))
        return m.job_work_required_h["a"].value

    assert required(job, 0.5) == pytest.approx(20.0 - 0.5 * 16)
    assert required(replace(job, credit_h=15.0), 0.5) == pytest.approx(5.0)
    assert required(replace(job, credit_h=0.0), 0.5) == pytest.approx(20.0)
    assert required(replace(job, credit_h=15.0), 0.0) == pytest.approx(20.0)  # no credit
    with pytest.raises(ValueError, match="credit_h"):
        Job("a", 1.0, 20.0, 0, 40, credit_h=-1.0)


def test_guided_windows_give_the_same_answer_built_ahead_or_not(monkeypatch):
    jobs = (Job("a", 6.0, 20.0, 0, N), Job("b", 4.0, 10.0, 30, 60))
    p = replace(small_problem(n=N, jobs=jobs), jobs=jobs)
    options = replace(OPTS, threads=2, mip_rel_gap=1e-3)
    first = solve_rolling(p, window_steps=24, overlap_steps=6, options=options)
    again = solve_rolling(p, window_steps=24, overlap_steps=6, options=options)
    monkeypatch.setattr(window_pipeline, "predicted_carried", lambda *args: None)
    alone = solve_rolling(p, window_steps=24, overlap_steps=6, options=options)
    assert any(w["handover_guide"] for w in first.windows)
    assert_same_dispatch(first, again)
    assert_same_dispatch(first, alone)


def test_a_window_that_stops_a_job_its_guide_runs_on_pays_the_restart():
    # 10 h of a 10 MW job due at step 30, one interruption of 2 h: the guide runs it over
    # steps 20-29, across the first window's end. The window owes the guide's 4 h, which
    # steps 0-3 do cheaper than 20-23; stopped there, the job's restart leaves the next
    # window 6 + 2 h for its 6 steps (infeasible: backtracking, 9,442 USD). Stopping
    # before the window's end costs the restart's overhead in the window itself
    price = np.full(48, 80.0)
    price[0:6], price[20:24], price[24:30] = 45.0, 50.0, 52.0
    job = Job("train", 10.0, 10.0, 0, 30, max_interruptions=1, restart_overhead_h=2.0)
    p = replace(grid_problem(np.ones(48), price), jobs=(job,))
    optimum = solve(p, OPTS).objective_usd
    d = solve_rolling(p, window_steps=24, options=OPTS)
    assert [w["carry_fraction"] for w in d.windows] == [0.5, 0.5]  # no backtracking
    assert d.objective_usd == pytest.approx(optimum, rel=1e-6)
    on = np.flatnonzero(d.series["job_train_power_fraction"] > 0.5)
    assert on.tolist() == list(range(20, 30))


@pytest.mark.parametrize(
    ("on", "credit_h", "credit_on_h"),
    [
        ([0, 0, 1, 1], 6.0 - 2.0, 2.0),  # runs on past the window: the restart's overhead
        ([1, 1, 0, 0], 6.0, 0.0),  # stopped: its restart is the guide's own
        ([0, 1, 1, 1], 0.0, 1.0),  # left less than the overhead: all of it if it runs on
    ],
)
def test_a_guide_that_runs_a_job_on_credits_its_restart_only_if_the_window_does(
    on, credit_h, credit_on_h
):
    job = Job("j", 10.0, 8.0 if sum(on) == 2 else 4.0, 0, 12, restart_overhead_h=2.0)
    series = {"job_j_power_fraction": np.array(on + [1.0] * 8, dtype=float)}
    assert _left_h(job, series, 4, 1.0) == (pytest.approx(credit_h), pytest.approx(credit_on_h))


def test_a_jobs_credit_on_is_credited_if_it_runs_at_the_horizon_end():
    job = Job("a", 1.0, 20.0, 0, 40, credit_h=10.0, credit_on_h=2.0)
    p = small_problem(n=24, jobs=(job,))
    with horizon_credit(0.5):
        m = build_model(p)
    assert m.job_work_required_h["a"].value == pytest.approx(10.0)
    assert m.job_tail_credit_h == {"a": 2.0}
    with pytest.raises(ValueError, match="credit_on_h"):
        Job("a", 1.0, 20.0, 0, 40, credit_on_h=-1.0)
