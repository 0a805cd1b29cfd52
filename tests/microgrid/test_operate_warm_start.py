"""Each re-plan's MILP starts from the last plan's job schedule, shifted to its window
(microgrid/operate/warm_start.py), and the closed loop's results stay those of cold starts."""

from __future__ import annotations

import numpy as np
import pytest
from test_operate_audit import two_block_scenario

import optimize
from microgrid.operate import controller, simulate
from microgrid.operate.warm_start import shifted_start
from microgrid.scenario import Scenario
from optimize.problem import Job
from tests.optimize.small_problems import small_problem


def _dispatch(fractions: dict[str, list[float]]) -> optimize.Dispatch:
    """A dispatch with only its jobs' power fractions (what ``job_patterns`` reads)."""
    series = {f"job_{j}_power_fraction": np.asarray(f, dtype=float) for j, f in fractions.items()}
    return optimize.Dispatch("optimal", 0.0, 0.0, 0.0, 0.0, series=series)


def _window(n: int, *ids: str) -> optimize.Problem:
    return small_problem(n=n, jobs=tuple(Job(i, 1.0, 1.0, 0, n) for i in ids))


def test_the_start_is_the_old_schedule_from_the_new_windows_first_step():
    old = _dispatch({"a": [0, 1, 1, 0, 0.6, 1], "b": [1, 1, 0, 0, 0, 0], "done": [1] * 6})
    start = shifted_start(old, 2, _window(6, "a", "b"))
    assert set(start) == {"a", "b"}  # a job no longer in the window is dropped
    assert start["a"].dtype == bool and start["a"].shape == (6,)
    # steps 2.. of the old window, then off past its end
    assert start["a"].tolist() == [True, False, True, True, False, False]
    assert not start["b"].any()


def test_a_shorter_window_takes_its_own_length():
    # near the period's end the window shrinks: the start is cut to its steps
    start = shifted_start(_dispatch({"a": [1, 0, 1, 1, 0, 1]}), 1, _window(3, "a"))
    assert start["a"].tolist() == [False, True, True]


def test_no_start_before_a_plan_without_jobs_or_with_a_job_it_did_not_plan():
    old = _dispatch({"a": [1, 1, 1, 1]})
    assert shifted_start(None, 1, _window(4, "a")) is None
    assert shifted_start(old, 1, _window(4)) is None
    # a job that came into the look-ahead: no schedule for it, so none at all
    assert shifted_start(old, 1, _window(4, "a", "new")) is None


def _spied_run(monkeypatch, warm: bool):
    """The two-block case's closed loop; each solve's window and start are recorded."""
    calls = []
    real = optimize.solve

    def spy(problem, options=None, start_on=None):
        d = real(problem, options, start_on=start_on)
        calls.append((problem, start_on, d))
        return d

    monkeypatch.setattr(optimize, "solve", spy)
    if not warm:
        monkeypatch.setattr(controller, "shifted_start", lambda *_: None)
    sc = Scenario.model_validate(two_block_scenario())
    return simulate(sc), calls


def test_each_replan_starts_from_the_last_plans_schedule(monkeypatch):
    run, calls = _spied_run(monkeypatch, warm=True)
    every = 4  # two_block_scenario's replan_every_steps
    assert len(calls) >= 3 and calls[0][1] is None
    with_jobs = 0
    for (_, _, before), (window, start, _) in zip(calls, calls[1:], strict=False):
        if not window.jobs:  # the job is done: nothing to start from
            assert start is None
            continue
        with_jobs += 1
        assert set(start) == {j.id for j in window.jobs}
        for job_id, on in start.items():
            assert on.shape == (window.n_steps,)
            old = optimize.job_patterns(before)[job_id][every:]
            assert np.array_equal(on[: len(old)], old) and not on[len(old) :].any()
    assert with_jobs >= 2


def test_warm_starts_leave_the_closed_loops_results_as_cold_ones(monkeypatch):
    warm, _ = _spied_run(monkeypatch, warm=True)
    cold, _ = _spied_run(monkeypatch, warm=False)
    assert warm.jobs == cold.jobs
    frac = "job_train_power_fraction"
    assert np.array_equal(warm.actual[frac].to_numpy(), cold.actual[frac].to_numpy())
    for key, usd in cold.costs.items():
        assert warm.costs[key] == pytest.approx(usd, rel=1e-9, abs=1e-6), key
