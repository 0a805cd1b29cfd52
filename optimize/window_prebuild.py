"""Rolling windows built on a second thread while an earlier one solves.

A window's model can be built and compiled before the windows ahead of it are solved
when its problem is known up to the carried state: within
``optimize.carried_state.state_columns()`` the state is a few column bounds, given
afterwards (``apply_state``). ``optimize.window_pipeline`` predicts a window's problem
where no job can carry work across the commits before it, at a guessed state, and hands
it to a ``Prebuilder``, which builds it and solves its LP relaxation at that state
(``build_guessed``). When the window comes, ``take`` returns the model, its compiled
arrays and the ``Highs`` holding them (with that LP's basis) if the real problem is the
prediction but for the state (with the real state applied), else None, and the pipeline
builds the window the same way on the solving thread. Either way the window's compiled
arrays and its first basis are the same (``tests/optimize/test_window_prebuild.py``
compares them), so its answer depends neither on the prediction nor on the timing.

Why a thread pays: HiGHS releases Python's lock (the GIL) while it runs, so the build
(all Python) runs on the other core during the window's LPs and MILPs. The lock's switch
interval is shortened while a ``Prebuilder`` is open (``SWITCH_INTERVAL_S``): the solving
thread wakes from every HiGHS run needing the lock back, and at Python's default 5 ms it
waited for the builder after each of a window's dozens of short LPs (B2: 37.2 s
sequential, 34.9 s with the build on a thread at 5 ms, 33.2 s at 0.5 ms;
docs/model_jobs_history.md).
"""

from __future__ import annotations

import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import highspy
import pyomo.environ as pyo

from optimize.carried_state import apply_state, same_but_state, state_columns
from optimize.facility import it_capacity_rows
from optimize.highs import (
    CompiledModel,
    compile_model,
    configured_highs,
    pass_model,
    prepare_compiler,
    set_integrality,
)
from optimize.jobs import horizon_credit
from optimize.model import build_model
from optimize.problem import Problem
from optimize.ranges import check_ranges
from optimize.solver_options import SolverOptions

SWITCH_INTERVAL_S = 5e-4


def build_compiled(
    problem: Problem, credit_fraction: float, h: highspy.Highs | None = None
) -> tuple[pyo.ConcreteModel, CompiledModel]:
    """Build ``problem`` with the carried state in columns and the window's horizon credit
    (``optimize.jobs.horizon_credit``), and compile it; with ``h`` (an empty, configured
    ``Highs``: ``optimize.highs.configured_highs``) pass the model to it too."""
    # no IT capacity rows, as ``solve_model``'s first round has: it adds them where needed
    with state_columns(), horizon_credit(credit_fraction), it_capacity_rows(()):
        m = build_model(problem)
    cm = compile_model(m)
    if h is not None:
        check_ranges(cm)
        pass_model(h, cm)
    # the lookups price-fix builds on first use, built here off the solving thread
    cm.column_index()
    cm.row_components  # noqa: B018 - a cached property, computed here
    return m, cm


def build_guessed(
    problem: Problem, credit_fraction: float, h: highspy.Highs
) -> tuple[pyo.ConcreteModel, CompiledModel]:
    """``build_compiled`` with ``h``, then the LP relaxation solved at ``problem``'s state
    (a guess: an earlier window's), whose optimal basis ``h`` keeps: once the window's own
    state is set (``apply_state``), its first LP starts there, mostly a few simplex
    iterations from its optimum instead of a cold solve (module docstring)."""
    m, cm = build_compiled(problem, credit_fraction, h)
    icols = cm.integer_columns()
    set_integrality(h, icols, False)
    h.run()
    set_integrality(h, icols, True)
    return m, cm


# open Prebuilders (solves on several threads of one process) and the interval before the
# first: the last to close restores it
_OPEN = [0, 0.0]
_OPEN_LOCK = threading.Lock()


def _short_switch_interval(enter: bool) -> None:
    """Shorten Python's switch interval while any ``Prebuilder`` is open."""
    with _OPEN_LOCK:
        if enter:
            if _OPEN[0] == 0:
                _OPEN[1] = sys.getswitchinterval()
                sys.setswitchinterval(min(_OPEN[1], SWITCH_INTERVAL_S))
            _OPEN[0] += 1
        else:
            _OPEN[0] -= 1
            if _OPEN[0] == 0:
                sys.setswitchinterval(_OPEN[1])


class Prebuilder:
    """One window built ahead on a worker thread (module docstring). A context manager:
    on exit the worker stops after the build it may be running, and the switch interval is
    restored."""

    def __init__(self) -> None:
        prepare_compiler()  # before a second thread compiles
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="window-prebuild")
        # window -> (its predicted problem, credit fraction, Highs, build)
        self._pending: dict[int, tuple[Problem, float, highspy.Highs, Future]] = {}

    def __enter__(self) -> Prebuilder:
        _short_switch_interval(True)
        return self

    def __exit__(self, *exc) -> None:
        self.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)
        _short_switch_interval(False)

    def pending(self, window: int) -> bool:
        """Whether a build of ``window`` waits to be taken."""
        return window in self._pending

    def submit(
        self, window: int, problem: Problem, credit_fraction: float, options: SolverOptions
    ) -> None:
        """Start building ``problem`` (window ``window``'s prediction, at a guessed state)
        in the background, passing it to a ``Highs`` with ``options`` and solving its LP
        relaxation there (``build_guessed``); builds run in the order submitted. It
        replaces a build of the same window pending, if any."""
        if window in self._pending:
            self._pending[window][3].cancel()
        h = configured_highs(options)  # here: HiGHS's constructor is muted on this thread
        future = self._pool.submit(build_guessed, problem, credit_fraction, h)
        self._pending[window] = (problem, credit_fraction, h, future)

    def clear(self) -> None:
        """Drop every pending build (a backtrack: the predictions no longer hold)."""
        for *_, future in self._pending.values():
            future.cancel()
        self._pending.clear()

    def take(
        self, window: int, problem: Problem, credit_fraction: float
    ) -> tuple[pyo.ConcreteModel, CompiledModel, highspy.Highs] | None:
        """Window ``window``'s pending build (model, compiled arrays, ``Highs`` holding
        them), given the state of ``problem``, if ``problem`` is its prediction but for
        the state and the horizon credit is the same; else None."""
        pending = self._pending.pop(window, None)
        if pending is None:
            return None
        predicted, fraction, h, future = pending
        if fraction != credit_fraction or not same_but_state(predicted, problem):
            future.cancel()
            return None
        try:
            m, cm = future.result()
        except Exception:  # noqa: BLE001 - built again on this thread, where it raises in context
            return None
        apply_state(m, cm, problem, h)
        return m, cm, h
