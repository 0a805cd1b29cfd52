"""The next rolling window built on a second thread (optimize/window_prebuild.py): the
Prebuilder hands over a model only for the problem it predicted (but for the state), and a
pipelined rolling solve gives the answer of the same solve with every window built on the
solving thread, bit for bit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from optimize import Infeasible, rolling, solving, window_pipeline
from optimize.highs import new_highs
from optimize.problem import Job
from optimize.rolling import solve_rolling
from optimize.solver_options import SolverOptions
from optimize.window_prebuild import SWITCH_INTERVAL_S, Prebuilder, build_compiled
from optimize.window_state import Carried, JobState, predicted_carried, window_problem
from tests.optimize.small_problems import CURVE, small_problem
from tests.optimize.test_carried_state import (
    assert_highs_holds,
    assert_same_compiled,
    state_problem,
    with_state,
)

ROOT = Path(__file__).resolve().parents[2]
# a window ("day") of the pipelined solves, and its look-ahead
DAY = 16
LOOK_AHEAD = 4
ONE_THREAD = SolverOptions(threads=1)


@pytest.fixture(autouse=True)
def _pool_of_one_after():
    """Leave HiGHS's process-wide pool at one thread, as the other tests expect it."""
    yield
    new_highs(threads=1)


# a 24-step window (one job, a battery, a ramp limit from a net import, one demand
# charge) as predicted, with the state at the window before, and as it comes
BASE = state_problem(n=24)
PREDICTED = with_state(BASE, 0.5, 10.0, (0.0,))
REAL = with_state(BASE, 0.75, 13.0, (9.0,))


def test_take_hands_over_the_prediction_with_the_real_state():
    _, ref = build_compiled(REAL, 0.5)
    _, other = build_compiled(PREDICTED, 0.5)
    assert not np.array_equal(other.col_lower, ref.col_lower)  # the states differ
    with Prebuilder() as pre:
        pre.submit(1, PREDICTED, 0.5, ONE_THREAD)
        taken = pre.take(1, REAL, 0.5)
        assert taken is not None
        m, cm, h = taken
        assert m.problem is REAL
        assert_same_compiled(cm, ref)
        assert_highs_holds(h, ref)
        assert pre.take(1, REAL, 0.5) is None  # handed over once


def test_take_refuses_another_credit_fraction():
    with Prebuilder() as pre:
        pre.submit(1, PREDICTED, 0.5, ONE_THREAD)
        assert pre.take(1, REAL, 0.25) is None


def test_take_refuses_a_problem_that_differs_in_more_than_the_state():
    price = REAL.grid.import_price_usd_per_mwh.copy()
    price[7] += 1.0
    dearer = replace(REAL, grid=replace(REAL.grid, import_price_usd_per_mwh=price))
    longer = replace(REAL, jobs=(replace(REAL.jobs[0], work_h=REAL.jobs[0].work_h + 1.0),))
    with Prebuilder() as pre:
        for real in (dearer, longer):
            pre.submit(1, PREDICTED, 0.5, ONE_THREAD)
            assert pre.take(1, real, 0.5) is None


def _days(n_days: int):
    """``n_days`` windows of ``DAY`` steps with a battery, a ramp limit from a given net
    import and a demand charge per 36-step "month"; each day has a preemptible job released
    at its start and a non-preemptible one, both due before the day ends, so no job carries
    work across a commit and each next window is predicted (as B2's weeks)."""
    jobs = []
    for d in range(n_days):
        a = DAY * d
        jobs.append(
            Job(
                f"train@{d}",
                10.0,
                5.0,
                a,
                a + DAY - 2,
                max_interruptions=1,
                f_min=0.6,
                restart_overhead_h=0.5,
                throughput_curve=CURVE,
            )
        )
        jobs.append(
            Job(
                f"eval@{d}",
                4.0,
                3.0,
                a + 3,
                a + DAY - 4,
                preemptible=False,
                f_min=0.7,
                throughput_curve=CURVE,
            )
        )
    p = small_problem(n=DAY * n_days, jobs=tuple(jobs), ramp=8.0, demand=500.0)
    return replace(p, grid=replace(p.grid, initial_net_import_mw=10.0))


