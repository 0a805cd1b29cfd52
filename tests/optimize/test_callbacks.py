"""``optimize.callbacks``: highspy's callback function is set on a ``Highs`` only while
something is subscribed (its copies in HiGHS's options each take Python's lock), and the
callbacks subscribed still run."""

from __future__ import annotations

import signal

import pyomo.environ as pyo
import pytest

from optimize.callbacks import subscribe, subscribed, unsubscribe
from optimize.highs import compile_model, make_highs
from optimize.solver_options import SolverOptions
from tests.optimize.small_problems import callback_function_set as _is_set


def _knapsack():
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(12), domain=pyo.Binary)
    weight = [23, 31, 29, 44, 53, 38, 63, 85, 89, 82, 47, 51]
    m.cap = pyo.Constraint(expr=sum(w * m.x[i] for i, w in enumerate(weight)) <= 165)
    m.obj = pyo.Objective(expr=-sum((w + i % 5) * m.x[i] for i, w in enumerate(weight)))
    cm = compile_model(m)
    h = make_highs(cm, SolverOptions(threads=1))
    h.setOptionValue("presolve", "off")
    return h


def test_a_new_highs_has_no_callback_function_until_one_is_subscribed():
    h = _knapsack()
    assert not _is_set(h)
    first, second = [], []

    def one(e):
        first.append(e.data_out.objective_function_value)

    def two(e):
        second.append(e.data_out.objective_function_value)

    subscribe(h, h.cbMipImprovingSolution, one)
    subscribe(h, h.cbMipImprovingSolution, two)
    assert _is_set(h)
    h.run()
    assert first and first == second
    unsubscribe(h, h.cbMipImprovingSolution, one)
    assert _is_set(h)  # ``two`` is still subscribed
    h.clearSolver()
    h.run()
    assert len(first) < len(second)
    unsubscribe(h, h.cbMipImprovingSolution, two)
    assert not _is_set(h)
    h.clearSolver()
    h.run()  # runs with nothing subscribed
    assert h.modelStatusToString(h.getModelStatus()) == "Optimal"


def test_subscribed_unsubscribes_on_leaving_even_after_an_error():
    h = _knapsack()
    seen = []

    def one(e):
        seen.append("improving")

    def two(e):
        seen.append("interrupt")

    pairs = (h.cbMipImprovingSolution, one), (h.cbMipInterrupt, two)
    with subscribed(h, *pairs):
        assert h.cbMipImprovingSolution.callbacks and h.cbMipInterrupt.callbacks
        h.run()
    assert {"improving", "interrupt"} <= set(seen)
    assert not h.cbMipImprovingSolution.callbacks and not h.cbMipInterrupt.callbacks
    assert not _is_set(h)
    with pytest.raises(RuntimeError), subscribed(h, *pairs):
        raise RuntimeError("in the block")
    assert not h.cbMipImprovingSolution.callbacks and not h.cbMipInterrupt.callbacks
    assert not _is_set(h)
    # a pair that fails to subscribe: the ones before it are unsubscribed again
    with pytest.raises(AttributeError), subscribed(h, pairs[0], (None, two)):
        pass
    assert not h.cbMipImprovingSolution.callbacks
    assert not _is_set(h)


def test_a_ctrl_c_in_any_callback_stops_highs_and_is_raised_on_leaving_the_block():
    """Python raises a Ctrl-C in whatever Python code runs next on the main thread: while
    HiGHS works, a callback. highspy turns an exception escaping a callback into HiGHS's
    "Solve error" and drops it, so a Pareto point's peak split once ran on to the end
    after a Ctrl-C and the command exited 0. The callback's block stops HiGHS and raises
    it instead, whichever callback it hit; the callbacks after it are not called."""
    h = _knapsack()
    calls = []

    def first(e):
        calls.append("first")
        raise KeyboardInterrupt

    def second(e):
        calls.append("second")

    pairs = (h.cbMipInterrupt, first), (h.cbMipInterrupt, second)
    with pytest.raises(KeyboardInterrupt), subscribed(h, *pairs):
        h.run()
    assert h.modelStatusToString(h.getModelStatus()) == "Interrupted by user"
    assert calls == ["first"]
    assert not h.cbMipInterrupt.callbacks and not _is_set(h)
    h.clearSolver()
    with subscribed(h, (h.cbMipInterrupt, second)):  # raised once, not at the next block
        h.run()


def test_a_sigint_while_highs_runs_stops_it_and_is_raised_on_leaving_the_block():
    """Python runs the SIGINT handler in the next Python code: while HiGHS works,
    highspy's callback dispatcher, outside any callback of ours. Its KeyboardInterrupt
    became HiGHS's "Solve error" and was lost, the run's status an error and nothing
    raised (R1's Pareto front ran on to the end after a Ctrl-C and exited 0). Within the
    block the signal is noted, HiGHS stopped at the next callback, and the Ctrl-C raised
    when the block ends; the handler is Python's again after it."""
    h = _knapsack()
    calls = []

    def ctrl_c(e):
        calls.append("called")
        if len(calls) == 1:
            signal.raise_signal(signal.SIGINT)

    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt), subscribed(h, (h.cbMipInterrupt, ctrl_c)):
        h.run()
    assert h.modelStatusToString(h.getModelStatus()) == "Interrupted by user"
    assert signal.getsignal(signal.SIGINT) is handler
    assert calls == ["called"]  # the signal's next callback stops HiGHS without it
    with subscribed(h, (h.cbMipInterrupt, lambda e: None)):  # raised once, not again
        h.clearSolver()
        h.run()
