"""A step of the chain beside another (optimize/steps_beside.py): the same answer whichever
thread runs it, run by the caller where no thread has begun it, stopped when dropped, and
a two-thread solve whose steps run beside each other is the same twice."""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import replace

import highspy
import numpy as np
import pytest

from optimize.callbacks import subscribed
from optimize.highs import compile_model, make_highs, new_highs, run_highs, second_highs
from optimize.model import build_model
from optimize.solver_options import SolverOptions
from optimize.solving import solve
from optimize.start_probe import ProbeIncumbents
from optimize.steps_beside import Beside
from tests.optimize.small_problems import assert_same_dispatch, random_day

OPTS = SolverOptions(threads=1, mip_rel_gap=1e-4)


@pytest.fixture(autouse=True)
def _pool_of_one_after():
    """Leave HiGHS's process-wide pool at one thread, as the other tests expect it."""
    yield
    new_highs(threads=1)


@functools.cache
def _case():
    m = build_model(random_day(3, demand=3000.0))
    cm = compile_model(m)
    return cm, make_highs(cm, OPTS)


def _milp(cm, ran_on: list, other, begun: threading.Event | None = None):
    """The step of these tests: the model's MILP on ``other`` (its objective and column
    values); notes the thread that ran it, and sets ``begun`` as it begins."""
    ran_on.append(threading.current_thread().name)
    if begun is not None:
        begun.set()
    res = run_highs(other, True, cm)
    return res.objective, np.asarray(other.getSolution().col_value)


def _now() -> None:
    return None


def test_the_step_gives_the_same_answer_on_its_thread_and_on_the_callers():
    cm, h = _case()
    ref = _milp(cm, [], second_highs(h, cm))
    ran_on: list[str] = []
    begun = threading.Event()
    step = functools.partial(_milp, cm, ran_on, begun=begun)
    with Beside(h, cm, step, "beside", _now) as beside:
        assert begun.wait(10.0)  # the thread is free at once and begins the step
        on_thread, _ = beside.answer()
    held = threading.Event()  # the thread is not free before the caller asks
    with Beside(h, cm, functools.partial(_milp, cm, ran_on), "beside", held.wait) as beside:
        by_caller, _ = beside.answer()
    held.set()
    assert ran_on == ["beside", threading.current_thread().name]
    for objective, values in (on_thread, by_caller):
        assert objective == ref[0]
        assert np.array_equal(values, ref[1])


def test_a_step_dropped_before_its_thread_is_free_never_runs():
    cm, h = _case()
    ran_on: list[str] = []
    held = threading.Event()
    beside = Beside(h, cm, functools.partial(_milp, cm, ran_on), "beside", held.wait)
    assert beside.drop() < 1.0
    held.set()
    beside._call.wait()
    assert ran_on == []


def test_a_dropped_step_stops_at_its_next_interrupt_check():
    cm, h = _case()
    started, statuses = threading.Event(), []

    def held_milp(other):  # its MILP waits at its first interrupt check until dropped
        def hold(e) -> None:
            if not started.is_set():
                started.set()
                time.sleep(0.5)

        with subscribed(other, (other.cbMipInterrupt, hold)):
            run_highs(other, True, cm)
        statuses.append(other.getModelStatus())

    beside = Beside(h, cm, held_milp, "beside", _now)
    assert started.wait(10.0)
    beside.drop()
    assert statuses == [highspy.HighsModelStatus.kInterrupt]


def test_an_error_in_the_step_is_raised_where_its_answer_is_asked():
    cm, h = _case()

    def broken(other):
        raise ValueError("the step broke")

    with Beside(h, cm, broken, "beside", _now) as beside:
        time.sleep(0.1)
        with pytest.raises(ValueError, match="the step broke"):
            beside.answer()


def test_a_block_left_by_an_error_drops_the_step():
    cm, h = _case()
    ran_on: list[str] = []
    held = threading.Event()
    with (
        pytest.raises(RuntimeError),
        Beside(h, cm, functools.partial(_milp, cm, ran_on), "beside", held.wait) as beside,
    ):
        raise RuntimeError("the caller's step broke")
    held.set()
    beside._call.wait()
    assert ran_on == []


def _names_of_steps_beside(monkeypatch) -> list[str]:
    """The names of the ``Beside`` steps made from here on, in order (a list that grows)."""
    made: list[str] = []
    init = Beside.__init__

    def counted(self, h, cm, step, name, free):
        made.append(name)
        init(self, h, cm, step, name, free)

    monkeypatch.setattr(Beside, "__init__", counted)
    return made


def test_a_two_thread_solve_with_its_steps_beside_is_the_same_twice(monkeypatch):
    made = _names_of_steps_beside(monkeypatch)
    problem = random_day(3, demand=3000.0)
    options = replace(OPTS, threads=2, method="milp")
    first = solve(problem, options)
    met = list(made)
    assert met  # the chain met the steps beside
    second = solve(problem, options)
    assert made == met + met
    assert_same_dispatch(first, second)


def test_without_a_second_restart_the_plain_search_runs_beside_the_rounds(monkeypatch):
    """Seed 0 at 30 USD/MW: the demand charge is too small a part of the bill for a second
    restart. With two threads the first restart's plain edge search runs beside its rounds,
    and the incumbents' probe, whose search state the rounds carry on, is asked only on the
    caller's thread; the answer is the same twice."""
    made, probed_on = _names_of_steps_beside(monkeypatch), set()
    probe = ProbeIncumbents.__call__

    def recorded(self, objective, basis_usd):
        probed_on.add(threading.current_thread().name)
        return probe(self, objective, basis_usd)

    monkeypatch.setattr(ProbeIncumbents, "__call__", recorded)
    options = replace(OPTS, threads=2, method="milp")
    first = solve(random_day(0, demand=30.0), options)
    assert made == ["edge-search"]
    assert probed_on <= {threading.main_thread().name}
    assert_same_dispatch(first, solve(random_day(0, demand=30.0), options))