def test_the_prediction_leaves_the_carried_state_as_it_was():
    # the next window is predicted from the carried state with this window's jobs due
    # before its commit marked failed; the carried state itself keeps every job as it was
    p = _days(3)
    states = {j.id: JobState(j, float(j.work_h)) for j in p.jobs}
    carried = Carried(states, 0.5, None)
    before = {k: vars(v).copy() for k, v in states.items()}
    window_jobs = [j for j in p.jobs if j.id.endswith("@0")]
    after = predicted_carried(carried, window_jobs, 0, DAY)
    assert after is not None
    assert {k: vars(v) for k, v in carried.states.items()} == before
    assert carried.net_import is None
    predicted, _ = window_problem(p, after, DAY, 2 * DAY + LOOK_AHEAD)
    ids = {j.id for j in predicted.jobs}
    assert not ids & {j.id for j in window_jobs}  # failed: not in the window ahead
    assert {"train@1", "eval@1"} <= ids


def _rolling(p, threads: int, **kw):
    # the handover guide's own price-fix solves would be counted among the windows' (its
    # runs are the same whether a window was predicted or not: test_window_guide)
    options = SolverOptions(threads=threads, mip_rel_gap=1e-3, window_handover="fixed")
    return solve_rolling(p, window_steps=DAY, overlap_steps=LOOK_AHEAD, options=options, **kw)


def _solved_models(monkeypatch) -> list:
    """The compiled model of each window as its solve starts (``solve_compiled``), each
    checked to be what the ``Highs`` solving it holds, with the basis that ``Highs`` holds
    then (None where it holds none: a cold start)."""
    seen = []
    real = solving.solve_compiled

    def spy(h, cm, *args, **kwargs):
        assert_highs_holds(h, cm)
        basis = h.getBasis()
        statuses = (list(basis.col_status), list(basis.row_status)) if basis.valid else None
        seen.append((cm, statuses))
        return real(h, cm, *args, **kwargs)

    monkeypatch.setattr(solving, "solve_compiled", spy)
    return seen


def _assert_the_solve_without_the_prediction(monkeypatch, p, built_ahead: list[bool]):
    """``p``'s pipelined rolling solve builds ahead the windows ``built_ahead`` marks and
    gives the answer of the same solve with no window predicted, bit for bit."""
    models = _solved_models(monkeypatch)
    pipelined = _rolling(p, threads=2)
    pipelined_models = list(models)
    models.clear()
    monkeypatch.setattr(window_pipeline, "predicted_carried", lambda *args: None)
    alone = _rolling(p, threads=2)
    # each window's model is the same, built ahead or not, and its first LP starts from
    # the same basis: none for the first window, the LP's at a guessed state for the next
    # ones (optimize.window_pipeline)
    assert len(pipelined_models) == len(models) == len(built_ahead)
    for (cm, basis), (ref, ref_basis) in zip(pipelined_models, models, strict=True):
        assert_same_compiled(cm, ref)
        assert basis == ref_basis
    assert [basis is not None for _, basis in models] == [False] + [True] * (len(models) - 1)
    assert [w["prebuilt"] for w in pipelined.windows] == built_ahead
    assert not any(w["prebuilt"] for w in alone.windows)
    assert pipelined.series.keys() == alone.series.keys()
    for key, x in pipelined.series.items():
        assert np.array_equal(x, alone.series[key]), key
    assert pipelined.objective_usd == alone.objective_usd
    assert pipelined.costs == alone.costs
    assert pipelined.jobs == alone.jobs
    for w, v in zip(pipelined.windows, alone.windows, strict=True):
        for key in ("objective_usd", "bound_usd", "mip_gap", "status"):
            assert w[key] == v[key], (w["window"], key)


def test_the_pipelined_solve_is_the_solve_without_the_prediction(monkeypatch):
    # the first window has nothing built ahead; each next one was predicted
    _assert_the_solve_without_the_prediction(monkeypatch, _days(3), [False, True, True])


def test_a_window_predicted_one_ahead_starts_from_the_state_two_back(monkeypatch):
    # a job of the first day is due in the second: the second window is not predicted,
    # and the third only once the second starts (one window ahead, not two). Its LP is
    # guessed at the state the first window started from all the same
    p = _days(4)
    span = Job("span", 6.0, 3.0, 4, DAY + 8, f_min=0.6, throughput_curve=CURVE)
    p = replace(p, jobs=(*p.jobs, span))
    _assert_the_solve_without_the_prediction(monkeypatch, p, [False, False, True, True])


class _NoPrebuilder:
    def __init__(self) -> None:
        raise AssertionError("a Prebuilder was made")


def test_one_thread_builds_every_window_where_it_solves(monkeypatch):
    monkeypatch.setattr(rolling, "Prebuilder", _NoPrebuilder)
    seen = []
    d = _rolling(_days(2), threads=1, on_window=lambda w: seen.append(sys.getswitchinterval()))
    assert [w["prebuilt"] for w in d.windows] == [False, False]
    assert seen == [sys.getswitchinterval()] * 2


def test_the_switch_interval_is_short_while_pipelining_and_restored_after():
    before = sys.getswitchinterval()
    assert before > SWITCH_INTERVAL_S  # Python's default, 5 ms
    seen = []
    _rolling(_days(2), threads=2, on_window=lambda w: seen.append(sys.getswitchinterval()))
    assert seen == [SWITCH_INTERVAL_S] * 2
    assert sys.getswitchinterval() == before


def test_the_switch_interval_is_restored_when_a_window_raises():
    # the second window's job needs 10 h in 6 steps
    p = small_problem(jobs=(Job("b", 5.0, 10.0, 30, 36),))
    p = replace(p, grid=replace(p.grid, initial_net_import_mw=10.0))
    before = sys.getswitchinterval()
    with pytest.raises(Infeasible):
        solve_rolling(p, window_steps=24, options=SolverOptions(threads=2))
    assert sys.getswitchinterval() == before


# a fresh process (the compiler never used) with a rolling solve of two windows on two
# threads; ``warm``: the compiler is used on the main thread first. scipy.sparse, which
# the compiler imports on its first use, takes a second to import (a cold disk), so that
# whichever thread compiles first is still setting the compiler up when the other comes
_FRESH_PROCESS = """
import importlib.abc, json, sys, time
from dataclasses import replace

class SlowScipySparse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "scipy.sparse":
            time.sleep(1.0)
        return None

sys.meta_path.insert(0, SlowScipySparse())
from optimize.problem import Job
from optimize.solver_options import SolverOptions
from optimize.rolling import solve_rolling
from tests.optimize.small_problems import CURVE, small_problem

if sys.argv[1] == "warm":
    from optimize.highs import compile_model
    from optimize.model import build_model
    compile_model(build_model(small_problem(n=2, battery=False)))
jobs = (
    Job("j0", 8.0, 6.0, 0, 28, f_min=0.6, throughput_curve=CURVE),
    Job("j1", 8.0, 2.0, 32, 40, f_min=0.6, throughput_curve=CURVE),
)
p = small_problem(n=40, jobs=jobs, ramp=8.0, demand=500.0)
p = replace(p, grid=replace(p.grid, initial_net_import_mw=10.0))
# the second window is the smaller: the worker builds it before the first is built
d = solve_rolling(p, window_steps=8, boundaries=[0, 32], options=SolverOptions(threads=2))
print(json.dumps([w["prebuilt"] for w in d.windows]))
"""


def _fresh_process(mode: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS, mode],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow  # a fresh interpreter importing the package, and a 1 s import
def test_a_fresh_process_pipelines_once_the_compiler_is_set_up():
    # the harness of the test below: with the compiler used first on the main thread, the
    # fresh process solves and builds its second window ahead
    run = _fresh_process("warm")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == [False, True]


@pytest.mark.slow
def test_a_fresh_process_pipelines_its_first_windows():
    # the compiler is set up on the solving thread before the worker compiles
    # (optimize.highs.prepare_compiler); without it the second thread to compile found
    # the compiler's array hooks half set: TypeError "'NoneType' object is not callable"
    run = _fresh_process("cold")
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout) == [False, True]
